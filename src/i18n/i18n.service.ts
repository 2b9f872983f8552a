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

  t(key: string, lang: string | undefined, args: TranslationArgs = {}): string {
    const template =
      this.catalogs.get(lang ?? DEFAULT_LANG)?.get(key) ?? this.catalogs.get(DEFAULT_LANG)?.get(key) ?? key;
    return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => String(args[name] ?? ''));
  }
}

function flatten(prefix: string, tree: Tree, into: Map<string, string>): void {
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === 'string') into.set(`${prefix}.${key}`, value);
    else flatten(`${prefix}.${key}`, value, into);
  }
}
