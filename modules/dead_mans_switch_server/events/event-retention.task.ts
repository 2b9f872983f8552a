import { Inject, Injectable, Logger } from '@nestjs/common';
import { SettingsService, type ScheduledTask } from '../../../src/index.js';
import { DMS_SETTINGS } from '../settings.js';
import { RETENTION_BATCH } from '../logs/log-retention.task.js';
import { InstanceEventsRepository } from './instance-events.repository.js';

/** `dead_mans_switch.event_retention`: daily, deletes events older than the retention setting (0 keeps all). */
@Injectable()
export class EventRetentionTask implements ScheduledTask {
  private readonly logger = new Logger('DeadMansSwitchRetention');

  constructor(
    @Inject(InstanceEventsRepository) private readonly events: InstanceEventsRepository,
    @Inject(SettingsService) private readonly settings: SettingsService,
  ) {}

  async run(now: Date): Promise<void> {
    const days = await this.settings.get(DMS_SETTINGS.eventRetentionDays);
    if (days === 0) return;
    const deleted = await this.events.deleteBefore(
      new Date(now.getTime() - days * 86_400_000),
      RETENTION_BATCH,
    );
    if (deleted > 0) this.logger.log(`Deleted ${deleted} event(s) older than ${days} days`);
  }
}
