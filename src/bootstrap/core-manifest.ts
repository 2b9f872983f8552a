import { join } from 'node:path';
import { InstalledAddon } from '../addons/installed-addon.entity.js';
import type { MigrationClass, SeedData, TaskDeclaration, WebMenuEntry } from '../addons/manifest.js';
import { Follower, FollowerSubtype } from '../mail/chatter/follower.entity.js';
import { Message } from '../mail/chatter/message.entity.js';
import { Subtype } from '../mail/chatter/subtype.entity.js';
import { MT_COMMENT, MT_NOTE, type ThreadDefinition } from '../mail/chatter/thread.js';
import { TrackingValue } from '../mail/chatter/tracking-value.entity.js';
import { CoreInit1732300000000 } from '../database/migrations/1732300000000-core-init.js';
import { CoreChatter1732310000000 } from '../database/migrations/1732310000000-core-chatter.js';
import { CoreSubtypeModel1732320000000 } from '../database/migrations/1732320000000-core-subtype-model.js';
import { CoreAlertChannels1732330000000 } from '../database/migrations/1732330000000-core-alert-channels.js';
import { AlertChannelSubscription } from '../mail/channels/alert-channel.entity.js';
import { ALLOW_PRIVATE_SETTING, BASE_URL_SETTING } from '../mail/channels/channel-delivery.service.js';
import { CoreUserTimeZone1732340000000 } from '../database/migrations/1732340000000-core-user-time-zone.js';
import { DispatchNotificationsTask } from '../mail/notifications/notification-dispatcher.js';
import { Notification } from '../mail/notifications/notification.entity.js';
import { Partner } from '../partners/partner.entity.js';
import { PARTNER_THREAD } from '../partners/partner.thread.js';
import { PROJECT_ROOT } from '../paths.js';
import { ScheduledTaskState } from '../scheduler/scheduled-task-state.entity.js';
import { Setting } from '../settings/setting.entity.js';
import { ApiKey } from '../users/api-key.entity.js';
import { User } from '../users/user.entity.js';

/** Core is installed like an addon named `base`, always first. */
export const CORE_NAME = 'base';
export const CORE_VERSION = '0.1.0';

export const CORE_ENTITIES = [
  InstalledAddon,
  Setting,
  Partner,
  User,
  ApiKey,
  ScheduledTaskState,
  Subtype,
  Message,
  TrackingValue,
  Follower,
  FollowerSubtype,
  Notification,
  AlertChannelSubscription,
];

export const CORE_MIGRATIONS: MigrationClass[] = [
  CoreInit1732300000000,
  CoreChatter1732310000000,
  CoreSubtypeModel1732320000000,
  CoreAlertChannels1732330000000,
  CoreUserTimeZone1732340000000,
];

export const CORE_SEED: SeedData = {
  settings: {
    // Alert channels may not reach loopback and private networks unless an administrator allows it ('1').
    [ALLOW_PRIVATE_SETTING]: '0',
    // Where links in alerts point (e.g. https://vigil.example.com); none when empty.
    [BASE_URL_SETTING]: '',
  },
  subtypes: [
    { key: MT_COMMENT, name: 'mail.subtypes.comment', default: true, internal: false },
    { key: MT_NOTE, name: 'mail.subtypes.note', default: false, internal: true },
  ],
};

/** Core's own scheduled tasks, run like the addons'. */
export const CORE_TASKS: TaskDeclaration[] = [
  { id: 'mail.dispatch', everySeconds: 5, provider: DispatchNotificationsTask },
];

export const CORE_THREADS: ThreadDefinition[] = [PARTNER_THREAD];

/** Core's e-mail templates: the layout, the default message template and their partials. */
export const CORE_TEMPLATES = {
  namespace: 'mail',
  dir: join(PROJECT_ROOT, 'src', 'mail', 'email', 'templates'),
};

/** Core's entries of the web UI's navigation; addons add theirs (manifest `web.menus`). */
export const CORE_WEB_MENUS: WebMenuEntry[] = [
  { id: 'base.customers', label: 'web.nav.customers', path: '/web/customers', sequence: 50 },
  { id: 'base.inbox', label: 'web.nav.inbox', path: '/web/inbox', sequence: 80 },
  { id: 'base.admin', label: 'web.nav.admin', path: '/web/admin', role: 'admin', sequence: 100 },
];
