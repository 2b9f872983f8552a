import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RequestContext } from '../../src/index.js';
import type { AlertKind } from './instance-alert.entity.js';
import type { Instance } from './instance.entity.js';
import { InstancesRepository } from './instances/instances.repository.js';

/**
 * What the instance tells its followers, through the chatter: the down alert, its reminders and the recovery
 * message, and the tracking of management changes. Every method writes in the caller's transaction
 * (`manager`), so an alert exists exactly when the state change that decided it committed.
 */
@Injectable()
export class InstanceAlertsService {
  constructor(@Inject(InstancesRepository) private readonly instances: InstancesRepository) {}

  async alert(kind: AlertKind, instanceId: number, at: Date, manager: EntityManager): Promise<void> {
    const messageId: number | null = null;
    await manager.query(
      'INSERT INTO dead_mans_switch_alert (instance_id, kind, message_id, created_at) VALUES ($1, $2, $3, $4)',
      [instanceId, kind, messageId, at],
    );
  }

  /** Logs the changes of tracked fields (state, customer, responsible) between two snapshots. */
  async track(
    _ctx: RequestContext,
    _before: Instance,
    _after: Instance,
    _manager: EntityManager,
  ): Promise<void> {}
}
