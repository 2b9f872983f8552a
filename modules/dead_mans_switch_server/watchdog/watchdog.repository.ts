import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { gapGraceSql, isDueSql, reminderDeadlineSql } from '../health/instance-health.js';

/**
 * What the watchdog read of a due instance. Times are kept as PostgreSQL wrote them (text), so that the
 * compare-and-set compares them exactly, microseconds included.
 */
export interface DueInstance {
  id: number;
  partner_id: number | null;
  alert_state: 'ok' | 'down';
  last_seen: string | null;
  next_deadline: string;
  overdue_seconds: number;
  /** The ancestor that suppressed its down alert (dependencies), if any. */
  suppressed_by_id: number | null;
}

export interface Transition {
  id: number;
  previous: 'ok' | 'down';
  /** The down alert when it was ok or its outage was suppressed so far (no one was told); else a reminder. */
  kind: 'down' | 'reminder';
}

@Injectable()
export class WatchdogRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Records this pass and returns the previous one, under the row's lock: of two replicas, the second waits
   * for the first to finish its gap handling, then sees its pass.
   */
  async recordPass(now: Date, manager: EntityManager): Promise<Date | undefined> {
    await manager.query(
      'INSERT INTO dead_mans_switch_watchdog (id, last_pass_at) VALUES (1, $1) ON CONFLICT (id) DO NOTHING',
      [now],
    );
    const [{ last_pass_at: previous }] = await manager.query<{ last_pass_at: Date }[]>(
      'SELECT last_pass_at FROM dead_mans_switch_watchdog WHERE id = 1 FOR UPDATE',
    );
    await manager.query(
      'UPDATE dead_mans_switch_watchdog SET last_pass_at = greatest(last_pass_at, $1) WHERE id = 1',
      [now],
    );
    return previous.getTime() < now.getTime() ? previous : undefined;
  }

  /** After a gap: the instances `gapGrace` names get their fresh grace period. Returns how many. */
  async grantGrace(gapStart: Date, now: Date, manager: EntityManager): Promise<number> {
    const grace = gapGraceSql('$1::timestamptz', '$2::timestamptz');
    const rows = await manager.query<unknown[]>(
      `WITH graced AS (
         UPDATE dead_mans_switch_instance SET next_deadline = ${grace.deadline} WHERE ${grace.where}
         RETURNING id)
       SELECT id FROM graced`,
      [gapStart, now],
    );
    return rows.length;
  }

  /**
   * Claims due instances through the partial index; rows another replica holds are skipped, not waited for, and
   * so are `excluded` ones (whose alert failed earlier in this pass).
   */
  claimDue(now: Date, limit: number, excluded: number[], manager: EntityManager): Promise<DueInstance[]> {
    return manager.query<DueInstance[]>(
      `SELECT id, partner_id, alert_state, last_seen::text AS last_seen, next_deadline::text AS next_deadline,
              suppressed_by_id, extract(epoch FROM $1::timestamptz - next_deadline)::double precision AS overdue_seconds
       FROM dead_mans_switch_instance
       WHERE ${isDueSql('$1')} AND id <> ALL($3::int[])
       ORDER BY next_deadline
       LIMIT $2
       FOR UPDATE SKIP LOCKED`,
      [now, limit, excluded],
    );
  }

  // UPDATE statements sit in a CTE: TypeORM returns [rows, count] for a bare UPDATE ... RETURNING.

  /**
   * The compare-and-set of a batch: each instance goes down (or stays down, with its next reminder) only if
   * it is still active with the alert state, last check-in and deadline the decision read. Returns the
   * transitions that happened. An instance whose outage was suppressed is no longer: its alert is told now.
   */
  async transition(due: DueInstance[], now: Date, manager: EntityManager): Promise<Transition[]> {
    if (due.length === 0) return [];
    return manager.query<Transition[]>(
      `WITH moved AS (
         UPDATE dead_mans_switch_instance i
         SET alert_state = 'down', last_alert_at = $5,
             next_deadline = ${reminderDeadlineSql('$5::timestamptz', 'i.')},
             suppressed_by_id = NULL, suppressed_at = NULL
         FROM unnest($1::int[], $2::text[], $3::timestamptz[], $4::timestamptz[], $6::int[])
           AS read(id, alert_state, last_seen, next_deadline, suppressed_by_id)
         WHERE i.id = read.id AND i.state = 'active' AND i.alert_state = read.alert_state
           AND i.last_seen IS NOT DISTINCT FROM read.last_seen AND i.next_deadline = read.next_deadline
           AND i.suppressed_by_id IS NOT DISTINCT FROM read.suppressed_by_id
         RETURNING i.id, read.alert_state AS previous,
           CASE WHEN read.alert_state = 'ok' OR read.suppressed_by_id IS NOT NULL THEN 'down' ELSE 'reminder' END
             AS kind)
       SELECT id, previous, kind FROM moved ORDER BY id`,
      [
        due.map((d) => d.id),
        due.map((d) => d.alert_state),
        due.map((d) => d.last_seen),
        due.map((d) => d.next_deadline),
        now,
        due.map((d) => d.suppressed_by_id),
      ],
    );
  }

  /**
   * In a maintenance window: the deadline moves to the window's end, without an alert, if the instance is still
   * as read (compare-and-set). Still down then, it alerts then. Returns the ids moved.
   */
  async defer(due: (DueInstance & { until: Date })[], manager: EntityManager): Promise<number[]> {
    if (due.length === 0) return [];
    const rows = await manager.query<{ id: number }[]>(
      `WITH moved AS (
         UPDATE dead_mans_switch_instance i SET next_deadline = read.until
         FROM unnest($1::int[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[])
           AS read(id, alert_state, last_seen, next_deadline, until)
         WHERE i.id = read.id AND i.state = 'active' AND i.alert_state = read.alert_state
           AND i.last_seen IS NOT DISTINCT FROM read.last_seen AND i.next_deadline = read.next_deadline
         RETURNING i.id)
       SELECT id FROM moved`,
      [
        due.map((d) => d.id),
        due.map((d) => d.alert_state),
        due.map((d) => d.last_seen),
        due.map((d) => d.next_deadline),
        due.map((d) => d.until),
      ],
    );
    return rows.map((r) => r.id);
  }
}
