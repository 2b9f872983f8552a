import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { PROJECT_ROOT } from '../paths.js';

export const DEFAULT_LANG = 'en';
/** Extra `i18n/` folders (addons that ship their own translations next to their code). */
export const I18N_FOLDERS = Symbol('I18N_FOLDERS');
export type TranslationArgs = Record<string, string | number | null | undefined>;
type Tree = { [key: string]: string | Tree };

/**
 * Translations from `i18n/<lang>/<namespace>.json`; a key is `<namespace>.<path>` (`core.errors.not_found`).
 * Missing keys fall back to English, then to the key itself, so a gap shows rather than breaks.
 */
@Injectable()
export class I18nService {
  private readonly catalogs = new Map<string, Map<string, string>>();

  constructor(@Optional() @Inject(I18N_FOLDERS) folders: string[] = []) {
    for (const root of [join(PROJECT_ROOT, 'i18n'), ...folders]) {
      if (!existsSync(root)) continue;
      for (const lang of readdirSync(root)) {
        const flat = this.catalogs.get(lang) ?? new Map<string, string>();
        for (const file of readdirSync(join(root, lang)).filter((f) => f.endsWith('.json'))) {
          const tree = JSON.parse(readFileSync(join(root, lang, file), 'utf8')) as Tree;
          flatten(file.slice(0, -'.json'.length), tree, flat);
        }
        this.catalogs.set(lang, flat);
      }
    }
  }

  get languages(): string[] {
    return [...this.catalogs.keys()].sort();
  }

  /** The best supported language for a request's Accept-Language header, if any matches. */
  negotiate(acceptLanguage: string | undefined): string | undefined {
    if (!acceptLanguage) return undefined;
    const wanted = acceptLanguage
      .split(',')
      .map((part) => {
        const [tag, ...params] = part.trim().split(';');
        const q = params.find((p) => p.trim().startsWith('q='));
        return { lang: tag.trim().toLowerCase().split('-')[0], q: q ? Number(q.trim().slice(2)) : 1 };
      })
      .filter((entry) => entry.lang && entry.q > 0)
      .sort((a, b) => b.q - a.q);
    return wanted.find((entry) => this.catalogs.has(entry.lang))?.lang;
  }

  has(key: string, lang = DEFAULT_LANG): boolean {
    return this.catalogs.get(lang)?.has(key) ?? false;
  }

  /**
   * The text of `key` with its `{{name}}` placeholders filled. A placeholder may name a format, read in the
   * language: `{{n, ordinal}}` (1st, 2e, 2.), `{{seconds, duration}}` (1 h 12 min), `{{iso, datetime}}` (a UTC
   * date and time); their words come from `core.format.*`.
   */
  t(key: string, lang: string | undefined, args: TranslationArgs = {}): string {
    const template =
      this.catalogs.get(lang ?? DEFAULT_LANG)?.get(key) ?? this.catalogs.get(DEFAULT_LANG)?.get(key) ?? key;
    return template.replace(PLACEHOLDER, (_, name: string, format: string | undefined) =>
      format ? this.format(format, args[name], lang ?? DEFAULT_LANG) : String(args[name] ?? ''),
    );
  }

  private format(format: string, value: string | number | null | undefined, lang: string): string {
    if (value === null || value === undefined || value === '') return '';
    switch (format) {
      case 'ordinal':
        return this.ordinal(Number(value), lang);
      case 'duration':
        return this.duration(Number(value), lang);
      case 'datetime':
        return this.dateTime(String(value), lang);
      default:
        return String(value);
    }
  }

  /** `core.format.ordinal.<category>` of the language's ordinal rules (en: one, two, few, other). */
  private ordinal(n: number, lang: string): string {
    if (!Number.isFinite(n)) return '';
    const category = new Intl.PluralRules(lang, { type: 'ordinal' }).select(n);
    return this.formatWord(`core.format.ordinal.${category}`, 'core.format.ordinal.other', lang, n);
  }

  /** The two largest units that are not zero, rounded to the smallest shown: `1 h 12 min`, `2 days 3 h`. */
  private duration(seconds: number, lang: string): string {
    if (!Number.isFinite(seconds)) return '';
    const total = Math.max(0, Math.round(seconds));
    const units: [string, number][] = [
      ['day', 86_400],
      ['hour', 3600],
      ['minute', 60],
      ['second', 1],
    ];
    const first = units.findIndex(([, size]) => total >= size);
    if (first === -1) return this.durationUnit('second', 0, lang);
    const [unit, size] = units[first];
    const next = units[first + 1];
    // Round to the second unit (or the first, for seconds): 1 h 59 min 40 s reads 2 h, never 1 h 60 min.
    const step = next ? next[1] : size;
    const rounded = Math.round(total / step) * step;
    const major = Math.floor(rounded / size);
    const minor = next ? Math.round((rounded - major * size) / next[1]) : 0;
    const parts = [this.durationUnit(unit, major, lang)];
    if (next && minor > 0) parts.push(this.durationUnit(next[0], minor, lang));
    return parts.join(' ');
  }

  private durationUnit(unit: string, n: number, lang: string): string {
    const category = new Intl.PluralRules(lang).select(n);
    return this.formatWord(
      `core.format.duration.${unit}.${category}`,
      `core.format.duration.${unit}.other`,
      lang,
      n,
    );
  }

  /** An ISO time as a date and time in UTC, in the language's words: `1 Apr 2025, 08:00 UTC`. */
  private dateTime(iso: string, lang: string): string {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    const text = new Intl.DateTimeFormat(lang, {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'UTC',
    }).format(date);
    return `${text} UTC`;
  }

  /** A format's word in the language itself (its own category, then its `other`), English last. */
  private formatWord(key: string, other: string, lang: string, n: number): string {
    const own = this.catalogs.get(lang);
    const english = this.catalogs.get(DEFAULT_LANG);
    const template = own?.get(key) ?? own?.get(other) ?? english?.get(key) ?? english?.get(other) ?? '{{n}}';
    return template.replace(/\{\{\s*n\s*\}\}/g, String(n));
  }
}

/** `{{name}}` or `{{name, format}}`. */
const PLACEHOLDER = /\{\{\s*(\w+)\s*(?:,\s*(\w+)\s*)?\}\}/g;

function flatten(prefix: string, tree: Tree, into: Map<string, string>): void {
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === 'string') into.set(`${prefix}.${key}`, value);
    else flatten(`${prefix}.${key}`, value, into);
  }
}
