import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ChatterService, systemContext, type RequestContext } from '../../src/index.js';
import type { AlertKind } from './instance-alert.entity.js';
import type { Instance } from './instance.entity.js';
import { InstanceAlertsRepository } from './instance-alerts.repository.js';
import { displayName, instanceDisplayName } from './instance-names.repository.js';
import type { EventLevel } from './instance-event.entity.js';
import { INSTANCE_MODEL, SUBTYPE_CANCELLED, SUBTYPE_DOWN, SUBTYPE_EVENT, SUBTYPE_UP } from './settings.js';

const MESSAGES: Record<AlertKind, { subtype: string; subject: string; body: string }> = {
  down: {
    subtype: SUBTYPE_DOWN,
    subject: 'dead_mans_switch_server.alerts.down_subject',
    body: 'dead_mans_switch_server.alerts.down_body',
  },
  reminder: {
    subtype: SUBTYPE_DOWN,
    subject: 'dead_mans_switch_server.alerts.reminder_subject',
    body: 'dead_mans_switch_server.alerts.reminder_body',
  },
  up: {
    subtype: SUBTYPE_UP,
    subject: 'dead_mans_switch_server.alerts.up_subject',
    body: 'dead_mans_switch_server.alerts.up_body',
  },
};

/**
 * What the instance tells its followers, through the chatter: the down alert, its reminders and the recovery
 * message, and the tracking of management changes. Every method writes in the caller's transaction
 * (`manager`), so an alert exists exactly when the state change that decided it committed.
 */
@Injectable()
export class InstanceAlertsService {
  constructor(
    @Inject(ChatterService) private readonly chatter: ChatterService,
    @Inject(InstanceAlertsRepository) private readonly alertRows: InstanceAlertsRepository,
  ) {}

  /** Posts one alert; returns its message id. */
  async alert(kind: AlertKind, instanceId: number, at: Date, manager: EntityManager): Promise<number> {
    const [posted] = await this.alertMany([{ kind, instanceId }], at, manager);
    return posted.messageId;
  }

  /**
   * Posts many alerts set-based, in a few statements: a mass outage must not take a statement per follower.
   * Returns them with their message ids, in the given order.
   */
  async alertMany(
    alerts: { kind: AlertKind; instanceId: number }[],
    at: Date,
    manager: EntityManager,
  ): Promise<{ kind: AlertKind; instanceId: number; messageId: number }[]> {
    if (alerts.length === 0) return [];
    const instances = await this.alertRows.targets(
      alerts.map((a) => a.instanceId),
      manager,
    );
    const posted = await this.chatter.postMany(
      systemContext(),
      alerts.map(({ kind, instanceId }) => {
        const instance = instances.get(instanceId)!;
        const lastSeen = instance.last_seen?.toISOString() ?? '-';
        const args = { name: displayName(instance), last_seen: lastSeen };
        const message = MESSAGES[kind];
        return {
          thread: { model: INSTANCE_MODEL, id: instanceId },
          message: {
            subtype: message.subtype,
            subject: { key: message.subject, args },
            body: { key: message.body, args },
            type: 'notification' as const,
            template: 'dead_mans_switch_server/instance_alert',
            templateValues: {
              kind,
              database_uuid: instance.database_uuid,
              last_seen: lastSeen,
              alive_max_delay: instance.alive_max_delay,
            },
          },
        };
      }),
      manager,
    );
    const recorded = alerts.map((a, i) => ({ ...a, messageId: posted[i].id }));
    await this.alertRows.record(recorded, at, manager);
    return recorded;
  }

  /**
   * The instance cancelled itself: an internal note to the followers (users), with the state change tracked,
   * authored by no one (the instance, not a user, asked for it).
   */
  async cancelled(instance: Instance, at: Date, manager: EntityManager): Promise<void> {
    const name = await instanceDisplayName(instance.id, manager);
    const args = { name, at: at.toISOString() };
    await this.chatter.post(
      systemContext(),
      { model: INSTANCE_MODEL, id: instance.id },
      {
        subtype: SUBTYPE_CANCELLED,
        type: 'note',
        subject: { key: 'dead_mans_switch_server.alerts.cancelled_subject', args },
        body: { key: 'dead_mans_switch_server.alerts.cancelled_body', args },
        tracking:
          instance.state === 'suspended'
            ? []
            : [{ field: 'state', oldValue: instance.state, newValue: 'suspended' }],
      },
      manager,
    );
  }

  /** An event at or above the alert level, posted to the followers with its level and message. */
  async event(
    instanceId: number,
    event: { level: EventLevel; message: string; receivedAt: Date },
    manager: EntityManager,
  ): Promise<void> {
    const name = await instanceDisplayName(instanceId, manager);
    const args = { name, level: event.level, message: event.message };
    await this.chatter.post(
      systemContext(),
      { model: INSTANCE_MODEL, id: instanceId },
      {
        subtype: SUBTYPE_EVENT,
        type: 'notification',
        subject: { key: 'dead_mans_switch_server.alerts.event_subject', args },
        body: { key: 'dead_mans_switch_server.alerts.event_body', args },
        template: 'dead_mans_switch_server/instance_event',
        templateValues: {
          level: event.level,
          message: event.message,
          received_at: event.receivedAt.toISOString(),
        },
      },
      manager,
    );
  }

  /** Logs the changes of tracked fields (state, customer, responsible); a new responsible user follows. */
  async track(ctx: RequestContext, before: Instance, after: Instance, manager: EntityManager): Promise<void> {
    await this.chatter.track(ctx, { model: INSTANCE_MODEL, id: before.id }, before, after, {}, manager);
  }
}
