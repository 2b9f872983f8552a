import { Injectable } from '@nestjs/common';
import type { ScheduledTask } from '../../src/index.js';
import { DeadMansSwitchClientService } from './dead-mans-switch-client.service.js';

/** Runs often (TASK_PERIOD); the service decides from the shared state whether a check-in is due. */
@Injectable()
export class CheckInTask implements ScheduledTask {
  constructor(private readonly client: DeadMansSwitchClientService) {}

  async run(now: Date): Promise<void> {
    await this.client.runIfDue(now);
  }
}
