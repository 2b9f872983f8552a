import { join } from 'node:path';
import { PROJECT_ROOT } from '../paths.js';
import type { TaskDeclaration } from '../scheduler/scheduled-task.js';
import type { AlertChannel } from './channels/alert-channel.js';
import { AlertChannelSubscription } from './channels/alert-channel.entity.js';
import { CORE_CHANNELS } from './channels/core-channels.js';
import { Follower, FollowerSubtype } from './chatter/follower.entity.js';
import { Message } from './chatter/message.entity.js';
import { Subtype } from './chatter/subtype.entity.js';
import { MT_COMMENT, MT_NOTE, type SubtypeSeed } from './chatter/thread.js';
import { TrackingValue } from './chatter/tracking-value.entity.js';
import { MAIL_SETTINGS } from './channels/channel-settings.js';
import type { TemplateFolder } from './email/template-renderer.js';
import { DispatchNotificationsTask } from './notification-dispatcher.js';
import { Notification } from './notifications/notification.entity.js';

// The mail area's share of core's manifest (src/bootstrap/core-manifest.ts); its migrations are core's.

export const MAIL_ENTITIES = [
  Subtype,
  Message,
  TrackingValue,
  Follower,
  FollowerSubtype,
  Notification,
  AlertChannelSubscription,
];

export const MAIL_SEED = {
  subtypes: [
    { key: MT_COMMENT, name: 'mail.subtypes.comment', default: true, internal: false },
    { key: MT_NOTE, name: 'mail.subtypes.note', default: false, internal: true },
  ],
} satisfies { subtypes: SubtypeSeed[] };

/** The mail area's settings (alert channels, links in alerts). */
export { MAIL_SETTINGS };

export const MAIL_TASKS: TaskDeclaration[] = [
  { id: 'mail.dispatch', everySeconds: 5, provider: DispatchNotificationsTask },
];

/** The alert channels core brings (webhook, Slack, Teams, Pushover, ntfy); addons add theirs. */
export const MAIL_CHANNELS: AlertChannel[] = CORE_CHANNELS;

/** Core's e-mail templates (`mail/layout`, `mail/message`, partials): every e-mail is rendered in the layout. */
export const MAIL_TEMPLATES: TemplateFolder = {
  namespace: 'mail',
  dir: join(PROJECT_ROOT, 'src', 'mail', 'email', 'templates'),
};
