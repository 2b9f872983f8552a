import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { ENVIRONMENT_THREAD } from '../../modules/cloud_platform/platform-environment.thread.js';
import { INSTANCE_THREAD } from '../../modules/dead_mans_switch_server/instance.thread.js';
import { I18nService } from '../../src/i18n/i18n.service.js';
import { ThreadRegistry } from '../../src/mail/chatter/thread-registry.js';
import { notificationTracking } from '../../src/mail/notifications/notification-text.js';
import { PROJECT_ROOT } from '../../src/paths.js';

const LANGS = ['en', 'fr', 'de', 'nl'];
const OTHERS = LANGS.slice(1);

type Tree = { [key: string]: string | Tree };
function flatten(prefix: string, tree: Tree, into: Map<string, string>): Map<string, string> {
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === 'string') into.set(`${prefix}${key}`, value);
    else flatten(`${prefix}${key}.`, value, into);
  }
  return into;
}

/** Every catalog file of a language (core's `i18n/` and each addon's), flattened to `<namespace>.<key>`. */
function catalog(lang: string): Map<string, string> {
  const modules = join(PROJECT_ROOT, 'modules');
  const roots = [
    join(PROJECT_ROOT, 'i18n'),
    ...readdirSync(modules)
      .map((addon) => join(modules, addon, 'i18n'))
      .filter((dir) => existsSync(dir)),
  ];
  const flat = new Map<string, string>();
  for (const dir of roots.map((root) => join(root, lang)).filter((dir) => existsSync(dir)))
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')))
      flatten(`${file.slice(0, -5)}.`, JSON.parse(readFileSync(join(dir, file), 'utf8')) as Tree, flat);
  return flat;
}
const catalogs = new Map(LANGS.map((lang) => [lang, catalog(lang)]));
const en = catalogs.get('en')!;

// A language's own plural and ordinal categories: English has 1st/2nd/3rd, German only 2.; not a missing key.
const PER_LANGUAGE = /^core\.format\.(ordinal|duration\.\w+)\.(zero|one|two|few|many)$/;

/**
 * Texts that read the same in English and in that language (words both share, proper nouns, codes). Any other text
 * identical to the English one is English left in a translation.
 */
const SAME_AS_ENGLISH: Record<string, string[]> = {
  fr: [
    'Active',
    'Actions',
    'Administration',
    'Configuration',
    'Configurations',
    'Contacts',
    'Description',
    'Discussion',
    'Discussions',
    'E-mail',
    'Cause',
    'Incident',
    'Incidents',
    'Instance',
    'Instances',
    'Instance {{id}}',
    'Maintenance',
    'Message',
    'Messages',
    'Note',
    'Notifications',
    'rotation',
    'Version',
  ],
  de: [
    'Backup',
    'Backups',
    'Details',
    'Host',
    'Name',
    'Server',
    'Status',
    'Version',
    // Month names German writes as English does.
    'April',
    'August',
    'September',
    'November',
  ],
  nl: [
    'Conflict',
    'Database',
    'E-mail',
    'Host',
    'Inbox',
    'Incident',
    'Incident #{{id}}',
    'Server',
    'Status',
    '{{what}} over {{range}}',
  ],
};

/** Placeholders and formats (`{{name}}`, `{{n, ordinal}}`), codes, URLs and names that stay as they are. */
const untranslatable = (value: string) =>
  value
    .replace(/\{\{[^}]*\}\}/g, '')
    .replace(/\b(ok|CPU|RAM|URL|http|ssh|STATUS|MESSAGE|Webhook|Slack|Microsoft Teams|Pushover|ntfy)\b/g, '')
    .replace(/English|Français|Deutsch|Nederlands/g, '')
    .replace(/[^\p{L}]/gu, '') === '';

/**
 * One term per concept, chosen for each language: the words a translation must not use (English left over, or a
 * rejected synonym) and the chosen term the alerts use.
 */
const TERMS: Record<string, { rejected: RegExp; chosen: string }> = {
  fr: {
    rejected: /homme mort|dead man|check-?in|heartbeat|signal de vie|follower/i,
    chosen: 'surveillance de présence',
  },
  de: {
    rejected: /totmann|dead[ -]man|check-?in|heartbeat|Lebensmeldung/i,
    chosen: 'Lebenszeichen-Überwachung',
  },
  nl: { rejected: /dodemans|dead man|check-?in|heartbeat|follower/i, chosen: 'levenstekenbewaking' },
};

