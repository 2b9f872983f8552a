import { defineAddon } from '../../src/index.js';
import { backupImportOdooZipCommand, backupRestoreCommand, backupRunCommand } from './backup.commands.js';
import { BackupConfig } from './backup-config.entity.js';
import { CONFIG_THREAD } from './backup-config.thread.js';
import { Backup } from './backup.entity.js';
import { BackupRestore } from './backup-restore.entity.js';
import { BackupConfigsController } from './backup-configs.controller.js';
import { BackupConfigsService } from './backup-configs.service.js';
import { BackupPolicy } from './backup-policy.service.js';
import { BackupRunner } from './backup-runner.service.js';
import { BackupVerifier } from './backup-verifier.service.js';
import { BackupDrills } from './backup-drills.service.js';
import { FilestoreRepository } from './filestore.repository.js';
import { BackupsController } from './backups.controller.js';
import { BackupsRepository } from './backups.repository.js';
import { BackupsService } from './backups.service.js';
import { PgToolsRepository } from './pg-tools.repository.js';
import { StorageRepository } from './storage.repository.js';
import { BackupsWebController } from './web/backups-web.controller.js';
import { BackupStatisticsProvider } from './backup.statistics.js';
import { BackupTask } from './backup.task.js';
import { BackupSummaryRepository } from './backup-summary.repository.js';
import { BackupSummaryService } from './backup-summary.service.js';
import { PRIVATE_NETWORKS } from './database-address.js';
import { BackupInit1732600000000 } from './migrations/1732600000000-backup-init.js';
import { BackupSealDatabaseUrl1732622000000 } from './migrations/1732622000000-backup-seal-database-url.js';
import { BackupRestores1733412000000 } from './migrations/1733412000000-backup-restores.js';
import { BackupFormats1733520000000 } from './migrations/1733520000000-backup-formats.js';
import { BackupDrills1733530000000 } from './migrations/1733530000000-backup-drills.js';
import { CONFIG_MODEL, SUBTYPE_DONE, SUBTYPE_FAILED, SUBTYPE_STALE, TASK_EVERY_SECONDS } from './settings.js';

export const manifest = defineAddon({
  name: 'backup',
  version: '1.0.0',
  vigil: '^0.1.0',
  summary:
    'Scheduled, streamed, verified and rotated PostgreSQL backups to a folder or S3, with restore and alerts',
  depends: [],
  entities: [BackupConfig, Backup, BackupRestore],
  migrations: [
    BackupInit1732600000000,
    BackupSealDatabaseUrl1732622000000,
    BackupRestores1733412000000,
    BackupFormats1733520000000,
    BackupDrills1733530000000,
  ],
  // Other databases on loopback or private networks: off until an administrator allows them.
  settings: [PRIVATE_NETWORKS],
  seed: {
    subtypes: [
      {
        key: SUBTYPE_FAILED,
        name: 'backup.subtypes.failed',
        default: true,
        internal: false,
        model: CONFIG_MODEL,
      },
      {
        key: SUBTYPE_DONE,
        name: 'backup.subtypes.done',
        default: false,
        internal: true,
        model: CONFIG_MODEL,
      },
      {
        key: SUBTYPE_STALE,
        name: 'backup.subtypes.stale',
        default: true,
        internal: false,
        model: CONFIG_MODEL,
      },
    ],
  },
  tasks: [{ id: 'backup.scheduler', everySeconds: TASK_EVERY_SECONDS, provider: BackupTask }],
  threads: [CONFIG_THREAD],
  statistics: [BackupStatisticsProvider],
  commands: [backupRunCommand, backupRestoreCommand, backupImportOdooZipCommand],
  web: {
    templates: 'web/templates',
    menus: [{ id: 'backup.backups', label: 'backup.web.nav', path: '/web/backups', sequence: 40 }],
    recordPages: { [CONFIG_MODEL]: '/web/backups/configs/{id}' },
  },
  controllers: [BackupConfigsController, BackupsController, BackupsWebController],
  providers: [
    BackupsRepository,
    StorageRepository,
    PgToolsRepository,
    FilestoreRepository,
    BackupPolicy,
    BackupVerifier,
    BackupRunner,
    BackupDrills,
    BackupConfigsService,
    BackupsService,
    // What configurations did over a period, read by report addons.
    BackupSummaryRepository,
    BackupSummaryService,
  ],
});
