import type { I18nService } from '../i18n/i18n.service.js';
import { describeRange, storedDefault } from './setting-definition.js';
import type { SettingsRegistry } from './settings-registry.js';

/** The markers around the settings table in README.md: a unit test checks the table between them. */
export const README_SETTINGS_BEGIN =
  '<!-- settings:begin (generated from the registry: see test/unit/settings-registry.test.ts) -->';
export const README_SETTINGS_END = '<!-- settings:end -->';

/** Every declared setting as a Markdown table (key, type, default, range, meaning in English). */
export function settingsTable(registry: SettingsRegistry, i18n: I18nService): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    '| key | type | default | range | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...registry.all().map(({ declaration }) => {
      const unit = declaration.unit ? ` (${i18n.t(declaration.unit, 'en')})` : '';
      const fallback = storedDefault(declaration);
      return `| \`${declaration.key}\` | ${declaration.type} | ${fallback === '' ? '(empty)' : `\`${fallback}\``} | ${cell(describeRange(declaration))}${unit} | ${cell(i18n.t(declaration.description, 'en'))} |`;
    }),
  ];
  return lines.join('\n');
}
