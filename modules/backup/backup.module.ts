import { Module } from '@nestjs/common';
import { BackupConfigsController } from './backup-configs.controller.js';
import { BackupConfigsService } from './backup-configs.service.js';
import { BackupRunner } from './backup-runner.service.js';
import { BackupDrills } from './backup-drills.service.js';
import { BackupsController } from './backups.controller.js';
import { BackupsRepository } from './backups.repository.js';
import { BackupsService } from './backups.service.js';
import { FilestoreRepository } from './filestore.repository.js';
import { PgToolsRepository } from './pg-tools.repository.js';
import { StorageRepository } from './storage.repository.js';
import { BackupsWebController } from './web/backups-web.controller.js';

@Module({
  controllers: [BackupConfigsController, BackupsController, BackupsWebController],
  providers: [
    BackupsRepository,
    StorageRepository,
    PgToolsRepository,
    FilestoreRepository,
    BackupRunner,
    BackupDrills,
    BackupConfigsService,
    BackupsService,
  ],
})
export class BackupModule {}
