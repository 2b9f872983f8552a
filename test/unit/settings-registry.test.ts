import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_ADDON_PATHS, discoverAddons, resolveAddons } from '../../src/addons/addon-loader.js';
import { CORE } from '../../src/bootstrap/core-manifest.js';
import { I18nService } from '../../src/i18n/i18n.service.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import {
  defineSetting,
  parseSetting,
  type SettingDeclaration,
} from '../../src/settings/setting-definition.js';
import {
  README_SETTINGS_BEGIN,
  README_SETTINGS_END,
  settingsTable,
} from '../../src/settings/settings-doc.js';
import { SettingDeclarationError, SettingsRegistry } from '../../src/settings/settings-registry.js';

const d = 'demo.settings.x';
const parsed = (declaration: SettingDeclaration, raw: string) => {
  const result = parseSetting(declaration, raw);
  return result.ok ? { value: result.value, stored: result.stored } : result.refusal.rule;
};

/** Core and every addon of this repository, as the server loads them. */
async function realRegistry() {
  const addons = resolveAddons(await discoverAddons(DEFAULT_ADDON_PATHS), undefined, CORE.manifest);
  const loaded = [CORE, ...addons.filter((a) => a.manifest.name !== 'base')];
  const registry = new SettingsRegistry(
    loaded.map((a) => ({ name: a.manifest.name, settings: a.manifest.settings })),
  );
  // Core's catalogs are the project's i18n folder, which I18nService always reads.
  const i18n = new I18nService(loaded.slice(1).map((a) => join(a.dir, 'i18n')));
  return { registry, i18n };
}

