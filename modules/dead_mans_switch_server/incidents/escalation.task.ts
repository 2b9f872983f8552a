import { Inject, Injectable } from '@nestjs/common';
import type { ScheduledTask } from '../../../src/index.js';
import { EscalationService } from './escalation.service.js';

/** `dead_mans_switch.escalation`: tells the escalation steps due, every 30 seconds (each step once). */
@Injectable()
export class EscalationTask implements ScheduledTask {
  constructor(@Inject(EscalationService) private readonly escalation: EscalationService) {}

  async run(): Promise<void> {
    await this.escalation.runDue();
  }
}
