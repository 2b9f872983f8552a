import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ScheduledTask } from '../../../src/index.js';
import { LogPartitionsRepository } from './log-partitions.repository.js';

/** Days of log partitions kept ready ahead of today: a week of slack if this task stops running. */
export const LOG_PARTITION_DAYS_AHEAD = 7;

/**
 * `dead_mans_switch.log_partitions`: hourly, creates the day partitions of the check-in log from today to a week
 * ahead (the migration created the first ones), so that a check-in always finds its day's partition.
 */
@Injectable()
export class LogPartitionsTask implements ScheduledTask {
  private readonly logger = new Logger('DeadMansSwitchLogPartitions');

  constructor(@Inject(LogPartitionsRepository) private readonly partitions: LogPartitionsRepository) {}

  async run(now: Date): Promise<void> {
    const { created, moved } = await this.partitions.createDays(now, LOG_PARTITION_DAYS_AHEAD);
    if (created.length > 0) this.logger.log(`Created check-in log partitions ${created.join(', ')}`);
    // Rows in the default partition mean a day had no partition when its check-ins came: worth a look.
    if (moved > 0) this.logger.warn(`Moved ${moved} check-in log(s) out of the default partition`);
  }
}
