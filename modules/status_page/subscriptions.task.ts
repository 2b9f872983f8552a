import { Inject, Injectable } from '@nestjs/common';
import type { ScheduledTask } from '../../src/index.js';
import { SubscriptionsService } from './subscriptions.service.js';

export const NOTIFY_TASK = 'status_page.notify_subscribers';

/** Tells the status pages' subscribers of down/up alerts and new maintenance, and purges stale subscriptions. */
@Injectable()
export class NotifySubscribersTask implements ScheduledTask {
  constructor(@Inject(SubscriptionsService) private readonly subscriptions: SubscriptionsService) {}

  run(): Promise<void> {
    return this.subscriptions.run();
  }
}
