import type { ThreadDefinition } from '../../src/index.js';
import { BackupConfig } from './backup-config.entity.js';
import { configName } from './backups.repository.js';
import { CONFIG_MODEL } from './settings.js';

/** Backup configurations are threads: followers hear of failures and stale backups; changes are tracked. */
export const CONFIG_THREAD: ThreadDefinition = {
  model: CONFIG_MODEL,
  entity: BackupConfig,
  displayName: configName,
  tracked: [
    { field: 'name', label: 'backup.fields.name' },
    { field: 'cron', label: 'backup.fields.cron' },
    { field: 'timeZone', label: 'backup.fields.time_zone' },
    { field: 'storage', label: 'backup.fields.storage' },
    { field: 'active', label: 'backup.fields.active' },
    { field: 'userId', label: 'backup.fields.user_id', format: 'user' },
  ],
  responsibleField: 'userId',
};