describe('settings registry', () => {
  it('parses each type: typed value and canonical stored text, or the rule broken', () => {
    const integer = defineSetting.integer({ key: 'a.i', default: 5, min: 1, max: 10, description: d });
    assert.deepEqual(parsed(integer, ' 7 '), { value: 7, stored: '7' });
    assert.equal(parsed(integer, 'abc'), 'integer');
    assert.equal(parsed(integer, '2.5'), 'integer');
    assert.equal(parsed(integer, ''), 'integer');
    assert.equal(parsed(integer, '0'), 'min');
    assert.equal(parsed(integer, '11'), 'max');
    assert.equal(parsed(integer, 'Infinity'), 'integer');
    const number = defineSetting.number({ key: 'a.n', default: 1, min: 0.1, description: d });
    assert.deepEqual(parsed(number, '0.3'), { value: 0.3, stored: '0.3' });
    assert.equal(parsed(number, '1e999'), 'number');
    const boolean = defineSetting.boolean({ key: 'a.b', default: false, description: d });
    assert.deepEqual(parsed(boolean, 'true'), { value: true, stored: '1' });
    assert.deepEqual(parsed(boolean, '0'), { value: false, stored: '0' });
    assert.equal(parsed(boolean, 'maybe'), 'boolean');
    const url = defineSetting.url({ key: 'a.u', default: '', optional: true, description: d });
    assert.deepEqual(parsed(url, ''), { value: '', stored: '' });
    assert.deepEqual(parsed(url, 'https://vigil.example.com/'), {
      value: 'https://vigil.example.com/',
      stored: 'https://vigil.example.com/',
    });
    assert.equal(parsed(url, 'not a url'), 'url');
    assert.equal(parsed(url, 'ftp://example.com/x'), 'url');
    const required = defineSetting.string({ key: 'a.s', default: 'x', maxLength: 3, description: d });
    assert.equal(parsed(required, '  '), 'required');
    assert.equal(parsed(required, 'abcd'), 'max_length');
    const email = defineSetting.email({ key: 'a.e', default: 'a@b.c', description: d });
    assert.equal(parsed(email, 'ops@example.com') instanceof Object, true);
    assert.equal(parsed(email, 'not-an-e-mail'), 'email');
    const level = defineSetting.enum({
      key: 'a.l',
      default: 'error',
      values: ['info', 'error'],
      description: d,
    });
    assert.deepEqual(parsed(level, 'INFO'), { value: 'info', stored: 'info' });
    assert.equal(parsed(level, 'loud'), 'enum');
    const uuid = defineSetting.uuid({ key: 'a.id', default: '', description: d });
    assert.equal(parsed(uuid, 'abc'), 'uuid');
  });

  it('refuses a key declared twice, a malformed key and a default breaking its own rule', () => {
    const one = defineSetting.integer({ key: 'a.x', default: 1, description: d });
    assert.throws(
      () =>
        new SettingsRegistry([
          { name: 'first', settings: [one] },
          { name: 'second', settings: [one] },
        ]),
      (error: Error) =>
        error instanceof SettingDeclarationError && /a\.x .*first and second/.test(error.message),
    );
    assert.throws(
      () => new SettingsRegistry([{ name: 'bad', settings: [{ ...one, key: 'Bad Key' }] }]),
      /lower-case/,
    );
    assert.throws(
      () =>
        new SettingsRegistry([
          {
            name: 'bad',
            settings: [defineSetting.integer({ key: 'a.y', default: 0, min: 1, description: d })],
          },
        ]),
      /default of a\.y/,
    );
    assert.throws(
      () =>
        new SettingsRegistry([
          {
            name: 'bad',
            settings: [defineSetting.enum({ key: 'a.z', default: 'c', values: ['a', 'b'], description: d })],
          },
        ]),
      /not one of its values/,
    );
  });

  it("holds core's and every addon's settings, each described in en, fr, de and nl, with its unit", async () => {
    const { registry, i18n } = await realRegistry();
    const keys = registry.all().map((s) => s.declaration.key);
    for (const key of [
      'database.uuid',
      'web.base_url',
      'mail.channels.allow_private_networks',
      'dead_mans_switch.storm_threshold',
      'cloud_platform.check_interval',
      'dead_mans_switch_client.url',
      'backup.allow_private_networks',
    ])
      assert.ok(keys.includes(key), key);
    for (const { declaration } of registry.all()) {
      for (const lang of ['en', 'fr', 'de', 'nl']) {
        assert.ok(i18n.has(declaration.description, lang), `${declaration.description} (${lang})`);
        if (declaration.unit) assert.ok(i18n.has(declaration.unit, lang), `${declaration.unit} (${lang})`);
      }
    }
    // No manifest seeds a declared setting as an untyped legacy default too.
    const addons = resolveAddons(await discoverAddons(DEFAULT_ADDON_PATHS), undefined, CORE.manifest);
    for (const { manifest } of [CORE, ...addons])
      for (const key of Object.keys(manifest.seed?.settings ?? {}))
        assert.ok(!registry.find(key), `${manifest.name} seeds ${key}, which is declared: drop it from seed`);
  });

  it("README's settings table is the registry's (VIGIL_WRITE_README=1 rewrites it)", async () => {
    const { registry, i18n } = await realRegistry();
    const path = join(PROJECT_ROOT, 'README.md');
    const readme = readFileSync(path, 'utf8');
    const begin = readme.indexOf(README_SETTINGS_BEGIN);
    const end = readme.indexOf(README_SETTINGS_END);
    assert.ok(begin >= 0 && end > begin, 'README.md has the settings markers');
    const expected = `${README_SETTINGS_BEGIN}\n\n${settingsTable(registry, i18n)}\n\n${README_SETTINGS_END}`;
    const actual = readme.slice(begin, end + README_SETTINGS_END.length);
    // Prettier aligns the table's columns: compare cells, not spacing.
    const cells = (table: string) =>
      table
        .split('\n')
        .map((line) => line.replace(/\s*\|\s*/g, '|').replace(/-{3,}/g, '---'))
        .join('\n');
    if (cells(actual) !== cells(expected) && process.env.VIGIL_WRITE_README === '1') {
      // Then `npx prettier --write README.md`.
      writeFileSync(path, readme.slice(0, begin) + expected + readme.slice(end + README_SETTINGS_END.length));
      return;
    }
    assert.equal(
      cells(actual),
      cells(expected),
      'README.md settings table is out of date: run with VIGIL_WRITE_README=1, then prettier',
    );
  });
});
