import { join } from 'node:path';
import type { LoadedAddon } from '../addons/addon-loader.js';
import { InstalledAddon } from '../addons/installed-addon.entity.js';
import { defineAddon } from '../addons/manifest.js';
import { Follower, FollowerSubtype } from '../chatter/follower.entity.js';
import { Message } from '../chatter/message.entity.js';
import { Subtype } from '../chatter/subtype.entity.js';
import { MT_COMMENT, MT_NOTE } from '../chatter/thread.js';
import { TrackingValue } from '../chatter/tracking-value.entity.js';
import { CoreInit1732300000000 } from '../database/migrations/1732300000000-core-init.js';
import { CoreChatter1732310000000 } from '../database/migrations/1732310000000-core-chatter.js';
import { CoreSubtypeModel1732320000000 } from '../database/migrations/1732320000000-core-subtype-model.js';
import { CoreAlertChannels1732330000000 } from '../database/migrations/1732330000000-core-alert-channels.js';
import { AlertChannelSubscription } from '../notifications/channels/alert-channel.entity.js';
import { CORE_CHANNELS } from '../notifications/channels/core-channels.js';
import {
  ALLOW_PRIVATE_SETTING,
  BASE_URL_SETTING,
} from '../notifications/channels/channel-delivery.service.js';
import { databaseCheck } from '../environment/database.check.js';
import { VIGIL_VERSION } from '../environment/version.js';
import { CoreUserTimeZone1732340000000 } from '../database/migrations/1732340000000-core-user-time-zone.js';
import { DispatchNotificationsTask } from '../notifications/notification-dispatcher.js';
import { Notification } from '../notifications/notification.entity.js';
import { PROJECT_ROOT } from '../paths.js';
import { Partner } from '../partners/partner.entity.js';
import { PARTNER_THREAD } from '../partners/partner.thread.js';
import { ScheduledTaskState } from '../scheduler/scheduled-task-state.entity.js';
import { Setting } from '../settings/setting.entity.js';
import { ApiKey } from '../users/api-key.entity.js';
import { User } from '../users/user.entity.js';
import { CoreModule } from './core.module.js';

/**
 * Core's manifest, of the same shape as an addon's: core is installed as the addon `base`, always first, and the
 * bootstrap reads its entities, migrations, seed data, tasks, threads, checks and menus with the addons'.
 * Its module is built by `CoreModule.forRoot` (core's services are global) rather than imported as it is.
 */
const coreManifest = defineAddon({
  name: 'base',
  version: VIGIL_VERSION,
  summary:
    'Partners, users and roles, settings, the chatter and notifications, the scheduler and the web shell',
  depends: [],
  entities: [
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
  ],
  migrations: [
    CoreInit1732300000000,
    CoreChatter1732310000000,
    CoreSubtypeModel1732320000000,
    CoreAlertChannels1732330000000,
    CoreUserTimeZone1732340000000,
  ],
  seed: {
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
  },
  tasks: [{ id: 'mail.dispatch', everySeconds: 5, provider: DispatchNotificationsTask }],
  threads: [PARTNER_THREAD],
  checks: [databaseCheck],
  channels: CORE_CHANNELS,
  web: {
    menus: [
      { id: 'base.customers', label: 'web.nav.customers', path: '/web/customers', sequence: 50 },
      { id: 'base.inbox', label: 'web.nav.inbox', path: '/web/inbox', sequence: 80 },
      { id: 'base.admin', label: 'web.nav.admin', path: '/web/admin', role: 'admin', sequence: 100 },
    ],
  },
  module: CoreModule,
});

/** Core as the loader gives an addon: its manifest and its source folder. */
export const CORE: LoadedAddon = { manifest: coreManifest, dir: join(PROJECT_ROOT, 'src') };
