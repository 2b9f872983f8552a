import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { healthSql, statusSql } from '../health/instance-health.js';
import { Instance, type Health, type InstanceState } from '../instance.entity.js';

/** An instance as the API shows it: its row, its customer's name and its health at a given time. */
export interface InstanceRow {
  id: number;
  database_uuid: string;
  state: InstanceState;
  partner_id: number | null;
  partner_name: string | null;
  user_id: number | null;
  description: string | null;
  alive_max_delay: number;
  last_seen: Date | null;
  last_cpu: number | null;
  last_ram: number | null;
  last_user_count: number | null;
  last_db_size: string | null;
  last_disk_free: string | null;
  last_disk_total: string | null;
  last_backup_at: Date | null;
  last_version: string | null;
  last_uptime: string | null;
  alert_state: 'ok' | 'down';
  next_deadline: Date | null;
  last_alert_at: Date | null;
  next_in: number | null;
  cancelled_at: Date | null;
  has_checkin_token: boolean;
  possible_copy_since: Date | null;
  possible_copy_sources: string[] | null;
  expect_cron: string | null;
  expect_time_zone: string | null;
  expect_grace: number;
  created_at: Date;
  updated_at: Date;
  health: Health | null;
  depends_on_id: number | null;
  probes_down: number;
  suppressed_by_id: number | null;
  suppressed_at: Date | null;
  run_started_at: Date | null;
  run_timeout: number | null;
  run_min_seconds: number | null;
  run_max_seconds: number | null;
  last_run_seconds: number | null;
}

export interface InstanceFilter {
  state?: InstanceState;
  health?: Health;
  partnerId?: number;
  userId?: number;
  q?: string;
  limit: number;
  offset: number;
}

export type LogInterval = 'raw' | 'hour' | 'day';

export interface LogBucket {
  start: Date;
  count: number;
  cpu_avg: number | null;
  cpu_max: number | null;
  ram_avg: number | null;
  ram_max: number | null;
  user_count_avg: number | null;
  user_count_max: number | null;
}

const SELECT_ROW = (
  now: string,
) => `SELECT i.id, i.database_uuid, i.state, i.partner_id, p.name AS partner_name,
    i.user_id, i.description, i.alive_max_delay, i.last_seen, i.last_cpu, i.last_ram, i.last_user_count,
    i.last_db_size, i.last_disk_free, i.last_disk_total, i.last_backup_at, i.last_version, i.last_uptime,
    i.alert_state, i.next_deadline, i.last_alert_at, i.next_in, i.cancelled_at, i.expect_cron,
    i.expect_time_zone, i.expect_grace, i.created_at, i.updated_at, ${healthSql('i', now)} AS health,
    i.checkin_token_hash IS NOT NULL AS has_checkin_token, i.possible_copy_since, i.possible_copy_sources,
    i.depends_on_id, i.probes_down, i.suppressed_by_id, i.suppressed_at, i.run_started_at, i.run_timeout,
    i.run_min_seconds, i.run_max_seconds, i.last_run_seconds
  FROM dead_mans_switch_instance i LEFT JOIN partner p ON p.id = i.partner_id`;

