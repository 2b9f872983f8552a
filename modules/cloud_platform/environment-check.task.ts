import { Injectable } from '@nestjs/common';
import type { ScheduledTask } from '../../src/index.js';
import { PlatformEnvironmentService } from './platform-environment.service.js';

/** `cloud_platform.environment_check`: re-runs the checks every `cloud_platform.check_interval`, on one replica. */
@Injectable()
export class EnvironmentCheckTask implements ScheduledTask {
  constructor(private readonly environments: PlatformEnvironmentService) {}

  async run(now: Date): Promise<void> {
    await this.environments.recheckIfDue(now);
  }
}
