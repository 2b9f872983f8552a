import { Inject, Injectable, Logger } from '@nestjs/common';
import { SettingsService, type ScheduledTask } from '../../../src/index.js';
import { LogPartitionsRepository } from './log-partitions.repository.js';
import { DMS_SETTINGS } from '../settings.js';

/** Rows per DELETE: short statements that never hold a table for long. */
export const RETENTION_BATCH = 10_000;

/**
 * `dead_mans_switch.log_retention`: daily, drops the day partitions of check-in logs older than
 * `dead_mans_switch.log_retention_days` and the month partitions of hourly roll-ups older than
 * `dead_mans_switch.rollup_retention_days` (0 keeps them all).
 */
@Injectable()
export class LogRetentionTask implements ScheduledTask {
  private readonly logger = new Logger('DeadMansSwitchRetention');

  constructor(
    @Inject(LogPartitionsRepository) private readonly partitions: LogPartitionsRepository,
    @Inject(SettingsService) private readonly settings: SettingsService,
  ) {}

  async run(now: Date): Promise<void> {
    const days = await this.settings.get(DMS_SETTINGS.logRetentionDays);
    if (days > 0) {
      const { dropped, deleted } = await this.partitions.dropLogsBefore(
        this.before(now, days),
        RETENTION_BATCH,
      );
      if (dropped.length > 0 || deleted > 0)
        this.logger.log(
          `Dropped ${dropped.length} day(s) of check-in logs older than ${days} days` +
            (deleted > 0 ? `, deleted ${deleted} from the default partition` : ''),
        );
    }
    const rollupDays = await this.settings.get(DMS_SETTINGS.rollupRetentionDays);
    if (rollupDays > 0) {
      const dropped = await this.partitions.dropRollupsBefore(this.before(now, rollupDays));
      if (dropped.length > 0)
        this.logger.log(
          `Dropped ${dropped.length} month(s) of hourly roll-ups older than ${rollupDays} days`,
        );
    }
  }

  private before(now: Date, days: number): Date {
    return new Date(now.getTime() - days * 86_400_000);
  }
}
