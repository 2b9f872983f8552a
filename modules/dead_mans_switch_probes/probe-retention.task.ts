import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ScheduledTask } from '../../src/index.js';
import { PROBE_SETTINGS } from './probe-settings.js';
import { ProbesService } from './probes.service.js';

/** `dead_mans_switch.probe_retention`: daily, deletes probe results older than the retention setting. */
@Injectable()
export class ProbeRetentionTask implements ScheduledTask {
  private readonly logger = new Logger('DeadMansSwitchProbes');

  constructor(@Inject(ProbesService) private readonly probes: ProbesService) {}

  async run(now: Date): Promise<void> {
    const deleted = await this.probes.deleteOldResults(now);
    if (deleted > 0)
      this.logger.log(
        `Deleted ${deleted} probe result(s) older than the retention (setting ${PROBE_SETTINGS.retentionDays})`,
      );
  }
}
