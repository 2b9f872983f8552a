import type { I18nService } from '../../i18n/i18n.service.js';
import type { MessageRow } from '../chatter/chatter.repository.js';
import { renderTranslatable } from '../chatter/translatable.js';
import { trackingValues } from '../chatter/tracking-text.js';

// What a notification says in its recipient's language, the same on every channel (e-mail, webhook, Slack…).

/** The message's subject; without one, "<record>: new message" or a generic subject. */
export function notificationSubject(i18n: I18nService, message: MessageRow, lang: string): string {
  const record = message.recordName;
  return (
    renderTranslatable(i18n, message.subject, lang) ??
    (record
      ? i18n.t('mail.email.subject_record', lang, { record })
      : i18n.t('mail.email.subject_default', lang))
  );
}

/** The message's tracking values in the recipient's language (see `trackingValues`). */
export const notificationTracking = trackingValues;
