import type { I18nService } from '../../i18n/i18n.service.js';
import type { MessageRow } from './chatter.repository.js';

/** Where a tracked field's value translations are (`ThreadRegistry.valueKeys`). */
export type TrackedValueKeys = (model: string | null, field: string) => string | undefined;

/**
 * The message's tracking values: labels translated, and each value as stored (`old_value`, `new_value`) and as
 * its reader reads it (`old_text`, `new_text`: `Active` for `active` when the field declares its values).
 */
export function trackingValues(
  i18n: I18nService,
  message: Pick<MessageRow, 'model' | 'tracking'>,
  lang: string,
  valueKeys: TrackedValueKeys,
) {
  return message.tracking.map((t) => {
    const prefix = valueKeys(message.model, t.field);
    const text = (value: string | null) =>
      value !== null && prefix && i18n.has(`${prefix}.${value}`) ? i18n.t(`${prefix}.${value}`, lang) : value;
    return {
      field: t.field,
      label: i18n.t(t.label, lang),
      old_value: t.oldValue,
      new_value: t.newValue,
      old_text: text(t.oldValue),
      new_text: text(t.newValue),
    };
  });
}