const placeholders = (value: string) =>
  [...value.matchAll(/\{\{\s*(\w+)\s*(?:,\s*(\w+)\s*)?\}\}/g)].map((m) => `${m[1]},${m[2] ?? ''}`).sort();

/** `{{t "key"` and `(t "key"` in every handlebars template of core and the addons. */
function templateKeys(): { file: string; key: string }[] {
  const found: { file: string; key: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (entry === 'node_modules' || entry === 'dist') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.hbs'))
        for (const m of readFileSync(path, 'utf8').matchAll(/[{(]t "([\w.]+)"/g))
          found.push({ file: relative(PROJECT_ROOT, path), key: m[1] });
    }
  };
  walk(join(PROJECT_ROOT, 'src'));
  walk(join(PROJECT_ROOT, 'modules'));
  return found;
}

describe('translations: every text in en, fr, de and nl', () => {
  it('every English key exists in fr, de and nl, and none of theirs is missing in English', () => {
    for (const lang of OTHERS) {
      const theirs = catalogs.get(lang)!;
      const missing = [...en.keys()].filter((key) => !theirs.has(key) && !PER_LANGUAGE.test(key));
      assert.deepEqual(missing, [], `keys missing in ${lang}`);
      const extra = [...theirs.keys()].filter((key) => !en.has(key) && !PER_LANGUAGE.test(key));
      assert.deepEqual(extra, [], `keys of ${lang} that English lacks`);
    }
  });

  it('a translation has the same placeholders as the English text', () => {
    for (const lang of OTHERS) {
      const wrong = [...catalogs.get(lang)!]
        .filter(([key]) => !key.startsWith('core.format.') && en.has(key))
        .filter(([key, value]) => placeholders(value).join() !== placeholders(en.get(key)!).join())
        .map(([key, value]) => `${key}: ${value}`);
      assert.deepEqual(wrong, [], `${lang} placeholders that differ from English`);
    }
  });

  it('no English text is left in fr, de or nl (beyond words both languages share)', () => {
    for (const lang of OTHERS) {
      const allowed = new Set(SAME_AS_ENGLISH[lang]);
      const english = [...catalogs.get(lang)!]
        .filter(([key]) => !key.startsWith('core.format.'))
        .filter(([key, value]) => en.get(key) === value && !allowed.has(value) && !untranslatable(value))
        .map(([key, value]) => `${key}: ${value}`);
      assert.deepEqual(english, [], `English left in ${lang}`);
    }
  });

  it("uses one term per concept: a natural term for the dead man's switch, no English check-in", () => {
    for (const lang of OTHERS) {
      const { rejected, chosen } = TERMS[lang];
      const offending = [...catalogs.get(lang)!]
        .filter(([, value]) => rejected.test(value.replace(/\{\{[^}]*\}\}/g, '')))
        .map(([key, value]) => `${key}: ${value}`);
      assert.deepEqual(offending, [], `${lang} words that are not its chosen terms`);
      const i18n = new I18nService();
      for (const key of ['down_subject', 'reminder_subject_nth', 'event_subject', 'storm_down_subject'])
        assert.ok(
          i18n.t(`dead_mans_switch_server.alerts.${key}`, lang).toLowerCase().includes(chosen.toLowerCase()),
          `${lang} ${key} names the ${chosen}`,
        );
    }
  });

  it('every key a template translates exists in every language', () => {
    const keys = templateKeys();
    assert.ok(keys.length > 100, `templates found (${keys.length})`);
    for (const lang of LANGS) {
      const missing = keys
        .filter(({ key }) => !catalogs.get(lang)!.has(key))
        .map((k) => `${k.file}: ${k.key}`);
      assert.deepEqual(missing, [], `template keys missing in ${lang}`);
    }
  });

  it('reads tracked values in the reader language: states, health and check statuses', () => {
    const i18n = new I18nService();
    const registry = new ThreadRegistry([INSTANCE_THREAD, ENVIRONMENT_THREAD]);
    const lines = (model: string, field: string, oldValue: string, newValue: string, lang: string) =>
      notificationTracking(
        i18n,
        {
          model,
          tracking: [
            {
              field,
              label: registry.get(model).tracked?.find((t) => t.field === field)?.label ?? field,
              oldValue,
              newValue,
            },
          ],
        },
        lang,
        (m, f) => registry.valueKeys(m, f),
      ).map((t) => `${t.label}: ${t.old_text} → ${t.new_text} (${t.old_value} → ${t.new_value})`);
    const instance = 'dead_mans_switch.instance';
    assert.deepEqual(lines(instance, 'state', 'new', 'active', 'fr'), [
      'État: Nouvelle → Active (new → active)',
    ]);
    assert.deepEqual(lines(instance, 'state', 'active', 'suspended', 'de'), [
      'Status: Aktiv → Pausiert (active → suspended)',
    ]);
    assert.deepEqual(lines(instance, 'health', 'late', 'down', 'nl'), [
      'Bereikbaarheid: Te laat → Onbereikbaar (late → down)',
    ]);
    assert.deepEqual(lines(instance, 'health', 'down', 'up', 'en'), ['Health: Down → Up (down → up)']);
    assert.deepEqual(lines('cloud_platform.environment', 'cloud_platform.s3_storage', 'ok', 'fail', 'de'), [
      'cloud_platform.s3_storage: ok → fehlgeschlagen (ok → fail)',
    ]);
    // A field without declared values (a name) stays as written.
    assert.deepEqual(lines(instance, 'partnerId', 'Acme', 'Globex', 'fr'), [
      'Client: Acme → Globex (Acme → Globex)',
    ]);

    // Every value a tracked field can take is translated in every language.
    const values: Record<string, string[]> = {
      'dead_mans_switch_server.states': ['new', 'active', 'suspended'],
      'dead_mans_switch_server.health': ['up', 'late', 'down'],
      'cloud_platform.status': ['ok', 'warn', 'fail'],
    };
    for (const definition of [INSTANCE_THREAD, ENVIRONMENT_THREAD])
      for (const tracked of definition.tracked ?? [])
        if (tracked.values) {
          assert.ok(values[tracked.values], `the values of ${tracked.values} are listed here`);
          for (const lang of LANGS)
            for (const value of values[tracked.values])
              assert.ok(
                catalogs.get(lang)!.has(`${tracked.values}.${value}`),
                `${lang} ${tracked.values}.${value}`,
              );
        }
  });

  it('formats ordinals, durations and times in each language', () => {
    const i18n = new I18nService();
    const format = (lang: string, text: string, args: Record<string, string | number>) =>
      // Any key that is missing renders as itself: a format placeholder in a made-up key shows the format alone.
      i18n.t(text, lang, args);
    const ordinals = (lang: string) =>
      [1, 2, 3, 4, 11, 12, 13, 21, 22, 23].map((n) => format(lang, '{{n, ordinal}}', { n }));
    assert.deepEqual(ordinals('en'), [
      '1st',
      '2nd',
      '3rd',
      '4th',
      '11th',
      '12th',
      '13th',
      '21st',
      '22nd',
      '23rd',
    ]);
    assert.deepEqual(ordinals('fr').slice(0, 3), ['1er', '2e', '3e']);
    assert.deepEqual(ordinals('de').slice(0, 3), ['1.', '2.', '3.']);
    assert.deepEqual(ordinals('nl').slice(0, 3), ['1e', '2e', '3e']);
    const durations = (lang: string) =>
      [45, 90, 600, 4320, 7190, 2 * 86_400 + 5 * 3600].map((s) => format(lang, '{{s, duration}}', { s }));
    assert.deepEqual(durations('en'), ['45 s', '1 min 30 s', '10 min', '1 h 12 min', '2 h', '2 days 5 h']);
    assert.deepEqual(durations('fr'), ['45 s', '1 min 30 s', '10 min', '1 h 12 min', '2 h', '2 jours 5 h']);
    assert.deepEqual(durations('de'), [
      '45 Sek.',
      '1 Min. 30 Sek.',
      '10 Min.',
      '1 Std. 12 Min.',
      '2 Std.',
      '2 Tage 5 Std.',
    ]);
    assert.deepEqual(durations('nl'), ['45 s', '1 min 30 s', '10 min', '1 u 12 min', '2 u', '2 dagen 5 u']);
    assert.equal(format('de', '{{at, datetime}}', { at: '2025-04-01T08:00:00Z' }), '01.04.2025, 08:00 UTC');
    assert.equal(
      i18n.t('dead_mans_switch_server.alerts.reminder_subject_nth', 'fr', { name: 'Acme', count: 2 }),
      'Alerte de surveillance de présence : Acme toujours hors service (2e rappel)',
    );
  });
});
