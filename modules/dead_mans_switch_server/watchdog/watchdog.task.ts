import { Inject, Injectable } from '@nestjs/common';
import type { ScheduledTask } from '../../../src/index.js';
import { WatchdogService } from './watchdog.service.js';

/** `dead_mans_switch.watchdog`: one pass every 30 seconds, once across replicas. */
@Injectable()
export class WatchdogTask implements ScheduledTask {
  constructor(@Inject(WatchdogService) private readonly watchdog: WatchdogService) {}

  async run(): Promise<void> {
    await this.watchdog.runPass();
  }
}
