import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ScheduledTask } from '../../../src/index.js';
import { LogPartitionsRepository } from './log-partitions.repository.js';

/**
 * An hour is rolled up this long after it ended: a check-in stamped in its last instant may still be committing,
 * or come from a replica whose clock is a little behind.
 */
export const ROLLUP_SETTLE_MS = 5 * 60_000;
/** Hours rolled up per run at most: catching up after a long stop takes several runs, each bounded. */
export const ROLLUP_HOURS_PER_RUN = 48;

/**
 * `dead_mans_switch.log_rollup`: every few minutes, rolls up each complete hour of check-ins once into
 * `dead_mans_switch_log_hourly` (per instance: count, and min/avg/max of each statistic), which the charts read.
 */
@Injectable()
export class LogRollupTask implements ScheduledTask {
  private readonly logger = new Logger('DeadMansSwitchLogRollup');

  constructor(@Inject(LogPartitionsRepository) private readonly partitions: LogPartitionsRepository) {}

  async run(now: Date): Promise<void> {
    const until = new Date(now.getTime() - ROLLUP_SETTLE_MS);
    let hours = 0;
    while (hours < ROLLUP_HOURS_PER_RUN && (await this.partitions.rollUpNextHour(until))) hours++;
    if (hours > 1) this.logger.log(`Rolled up ${hours} hours of check-in logs`);
  }
}
