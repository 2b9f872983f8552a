import { Inject, Injectable } from '@nestjs/common';
import type { ScheduledTask } from '../../src/index.js';
import { BackupRunner } from './backup-runner.service.js';

/** `backup.scheduler`: fails dead runs, runs due configurations, alerts stale ones. */
@Injectable()
export class BackupTask implements ScheduledTask {
  constructor(@Inject(BackupRunner) private readonly runner: BackupRunner) {}

  run(now: Date): Promise<void> {
    return this.runner.tick(now);
  }
}
