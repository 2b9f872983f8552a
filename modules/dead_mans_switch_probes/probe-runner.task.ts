import { Inject, Injectable } from '@nestjs/common';
import type { ScheduledTask } from '../../src/index.js';
import { ProbesService } from './probes.service.js';

/**
 * `dead_mans_switch.probes`: every 15 s runs the probes whose `next_run_at` passed. Ticks may overlap across
 * replicas when probes are slow: each probe is claimed with SKIP LOCKED, so none runs twice.
 */
@Injectable()
export class ProbeRunnerTask implements ScheduledTask {
  constructor(@Inject(ProbesService) private readonly probes: ProbesService) {}

  async run(): Promise<void> {
    await this.probes.runDue();
  }
}
