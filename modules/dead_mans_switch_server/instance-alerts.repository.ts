import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AlertKind } from './instance-alert.entity.js';
import { DISPLAY_NAME_COLUMNS } from './instance-names.repository.js';

/** What an alert message says about its instance. */
export interface AlertTarget {
  id: number;
  database_uuid: string;
  last_seen: Date | null;
  alive_max_delay: number;
  /** The last check-in's declared deadline, when it gave one (the delay in force). */
  next_in: number | null;
  expect_cron: string | null;
  expect_time_zone: string | null;
  expect_grace: number;
  partner_name: string | null;
  description: string | null;
  /** When the current (or last) outage was alerted: the newest down alert. */
  down_at: Date | null;
  /** Reminders posted since that down alert. */
  reminders: number;
  /** The job run in progress (job-run timing), and how long it may take. */
  run_started_at: Date | null;
  run_timeout: number | null;
}

/** Alert ids before a reader's cursor that `transitionsAfter` reads again if they are recent. */
const LOOKBACK = 1000;

/** The alert rows and what their messages read; every statement runs in the caller's transaction. */
@Injectable()
export class InstanceAlertsRepository {
  /** The instances alerts are about, by id. */
  async targets(ids: number[], manager: EntityManager): Promise<Map<number, AlertTarget>> {
    const rows = await manager.query<AlertTarget[]>(
      `SELECT i.id, i.last_seen, i.alive_max_delay, i.next_in, i.expect_cron, i.expect_time_zone, i.expect_grace,
              i.run_started_at, i.run_timeout,
              ${DISPLAY_NAME_COLUMNS}, d.created_at AS down_at,
              (SELECT count(*)::int FROM dead_mans_switch_alert r
                WHERE r.instance_id = i.id AND r.kind = 'reminder' AND r.created_at >= d.created_at) AS reminders
       FROM dead_mans_switch_instance i LEFT JOIN partner p ON p.id = i.partner_id
       LEFT JOIN LATERAL (SELECT a.created_at FROM dead_mans_switch_alert a WHERE a.instance_id = i.id AND a.kind = 'down'
                          ORDER BY a.created_at DESC, a.id DESC LIMIT 1) d ON true
       WHERE i.id = ANY($1)`,
      [ids],
    );
    return new Map(rows.map((row) => [row.id, row]));
  }

  /** Records the alerts with the messages that told them, set-based: a mass outage is a few statements. */
  async record(
    alerts: { kind: AlertKind; instanceId: number; messageId: number }[],
    at: Date,
    manager: EntityManager,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO dead_mans_switch_alert (instance_id, kind, message_id, created_at)
       SELECT instance_id, kind, message_id, $4 FROM unnest($1::int[], $2::text[], $3::int[])
         AS a(instance_id, kind, message_id)`,
      [alerts.map((a) => a.instanceId), alerts.map((a) => a.kind), alerts.map((a) => a.messageId), at],
    );
  }

  /** The newest alert's id ('0' when there is none). */
  async lastId(manager: EntityManager): Promise<string> {
    const [row] = await manager.query<{ id: string }[]>(
      'SELECT coalesce(max(id), 0)::text AS id FROM dead_mans_switch_alert',
    );
    return row.id;
  }

  /**
   * Down and back-up alerts after `afterId`, oldest first, with their instance's customer and name; with them,
   * those of the LOOKBACK ids at or before it created after `recentSince`: an alert whose transaction committed
   * after a later id's was read (ids are taken in insertion order, not commit order) is not missed.
   */
  transitionsAfter(
    afterId: string,
    limit: number,
    recentSince: Date,
    manager: EntityManager,
  ): Promise<AlertTransition[]> {
    return manager.query<AlertTransition[]>(
      `SELECT a.id::text AS id, a.instance_id, i.partner_id, i.description, a.kind, a.created_at
         FROM dead_mans_switch_alert a JOIN dead_mans_switch_instance i ON i.id = a.instance_id
        WHERE a.kind IN ('down', 'up') AND i.state = 'active'
          AND (a.id > $1::bigint OR (a.id > $1::bigint - $4 AND a.created_at > $3))
        ORDER BY a.id LIMIT $2`,
      [afterId, limit + LOOKBACK, recentSince, LOOKBACK],
    );
  }
}

/** A down or back-up transition of an instance, for readers outside this addon (status pages). */
export interface AlertTransition {
  id: string;
  instance_id: number;
  partner_id: number | null;
  description: string | null;
  kind: 'down' | 'up';
  created_at: Date;
}
