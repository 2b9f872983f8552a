import { InstalledAddon } from '../addons/installed-addon.entity.js';
import type { MigrationClass, SeedData } from '../addons/manifest.js';
import { CoreInit1732300000000 } from '../database/migrations/1732300000000-core-init.js';
import { Partner } from '../partners/partner.entity.js';
import { ScheduledTaskState } from '../scheduler/scheduled-task-state.entity.js';
import { Setting } from '../settings/setting.entity.js';
import { ApiKey } from '../users/api-key.entity.js';
import { User } from '../users/user.entity.js';

/** Core is installed like an addon named `base`, always first. */
export const CORE_NAME = 'base';
export const CORE_VERSION = '0.1.0';

export const CORE_ENTITIES = [InstalledAddon, Setting, Partner, User, ApiKey, ScheduledTaskState];

export const CORE_MIGRATIONS: MigrationClass[] = [CoreInit1732300000000];

export const CORE_SEED: SeedData = {
  settings: {},
};
