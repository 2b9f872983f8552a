import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  ChatterService,
  systemContext,
  type RequestContext,
  type TrackingValueInput,
  type Translatable,
} from '../../src/index.js';
import type { AlertKind } from './instance-alert.entity.js';
import type { Instance } from './instance.entity.js';
import {
  InstanceAlertsRepository,
  type AlertTarget,
  type AlertTransition,
} from './instance-alerts.repository.js';
import { displayName, instanceDisplayName } from './instance-names.repository.js';
import type { EventLevel } from './instance-event.entity.js';
import { InstanceDependenciesService } from './dependencies/instance-dependencies.service.js';
import { IncidentsService } from './incidents/incidents.service.js';
import type { SuppressedChild } from './dependencies/instance-dependencies.repository.js';
import { INSTANCE_MODEL, SUBTYPE_CANCELLED, SUBTYPE_DOWN, SUBTYPE_EVENT, SUBTYPE_UP } from './settings.js';

const SUBTYPES: Record<AlertKind, string> = { down: SUBTYPE_DOWN, reminder: SUBTYPE_DOWN, up: SUBTYPE_UP };
const ALERTS = 'dead_mans_switch_server.alerts';

/** How the health changed with an alert, as the chatter tracks it (a reminder changes nothing). */
const HEALTH: Record<AlertKind, TrackingValueInput[]> = {
  down: [{ field: 'health', oldValue: 'late', newValue: 'down' }],
  reminder: [],
  up: [{ field: 'health', oldValue: 'down', newValue: 'up' }],
};

/** Whole seconds from `from` to `to`. */
const secondsBetween = (from: Date, to: Date) =>
  Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));

/**
 * What an alert says, stored as translation keys with raw arguments (times, seconds, counts) that each reader's
 * language formats: when the instance was last seen and how long ago, what was expected of it, which reminder
 * this is, how long the outage lasted.
 */
export function alertText(
  kind: AlertKind,
  instance: AlertTarget,
  at: Date,
): { subject: Translatable; body: Translatable } {
  const name = displayName(instance);
  const lastSeen = instance.last_seen ? new Date(instance.last_seen) : null;
  const expected: Translatable = instance.expect_cron
    ? {
        key: `${ALERTS}.expected_cron`,
        args: {
          cron: instance.expect_cron,
          time_zone: instance.expect_time_zone ?? 'UTC',
          grace: instance.expect_grace,
        },
      }
    : { key: `${ALERTS}.expected_every`, args: { delay: instance.next_in ?? instance.alive_max_delay } };
  const seen: Record<string, string | number> = lastSeen
    ? { last_seen: lastSeen.toISOString(), silence: secondsBetween(lastSeen, at) }
    : {};
  // Keys of their own (not `down_body`, `reminder_subject`, `reminder_body`): messages stored before keep theirs,
  // with the arguments they were stored with.
  const seenOrNever = lastSeen ? 'seen' : 'never';
  const runStarted = instance.run_started_at ? new Date(instance.run_started_at) : null;
  switch (kind) {
    case 'down':
      // A job run that started and did not finish in time (job-run timing).
      if (
        runStarted &&
        instance.run_timeout !== null &&
        secondsBetween(runStarted, at) >= instance.run_timeout
      )
        return {
          subject: { key: `${ALERTS}.down_subject`, args: { name } },
          body: {
            key: `${ALERTS}.down_body_run`,
            args: { name, started: runStarted.toISOString(), timeout: instance.run_timeout },
          },
        };
      return {
        subject: { key: `${ALERTS}.down_subject`, args: { name } },
        body: { key: `${ALERTS}.down_body_${seenOrNever}`, args: { name, ...seen, expected } },
      };
    case 'reminder': {
      const count = instance.reminders + 1;
      return {
        subject: { key: `${ALERTS}.reminder_subject_nth`, args: { name, count } },
        body: {
          key: lastSeen ? `${ALERTS}.reminder_body_nth` : `${ALERTS}.reminder_body_nth_never`,
          args: { name, count, ...seen, expected },
        },
      };
    }
    case 'up': {
      const downAt = instance.down_at ? new Date(instance.down_at) : null;
      return {
        subject: { key: `${ALERTS}.up_subject`, args: { name } },
        body: downAt
          ? { key: `${ALERTS}.up_body_downtime`, args: { name, downtime: secondsBetween(downAt, at) } }
          : { key: `${ALERTS}.up_body`, args: { name } },
      };
    }
  }
}

