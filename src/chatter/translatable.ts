import type { I18nService } from '../i18n/i18n.service.js';
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
  return i18n.t(value.key, lang, value.args ?? {});
}
