import { Inject, Injectable } from '@nestjs/common';
import type { StatisticsProvider, StatisticValue } from '../../src/index.js';
import { BackupsRepository } from './backups.repository.js';

/** `last_backup_at`: the last successful backup of this backend's own database, for the check-in. */
@Injectable()
export class BackupStatisticsProvider implements StatisticsProvider {
  constructor(@Inject(BackupsRepository) private readonly repo: BackupsRepository) {}

  async collect(): Promise<Record<string, StatisticValue>> {
    return { last_backup_at: (await this.repo.lastOwnBackupAt())?.toISOString() ?? null };
  }
}
