import { Inject, Injectable } from '@nestjs/common';
import type { ScheduledTask } from '../../src/index.js';
import { BackupRunner } from './backup-runner.service.js';
import { BackupDrills } from './backup-drills.service.js';

/** `backup.scheduler`: fails dead runs, runs due configurations, alerts stale ones, runs due restore drills. */
@Injectable()
export class BackupTask implements ScheduledTask {
  constructor(
    @Inject(BackupRunner) private readonly runner: BackupRunner,
    @Inject(BackupDrills) private readonly drills: BackupDrills,
  ) {}

  async run(now: Date): Promise<void> {
    await this.runner.tick(now);
    await this.drills.tick(now);
  }
}
