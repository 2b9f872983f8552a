import { Inject, Injectable, Logger } from '@nestjs/common';
import { ChatterService, Database, SettingsService, type ScheduledTask } from '../../../src/index.js';
import { DMS_SETTINGS, INSTANCE_MODEL } from '../settings.js';
import { InstancesRepository } from './instances.repository.js';

/** Instances deleted per transaction: short transactions, however many a flood registered. */
export const PURGE_BATCH = 1_000;

/**
 * `dead_mans_switch.new_instance_purge`: daily (once across replicas: core's scheduler claims the tick), deletes
 * the instances still `new` (never activated) that registered more than `dead_mans_switch.new_instance_max_age_days`
 * ago (0 keeps them), with their logs, events, probes and chatter, so that uuids registered by a flood do not stay
 * forever. An instance that still checks in registers again as new.
 */
@Injectable()
export class NewInstancePurgeTask implements ScheduledTask {
  private readonly logger = new Logger('DeadMansSwitchPurge');

  constructor(
    @Inject(InstancesRepository) private readonly instances: InstancesRepository,
    @Inject(ChatterService) private readonly chatter: ChatterService,
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(Database) private readonly database: Database,
  ) {}

  async run(now: Date): Promise<void> {
    const days = await this.settings.get(DMS_SETTINGS.newInstanceMaxAgeDays);
    if (days === 0) return;
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    let purged = 0;
    for (;;) {
      const ids = await this.database.transaction(async (manager) => {
        const deleted = await this.instances.deleteNewBefore(cutoff, PURGE_BATCH, manager);
        await this.chatter.deleteThreads(INSTANCE_MODEL, deleted, manager);
        return deleted;
      });
      purged += ids.length;
      if (ids.length < PURGE_BATCH) break;
    }
    if (purged > 0)
      this.logger.log(
        `Purged ${purged} never-activated instance(s) registered more than ${days} days ago ` +
          `(setting ${DMS_SETTINGS.newInstanceMaxAgeDays.key}), with their logs, events and chatter`,
      );
  }
}
