import { InstalledAddon } from '../addons/installed-addon.entity.js';
import type { MigrationClass, SeedData, TaskDeclaration, WebMenuEntry } from '../addons/manifest.js';
import { CoreInit1732300000000 } from '../database/migrations/1732300000000-core-init.js';
import { CoreChatter1732310000000 } from '../database/migrations/1732310000000-core-chatter.js';
import { CoreSubtypeModel1732320000000 } from '../database/migrations/1732320000000-core-subtype-model.js';
import { CoreAlertChannels1732330000000 } from '../database/migrations/1732330000000-core-alert-channels.js';
import { CoreUserTimeZone1732340000000 } from '../database/migrations/1732340000000-core-user-time-zone.js';
import type { ThreadDefinition } from '../mail/chatter/thread.js';
import { MAIL_ENTITIES, MAIL_SEED, MAIL_TASKS } from '../mail/mail.manifest.js';
import { Partner } from '../partners/partner.entity.js';
import { PARTNER_THREAD } from '../partners/partner.thread.js';
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
  ...MAIL_ENTITIES,
];

export const CORE_MIGRATIONS: MigrationClass[] = [
  CoreInit1732300000000,
  CoreChatter1732310000000,
  CoreSubtypeModel1732320000000,
  CoreAlertChannels1732330000000,
  CoreUserTimeZone1732340000000,
];

/** Core's seed data and its own scheduled tasks (run like the addons'): so far all of them the mail area's. */
export const CORE_SEED: SeedData = MAIL_SEED;
export const CORE_TASKS: TaskDeclaration[] = MAIL_TASKS;

export const CORE_THREADS: ThreadDefinition[] = [PARTNER_THREAD];

/** Core's entries of the web UI's navigation; addons add theirs (manifest `web.menus`). */
export const CORE_WEB_MENUS: WebMenuEntry[] = [
  { id: 'base.customers', label: 'web.nav.customers', path: '/web/customers', sequence: 50 },
  { id: 'base.inbox', label: 'web.nav.inbox', path: '/web/inbox', sequence: 80 },
  { id: 'base.admin', label: 'web.nav.admin', path: '/web/admin', role: 'admin', sequence: 100 },
];
