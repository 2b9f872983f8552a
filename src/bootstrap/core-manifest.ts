import { join } from 'node:path';
import type { LoadedAddon } from '../addons/addon-loader.js';
import { InstalledAddon } from '../addons/installed-addon.entity.js';
import { defineAddon } from '../addons/manifest.js';
import { CoreInit1732300000000 } from '../database/migrations/1732300000000-core-init.js';
import { CoreChatter1732310000000 } from '../database/migrations/1732310000000-core-chatter.js';
import { CoreSubtypeModel1732320000000 } from '../database/migrations/1732320000000-core-subtype-model.js';
import { CoreAlertChannels1732330000000 } from '../database/migrations/1732330000000-core-alert-channels.js';
import { MAIL_CHANNELS, MAIL_ENTITIES, MAIL_SEED, MAIL_SETTINGS, MAIL_TASKS } from '../mail/mail.manifest.js';
import { databaseCheck } from '../environment/database.check.js';
import { metricsTokenCheck } from '../environment/metrics-token.check.js';
import { secretSettingsCheck } from '../environment/secret-settings.check.js';
import { VIGIL_VERSION } from '../environment/version.js';
import { CoreUserTimeZone1732340000000 } from '../database/migrations/1732340000000-core-user-time-zone.js';
import { CoreChannelSecrets1732352200000 } from '../database/migrations/1732352200000-core-channel-secrets.js';
import { CoreAuthSessions1732352207000 } from '../database/migrations/1732352207000-core-auth-sessions.js';
import { CorePasswordChangeRequired1732352400000 } from '../database/migrations/1732352400000-core-password-change-required.js';
import { CoreNotificationClaims1732352600000 } from '../database/migrations/1732352600000-core-notification-claims.js';
import { PROJECT_ROOT } from '../paths.js';
import { Partner } from '../partners/partner.entity.js';
import { PARTNER_THREAD } from '../partners/partner.thread.js';
import { ScheduledTaskState } from '../scheduler/scheduled-task-state.entity.js';
import { CORE_SETTINGS } from '../settings/core-settings.js';
import { Setting } from '../settings/setting.entity.js';
import { ApiKey } from '../users/api-key.entity.js';
import { User } from '../users/user.entity.js';

/**
 * Core's manifest, of the same shape as an addon's: core is installed as the addon `base`, always first, and the
 * bootstrap reads its entities, migrations, seed data, tasks, threads, checks and menus with the addons'.
 * Its module is `CoreModule.forRoot` (core's services are global), not built from the manifest.
 */
const coreManifest = defineAddon({
  name: 'base',
  version: VIGIL_VERSION,
  summary:
    'Partners, users and roles, settings, the chatter and notifications, the scheduler and the web shell',
  depends: [],
  entities: [InstalledAddon, Setting, Partner, User, ApiKey, ScheduledTaskState, ...MAIL_ENTITIES],
  migrations: [
    CoreInit1732300000000,
    CoreChatter1732310000000,
    CoreSubtypeModel1732320000000,
    CoreAlertChannels1732330000000,
    CoreUserTimeZone1732340000000,
    CoreChannelSecrets1732352200000,
    CoreAuthSessions1732352207000,
    CorePasswordChangeRequired1732352400000,
    CoreNotificationClaims1732352600000,
  ],
  // So far core's seed data and tasks are all the mail area's (src/mail/mail.manifest.ts).
  seed: MAIL_SEED,
  settings: [...CORE_SETTINGS, ...MAIL_SETTINGS],
  tasks: MAIL_TASKS,
  threads: [PARTNER_THREAD],
  checks: [databaseCheck, metricsTokenCheck, secretSettingsCheck],
  channels: MAIL_CHANNELS,
  web: {
    menus: [
      { id: 'base.customers', label: 'web.nav.customers', path: '/web/customers', sequence: 50 },
      { id: 'base.inbox', label: 'web.nav.inbox', path: '/web/inbox', sequence: 80 },
      { id: 'base.admin', label: 'web.nav.admin', path: '/web/admin', role: 'admin', sequence: 100 },
      {
        id: 'base.settings',
        label: 'web.nav.settings',
        path: '/web/admin/settings',
        role: 'admin',
        sequence: 110,
      },
    ],
  },
});

/** Core as the loader gives an addon: its manifest and its source folder. */
export const CORE: LoadedAddon = { manifest: coreManifest, dir: join(PROJECT_ROOT, 'src') };
