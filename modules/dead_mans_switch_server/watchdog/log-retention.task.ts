import { Inject, Injectable, Logger } from '@nestjs/common';
import { SettingsService, type ScheduledTask } from '../../../src/index.js';
import { SETTINGS, numericSetting } from '../settings.js';
import { WatchdogRepository } from './watchdog.repository.js';

/** Rows per DELETE: short statements that never hold the log table for long. */
export const RETENTION_BATCH = 10_000;

/** `dead_mans_switch.log_retention`: daily, deletes check-in logs older than the retention setting. */
@Injectable()
export class LogRetentionTask implements ScheduledTask {
  private readonly logger = new Logger('DeadMansSwitchRetention');

  constructor(
    @Inject(WatchdogRepository) private readonly repository: WatchdogRepository,
    @Inject(SettingsService) private readonly settings: SettingsService,
  ) {}

  async run(now: Date): Promise<void> {
    const days = numericSetting(
      SETTINGS.logRetentionDays,
      await this.settings.get(SETTINGS.logRetentionDays),
    );
    // 0 keeps every log.
    if (days === 0) return;
    const before = new Date(now.getTime() - days * 86_400_000);
    const deleted = await this.repository.deleteLogsBefore(before, RETENTION_BATCH);
    if (deleted > 0) this.logger.log(`Deleted ${deleted} check-in log(s) older than ${days} days`);
  }
}
