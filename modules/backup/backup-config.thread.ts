import type { EntityManager } from 'typeorm';
import type { ThreadDefinition } from '../../src/index.js';
import { BackupConfig } from './backup-config.entity.js';
import { CONFIG_MODEL } from './settings.js';

async function displayName(id: number, manager: EntityManager): Promise<string> {
  const rows = await manager.query<{ name: string }[]>('SELECT name FROM backup_config WHERE id = $1', [id]);
  return rows[0]?.name ?? `#${id}`;
}

/** Backup configurations are threads: followers hear of failures and stale backups; changes are tracked. */
export const CONFIG_THREAD: ThreadDefinition = {
  model: CONFIG_MODEL,
  entity: BackupConfig,
  displayName,
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