/** An alert of an instance that silences dependents names them (down and reminders: silenced; up: still down). */
export function withSuppressed(
  text: { subject: Translatable; body: Translatable },
  kind: AlertKind,
  children: SuppressedChild[],
): { subject: Translatable; body: Translatable } {
  if (children.length === 0) return text;
  return {
    subject: text.subject,
    body: {
      key: `${ALERTS}.${kind === 'up' ? 'with_suppressed_up' : 'with_suppressed'}`,
      args: { text: text.body, count: children.length, names: children.map((c) => c.name).join(', ') },
    },
  };
}

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
    @Inject(InstanceDependenciesService) private readonly dependencies: InstanceDependenciesService,
    @Inject(IncidentsService) private readonly incidents: IncidentsService,
  ) {}

  /** The newest alert's id, in the caller's transaction: where a reader of the transitions starts. */
  lastAlertId(manager: EntityManager): Promise<string> {
    return this.alertRows.lastId(manager);
  }

  /**
   * The down and back-up alerts of active instances after `afterId` (oldest first, at least `limit` of them), in
   * the caller's transaction: what other addons (status pages) read after their own cursor. Recent ones (after
   * `recentSince`) just before the cursor come again, so that one committed late is not missed: readers dedupe.
   */
  transitionsAfter(
    afterId: string,
    limit: number,
    recentSince: Date,
    manager: EntityManager,
  ): Promise<AlertTransition[]> {
    return this.alertRows.transitionsAfter(afterId, limit, recentSince, manager);
  }

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
    alerts: { kind: AlertKind; instanceId: number; incidentId?: number }[],
    at: Date,
    manager: EntityManager,
  ): Promise<{ kind: AlertKind; instanceId: number; messageId: number }[]> {
    if (alerts.length === 0) return [];
    const instances = await this.alertRows.targets(
      alerts.map((a) => a.instanceId),
      manager,
    );
    // The dependents an instance's outage silences: listed in its down alert, reminders and recovery.
    const silenced = await this.dependencies.suppressedChildren(
      alerts.filter((a) => a.kind !== 'up').map((a) => a.instanceId),
      manager,
      at,
    );
    for (const [id, children] of await this.dependencies.suppressedChildren(
      alerts.filter((a) => a.kind === 'up').map((a) => a.instanceId),
      manager,
    ))
      silenced.set(id, children);
    const posted = await this.chatter.postMany(
      systemContext(),
      alerts.map(({ kind, instanceId, incidentId }) => {
        const instance = instances.get(instanceId)!;
        const children = silenced.get(instanceId) ?? [];
        const text = withSuppressed(alertText(kind, instance, at), kind, children);
        const downAt = instance.down_at ? new Date(instance.down_at) : null;
        return {
          thread: { model: INSTANCE_MODEL, id: instanceId },
          message: {
            subtype: SUBTYPES[kind],
            ...text,
            type: 'notification' as const,
            tracking: HEALTH[kind],
            template: 'dead_mans_switch_server/instance_alert',
            templateValues: {
              kind,
              database_uuid: instance.database_uuid,
              last_seen: instance.last_seen ? new Date(instance.last_seen).toISOString() : null,
              alive_max_delay: instance.alive_max_delay,
              delay: instance.next_in ?? instance.alive_max_delay,
              expect_cron: instance.expect_cron,
              expect_time_zone: instance.expect_time_zone,
              expect_grace: instance.expect_grace,
              reminder: kind === 'reminder' ? instance.reminders + 1 : null,
              down_at: kind === 'down' ? at.toISOString() : (downAt?.toISOString() ?? null),
              downtime: kind === 'up' && downAt ? secondsBetween(downAt, at) : null,
              suppressed_children: children.map((c) => c.name),
              // The incident an acknowledge link in the e-mail or chat message points to.
              incident_ids: incidentId ? [incidentId] : [],
            },
          },
        };
      }),
      manager,
    );
    const recorded = alerts.map(({ kind, instanceId }, i) => ({ kind, instanceId, messageId: posted[i].id }));
    await this.alertRows.record(recorded, at, manager);
    return recorded;
  }

  /**
   * The instance cancelled itself: an internal note to the followers (users), with the state change tracked,
   * authored by no one (the instance, not a user, asked for it). It is no longer watched: its open incidents close.
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
    await this.incidents.monitoringStopped(instance.id, at, manager);
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

  /** A finished job run outside its bounds (job-run timing): posted to the followers as an event. */
  async runDuration(
    instanceId: number,
    run: { kind: 'fast' | 'slow'; seconds: number; bound: number },
    manager: EntityManager,
  ): Promise<void> {
    const name = await instanceDisplayName(instanceId, manager);
    const args = { name, seconds: run.seconds, bound: run.bound };
    await this.chatter.post(
      systemContext(),
      { model: INSTANCE_MODEL, id: instanceId },
      {
        subtype: SUBTYPE_EVENT,
        type: 'notification',
        subject: { key: `${ALERTS}.run_too_${run.kind}_subject`, args },
        body: { key: `${ALERTS}.run_too_${run.kind}_body`, args },
      },
      manager,
    );
  }

  /**
   * Check-ins of the instance's uuid come from two sources in turn (`checkin.service.ts`): posted once to the
   * followers, until a manager clears the flag.
   */
  async possibleCopy(instanceId: number, sources: [string, string], manager: EntityManager): Promise<void> {
    const name = await instanceDisplayName(instanceId, manager);
    const args = { name, a: sources[0], b: sources[1] };
    await this.chatter.post(
      systemContext(),
      { model: INSTANCE_MODEL, id: instanceId },
      {
        subtype: SUBTYPE_EVENT,
        type: 'notification',
        subject: { key: 'dead_mans_switch_server.alerts.possible_copy_subject', args },
        body: { key: 'dead_mans_switch_server.alerts.possible_copy_body', args },
      },
      manager,
    );
  }

  /** Logs the changes of tracked fields (state, customer, responsible); a new responsible user follows. */
  async track(ctx: RequestContext, before: Instance, after: Instance, manager: EntityManager): Promise<void> {
    await this.chatter.track(ctx, { model: INSTANCE_MODEL, id: before.id }, before, after, {}, manager);
  }
}