@Injectable()
export class InstancesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(filter: InstanceFilter, now: Date): Promise<{ items: InstanceRow[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    // Numbered on first use: the count query has no parameter it does not reference.
    let nowParam: string | undefined;
    const at = () => (nowParam ??= param(now));
    if (filter.state) where.push(`i.state = ${param(filter.state)}`);
    if (filter.health) where.push(`${healthSql('i', at())} = ${param(filter.health)}`);
    if (filter.partnerId !== undefined) where.push(`i.partner_id = ${param(filter.partnerId)}`);
    if (filter.userId !== undefined) where.push(`i.user_id = ${param(filter.userId)}`);
    if (filter.q) {
      const like = param(`%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(
        `(p.name ILIKE ${like} OR i.description ILIKE ${like} OR i.database_uuid::text ILIKE ${like})`,
      );
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ total }] = await this.db.query<{ total: number }[]>(
      `SELECT count(*)::int AS total FROM dead_mans_switch_instance i LEFT JOIN partner p ON p.id = i.partner_id
       ${whereSql}`,
      params,
    );
    const items = await this.db.query<InstanceRow[]>(
      `${SELECT_ROW(at())} ${whereSql}
       ORDER BY lower(coalesce(p.name, i.database_uuid::text)), i.id
       LIMIT ${param(filter.limit)} OFFSET ${param(filter.offset)}`,
      params,
    );
    return { items, total };
  }

  async findRow(id: number, now: Date, manager?: EntityManager): Promise<InstanceRow | undefined> {
    const rows = await (manager ?? this.db.manager).query<InstanceRow[]>(
      `${SELECT_ROW('$2')} WHERE i.id = $1`,
      [id, now],
    );
    return rows[0];
  }

  /** Locks the row, so that a change, its tracking and a concurrent watchdog pass read the same values. */
  findForUpdate(id: number, manager: EntityManager): Promise<Instance | null> {
    return manager
      .getRepository(Instance)
      .createQueryBuilder('i')
      .setLock('pessimistic_write')
      .where('i.id = :id', { id })
      .getOne();
  }

  // UPDATE statements sit in a CTE: TypeORM returns [rows, count] for a bare UPDATE ... RETURNING.

  /** Writes the managed fields if the row still has the state and check-in it had when read. */
  async compareAndSet(
    before: Instance,
    after: Instance,
    now: Date,
    manager: EntityManager,
  ): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `WITH changed AS (
         UPDATE dead_mans_switch_instance SET state = $4, partner_id = $5, user_id = $6, description = $7,
           alive_max_delay = $8, alert_state = $9, next_deadline = $10, updated_at = $11,
           cancelled_at = $12, expect_cron = $13, expect_time_zone = $14, expect_grace = $15,
           depends_on_id = $16, run_timeout = $17, run_min_seconds = $18, run_max_seconds = $19,
           -- Back to ok (activated, suspended): no outage left to suppress.
           suppressed_by_id = CASE WHEN $9 = 'ok' THEN NULL ELSE suppressed_by_id END,
           suppressed_at = CASE WHEN $9 = 'ok' THEN NULL ELSE suppressed_at END
         WHERE id = $1 AND state = $2 AND last_seen IS NOT DISTINCT FROM $3
         RETURNING id)
       SELECT id FROM changed`,
      [
        before.id,
        before.state,
        before.lastSeen,
        after.state,
        after.partnerId,
        after.userId,
        after.description,
        after.aliveMaxDelay,
        after.alertState,
        after.nextDeadline,
        now,
        after.cancelledAt,
        after.expectCron,
        after.expectTimeZone,
        after.expectGrace,
        after.dependsOnId,
        after.runTimeout,
        after.runMinSeconds,
        after.runMaxSeconds,
      ],
    );
    return rows.length === 1;
  }

  /**
   * Deletes up to `limit` instances still `new` (never activated) that registered before `cutoff`; their logs,
   * roll-ups, events, probes, alerts and maintenance windows go with them (ON DELETE CASCADE). Rows a concurrent
   * transaction holds (an activation) are skipped, and the conditions are checked again on the locked row.
   * Returns the deleted ids.
   */
  async deleteNewBefore(cutoff: Date, limit: number, manager: EntityManager): Promise<number[]> {
    const rows = await manager.query<{ id: number }[]>(
      `WITH purged AS (
         DELETE FROM dead_mans_switch_instance WHERE id IN (
           SELECT id FROM dead_mans_switch_instance WHERE state = 'new' AND created_at < $1
           ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         AND state = 'new' AND created_at < $1
         RETURNING id)
       SELECT id FROM purged`,
      [cutoff, limit],
    );
    return rows.map((row) => row.id);
  }

  /** Stores the hash of an instance's check-in token (null removes it); false when there is no such instance. */
  /**
   * Clears the possible-copy flag, and forgets the source before the last one: only a new interleaving flags it
   * again. False when the instance does not exist.
   */
  async clearPossibleCopy(id: number, now: Date, manager: EntityManager): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `WITH changed AS (
         UPDATE dead_mans_switch_instance SET possible_copy_since = NULL, possible_copy_sources = NULL,
           previous_source = NULL, source_changed_at = NULL, updated_at = $2
         WHERE id = $1 RETURNING id)
       SELECT id FROM changed`,
      [id, now],
    );
    return rows.length === 1;
  }

  async setCheckInTokenHash(
    id: number,
    hash: Buffer | null,
    now: Date,
    manager: EntityManager,
  ): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `WITH changed AS (
         UPDATE dead_mans_switch_instance SET checkin_token_hash = $2, updated_at = $3 WHERE id = $1 RETURNING id)
       SELECT id FROM changed`,
      [id, hash, now],
    );
    return rows.length === 1;
  }

  /**
   * Check-ins per hour or day (in `timeZone`) between two times, for charts. The hours already rolled up are read
   * from the hourly roll-up, the others (the recent hours, and the partial hour at `from`) from the raw rows, and
   * both are merged per bucket. A time zone whose offset in the range is not a whole number of hours (India,
   * Newfoundland…) cuts UTC hours in two: then every bucket is computed from the raw rows.
   */
  async aggregatedLogs(
    instanceId: number,
    interval: 'hour' | 'day',
    from: Date,
    to: Date,
    timeZone: string,
  ): Promise<LogBucket[]> {
    // [lo, hi): the hours read from the roll-up, worked out first so that the planner sees constants and reads
    // only the partitions and index ranges outside them; an empty span (lo = hi = to) reads everything raw.
    const [{ lo, hi }] = await this.db.query<{ lo: Date; hi: Date }[]>(
      `SELECT CASE WHEN rolled THEN first ELSE $2::timestamptz END AS lo,
              CASE WHEN rolled THEN last ELSE $2::timestamptz END AS hi
       FROM (SELECT first, last, first < last AND NOT EXISTS (
               -- A daily look at the offset finds any period of a non-whole-hour offset (they last months).
               SELECT 1 FROM (SELECT generate_series(first, last, interval '1 day') UNION ALL SELECT last) AS t(at)
               WHERE extract(epoch FROM (at AT TIME ZONE $3) - (at AT TIME ZONE 'UTC'))::bigint % 3600 <> 0)
               AS rolled
             FROM (SELECT date_trunc('hour', $1::timestamptz - interval '1 microsecond', 'UTC') + interval '1 hour'
                            AS first,
                          least(coalesce((SELECT rolled_up_until FROM dead_mans_switch_log_rollup), '-infinity'),
                                date_trunc('hour', $2::timestamptz, 'UTC')) AS last) AS edges) AS span`,
      [from, to, timeZone],
    );
    const raw = (start: string, end: string) => `
      SELECT date_trunc($2, received_at, $5), count(*), count(cpu), sum(cpu), max(cpu), count(ram), sum(ram),
             max(ram), count(user_count), sum(user_count)::double precision, max(user_count)
      FROM dead_mans_switch_log
      WHERE instance_id = $1 AND received_at >= ${start} AND received_at < ${end}
      GROUP BY 1`;
    return this.db.query<LogBucket[]>(
      `WITH parts AS (
         SELECT date_trunc($2, hour, $5) AS start, count::bigint AS count,
                cpu_count::bigint AS cpu_n, cpu_avg * cpu_count AS cpu_sum, cpu_max,
                ram_count::bigint AS ram_n, ram_avg * ram_count AS ram_sum, ram_max,
                user_count_count::bigint AS user_count_n, user_count_avg * user_count_count AS user_count_sum,
                user_count_max
         FROM dead_mans_switch_log_hourly
         WHERE instance_id = $1 AND hour >= $6 AND hour < $7
         UNION ALL ${raw('$3', '$6')}
         UNION ALL ${raw('$7', '$4')})
       SELECT start, sum(count)::int AS count,
              sum(cpu_sum) / nullif(sum(cpu_n), 0) AS cpu_avg, max(cpu_max) AS cpu_max,
              sum(ram_sum) / nullif(sum(ram_n), 0) AS ram_avg, max(ram_max) AS ram_max,
              sum(user_count_sum) / nullif(sum(user_count_n), 0) AS user_count_avg, max(user_count_max) AS user_count_max
       FROM parts GROUP BY 1 ORDER BY 1`,
      [instanceId, interval, from, to, timeZone, lo, hi],
    );
  }

  /** The newest check-ins between two times. */
  rawLogs(instanceId: number, from: Date, to: Date, limit: number): Promise<Record<string, unknown>[]> {
    return this.db.query(
      `SELECT received_at, cpu, ram, user_count, db_size, disk_free, disk_total, last_backup_at, version, uptime
       FROM dead_mans_switch_log
       WHERE instance_id = $1 AND received_at >= $2 AND received_at < $3
       ORDER BY received_at DESC LIMIT $4`,
      [instanceId, from, to, limit],
    );
  }

  /** Average CPU per hour of several instances between two times, for sparklines: one query for a whole page. */
  hourlyCpu(
    ids: number[],
    from: Date,
    to: Date,
  ): Promise<{ instance_id: number; hour: Date; cpu: number | null }[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.query(
      `SELECT instance_id, date_trunc('hour', received_at, 'UTC') AS hour, avg(cpu)::double precision AS cpu
       FROM dead_mans_switch_log
       WHERE instance_id = ANY($1) AND received_at >= $2 AND received_at < $3
       GROUP BY 1, 2 ORDER BY 1, 2`,
      [ids, from, to],
    );
  }

  async countByHealth(now: Date): Promise<Record<string, number>> {
    const rows = await this.db.query<{ key: string; count: number }[]>(
      `SELECT ${statusSql('i', '$1')} AS key, count(*)::int AS count
       FROM dead_mans_switch_instance i GROUP BY 1`,
      [now],
    );
    return Object.fromEntries(rows.map((r) => [r.key, r.count]));
  }
}
