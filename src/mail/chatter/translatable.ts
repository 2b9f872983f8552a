import type { I18nService } from '../../i18n/i18n.service.js';
import type { Translatable } from './thread.js';

/** A stored text in a reader's language: keys are translated, plain strings stay as they were written. */
export function renderTranslatable(i18n: I18nService, value: Translatable, lang: string): string;
export function renderTranslatable(
  i18n: I18nService,
  value: Translatable | null,
  lang: string,
): string | null;
export function renderTranslatable(
  i18n: I18nService,
  value: Translatable | null,
  lang: string,
): string | null {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((line) => renderTranslatable(i18n, line, lang)).join('\n');
  const args: Record<string, string | number | null> = {};
  for (const [name, arg] of Object.entries(value.args ?? {})) {
    args[name] = arg !== null && typeof arg === 'object' ? renderTranslatable(i18n, arg, lang) : arg;
  }
  return i18n.t(value.key, lang, args);
}
