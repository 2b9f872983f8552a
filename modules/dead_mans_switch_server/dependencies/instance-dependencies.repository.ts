import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { reminderDeadlineSql } from '../health/instance-health.js';
import { DISPLAY_NAME_COLUMNS, displayName } from '../instance-names.repository.js';

/** Deeper chains than this are cut short: a guard against a cycle written by hand, not a product limit. */
export const MAX_DEPTH = 100;

/**
 * SQL: an instance (alias) counts as down for its dependents: active and alerted down (suppressed included),
 * overdue (its own alert may come later in the same pass), or with a probe down.
 */
export const downForDependentsSql = (alias: string, now: string) =>
  `(${alias}.state = 'active' AND (${alias}.alert_state = 'down' OR ${alias}.next_deadline <= ${now}
    OR ${alias}.probes_down > 0))`;

/** A dependent listed on its ancestor: down without an alert because of it. */
export interface SuppressedChild {
  id: number;
  name: string;
  since: Date | null;
}

/** Instance dependencies: the chains of `depends_on_id`, suppression and the probes' down count. */
@Injectable()
export class InstanceDependenciesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Serializes changes of dependencies across replicas until the transaction ends (two edits cannot make a cycle). */
  async lockGraph(manager: EntityManager): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('dms-dependencies', 0))`);
  }

  /** `id` and the instances it depends on, nearest first, until the chain ends (or comes back to one seen). */
  async chain(id: number, manager: EntityManager): Promise<number[]> {
    const rows = await manager.query<{ id: number }[]>(
      `WITH RECURSIVE up(id, depth, path) AS (
         SELECT id, 0, ARRAY[id] FROM dead_mans_switch_instance WHERE id = $1
         UNION ALL
         SELECT i.depends_on_id, up.depth + 1, up.path || i.depends_on_id
         FROM up JOIN dead_mans_switch_instance i ON i.id = up.id
         WHERE i.depends_on_id IS NOT NULL AND NOT i.depends_on_id = ANY(up.path) AND up.depth < ${MAX_DEPTH})
       SELECT id FROM up ORDER BY depth`,
      [id],
    );
    return rows.map((row) => row.id);
  }

  /**
   * For each of `ids`, its nearest ancestor that is down for its dependents at `now`, if any (transitive: a
   * grandparent down counts, and so does a parent itself suppressed by it).
   */
  async downAncestors(ids: number[], now: Date, manager: EntityManager): Promise<Map<number, number>> {
    if (ids.length === 0) return new Map();
    const rows = await manager.query<{ id: number; ancestor_id: number }[]>(
      `WITH RECURSIVE up(child, ancestor, depth, path) AS (
         SELECT i.id, i.depends_on_id, 1, ARRAY[i.id]
         FROM dead_mans_switch_instance i WHERE i.id = ANY($1::int[]) AND i.depends_on_id IS NOT NULL
         UNION ALL
         SELECT up.child, p.depends_on_id, up.depth + 1, up.path || up.ancestor
         FROM up JOIN dead_mans_switch_instance p ON p.id = up.ancestor
         WHERE p.depends_on_id IS NOT NULL AND NOT p.depends_on_id = ANY(up.path || up.ancestor)
           AND up.depth < ${MAX_DEPTH})
       SELECT DISTINCT ON (up.child) up.child AS id, a.id AS ancestor_id
       FROM up JOIN dead_mans_switch_instance a ON a.id = up.ancestor
       WHERE ${downForDependentsSql('a', '$2::timestamptz')}
       ORDER BY up.child, up.depth`,
      [ids, now],
    );
    return new Map(rows.map((row) => [row.id, row.ancestor_id]));
  }

  /**
   * The watchdog's compare-and-set for due instances whose ancestor is down: down (the truth is kept) with the
   * next look at the reminder time, but suppressed by that ancestor, without an alert. Returns the ids moved.
   */
  async suppress(
    due: {
      id: number;
      alert_state: string;
      last_seen: string | null;
      next_deadline: string;
      ancestor: number;
    }[],
    now: Date,
    manager: EntityManager,
  ): Promise<number[]> {
    if (due.length === 0) return [];
    const rows = await manager.query<{ id: number }[]>(
      `WITH moved AS (
         UPDATE dead_mans_switch_instance i
         SET alert_state = 'down', last_alert_at = $6, next_deadline = ${reminderDeadlineSql('$6::timestamptz', 'i.')},
             suppressed_by_id = read.ancestor, suppressed_at = coalesce(i.suppressed_at, $6)
         FROM unnest($1::int[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[])
           AS read(id, alert_state, last_seen, next_deadline, ancestor)
         WHERE i.id = read.id AND i.state = 'active' AND i.alert_state = read.alert_state
           AND i.last_seen IS NOT DISTINCT FROM read.last_seen AND i.next_deadline = read.next_deadline
         RETURNING i.id)
       SELECT id FROM moved ORDER BY id`,
      [
        due.map((d) => d.id),
        due.map((d) => d.alert_state),
        due.map((d) => d.last_seen),
        due.map((d) => d.next_deadline),
        due.map((d) => d.ancestor),
        now,
      ],
    );
    return rows.map((row) => row.id);
  }

  /**
   * The dependents suppressed by each of `ids`, and (with `dueAt`) those about to be: active, not alerted yet and
   * overdue at `dueAt` (the same pass suppresses them).
   */
  async suppressedChildren(
    ids: number[],
    manager: EntityManager = this.db.manager,
    dueAt?: Date,
  ): Promise<Map<number, SuppressedChild[]>> {
    const result = new Map<number, SuppressedChild[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return result;
    const rows = await manager.query<
      {
        parent: number;
        id: number;
        since: Date | null;
        partner_name: string | null;
        database_uuid: string;
        description: string | null;
      }[]
    >(
      `SELECT coalesce(i.suppressed_by_id, i.depends_on_id) AS parent, i.id, i.suppressed_at AS since,
              ${DISPLAY_NAME_COLUMNS}
       FROM dead_mans_switch_instance i LEFT JOIN partner p ON p.id = i.partner_id
       WHERE i.suppressed_by_id = ANY($1::int[])
          OR ($2::timestamptz IS NOT NULL AND i.depends_on_id = ANY($1::int[]) AND i.suppressed_by_id IS NULL
              AND i.state = 'active' AND i.alert_state = 'ok' AND i.next_deadline <= $2)
       ORDER BY i.id`,
      [ids, dueAt ?? null],
    );
    for (const row of rows)
      result.get(row.parent)?.push({ id: row.id, name: displayName(row), since: row.since });
    return result;
  }

  /**
   * Dependents whose suppressing ancestor is no longer down (it checked in, its probes are up, it was suspended)
   * are due now: the watchdog pass that follows alerts them (or finds another ancestor down). Returns how many.
   */
  async wakeReleased(now: Date, manager: EntityManager): Promise<number> {
    const rows = await manager.query<{ id: number }[]>(
      `WITH woken AS (
         UPDATE dead_mans_switch_instance c SET next_deadline = $1
         FROM dead_mans_switch_instance a
         WHERE a.id = c.suppressed_by_id AND c.state = 'active' AND c.alert_state = 'down'
           AND c.next_deadline > $1 AND NOT ${downForDependentsSql('a', '$1::timestamptz')}
         RETURNING c.id)
       SELECT id FROM woken`,
      [now],
    );
    return rows.length;
  }

  /** Sets how many probes of the instance are down. */
  async setProbesDown(id: number, count: number, manager: EntityManager): Promise<void> {
    await manager.query('UPDATE dead_mans_switch_instance SET probes_down = $2 WHERE id = $1', [id, count]);
  }

  /** Every instance as a choice for `depends_on` (id and display name), by name. */
  async choices(): Promise<{ id: number; name: string }[]> {
    const rows = await this.db.query<
      { id: number; partner_name: string | null; database_uuid: string; description: string | null }[]
    >(
      `SELECT i.id, ${DISPLAY_NAME_COLUMNS}
       FROM dead_mans_switch_instance i LEFT JOIN partner p ON p.id = i.partner_id
       WHERE i.state <> 'new'
       ORDER BY lower(coalesce(p.name, i.database_uuid::text)), i.id LIMIT 1000`,
    );
    return rows.map((row) => ({ id: row.id, name: displayName(row) }));
  }
}
