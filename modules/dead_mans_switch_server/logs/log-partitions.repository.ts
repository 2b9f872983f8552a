import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Database } from '../../../src/index.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * How long a partition statement waits for its lock. Dropping a partition needs the log table to itself for an
 * instant, and attaching one a lock on the instance table (its foreign key) that check-ins' updates conflict
 * with: while the statement waits, check-ins queue behind it, so it gives up soon and tries again a little later.
 */
export const PARTITION_LOCK_TIMEOUT = '2s';
/** Tries per partition statement before leaving it to the task's next run. */
const PARTITION_LOCK_TRIES = 5;

/** Runs `work` again after a pause when it gave up waiting for a lock (SQLSTATE 55P03), a few times. */
async function retryOnLockTimeout<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const failure = error as { driverError?: { code?: string }; code?: string };
      const code = failure.code ?? failure.driverError?.code;
      if (code !== '55P03' || attempt >= PARTITION_LOCK_TRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    }
  }
}

/** The partition of one UTC day: `dead_mans_switch_log_20261130`. */
export const dayPartitionName = (day: Date) =>
  `dead_mans_switch_log_${day.toISOString().slice(0, 10).replaceAll('-', '')}`;

/** The roll-up partition of one UTC month: `dead_mans_switch_log_hourly_202611`. */
export const monthPartitionName = (month: Date) =>
  `dead_mans_switch_log_hourly_${month.toISOString().slice(0, 7).replace('-', '')}`;

export const startOfDay = (at: Date) => new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
export const startOfHour = (at: Date) => new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
const startOfMonth = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
const nextMonth = (month: Date) => new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));

export interface Partition {
  name: string;
  from: Date;
  to: Date;
}

/**
 * The partitions of `dead_mans_switch_log` (one per UTC day, and a default one) and of its hourly roll-up
 * `dead_mans_switch_log_hourly` (one per UTC month): creating them ahead, dropping them for retention, and
 * filling the roll-up.
 */
@Injectable()
export class LogPartitionsRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(Database) private readonly database: Database,
  ) {}

  /** The range partitions of a partitioned table, oldest first (the default partition is not listed). */
  async partitions(table: string, manager?: EntityManager): Promise<Partition[]> {
    const rows = await (manager ?? this.db.manager).query<{ name: string; from: Date; to: Date }[]>(
      `SELECT c.relname AS name, bound[1]::timestamptz AS "from", bound[2]::timestamptz AS "to"
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
         regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\) TO \\(''([^'']+)''\\)') AS bound
       WHERE i.inhparent = $1::regclass AND bound IS NOT NULL
       ORDER BY 2`,
      [table],
    );
    return rows;
  }

  /**
   * Creates the missing day partitions of the log from `from`'s day through `days` days later. Each is created
   * apart and attached: that takes no exclusive lock on the log table, but its foreign key needs the instance
   * table's SHARE ROW EXCLUSIVE lock for an instant, which check-ins' updates wait for. Rows of that day that fell
   * into the default partition meanwhile move into it. Returns the partitions created and the rows moved.
   */
  async createDays(from: Date, days: number): Promise<{ created: string[]; moved: number }> {
    const existing = new Set((await this.partitions('dead_mans_switch_log')).map((p) => p.from.getTime()));
    const created: string[] = [];
    let moved = 0;
    for (let i = 0; i <= days; i++) {
      const day = new Date(startOfDay(from).getTime() + i * DAY_MS);
      if (existing.has(day.getTime())) continue;
      moved += await this.createDay(day);
      created.push(dayPartitionName(day));
    }
    return { created, moved };
  }

  private createDay(day: Date): Promise<number> {
    const name = dayPartitionName(day);
    const to = new Date(day.getTime() + DAY_MS);
    return retryOnLockTimeout(() =>
      this.database.transaction(async (manager) => {
        await manager.query(`SET LOCAL lock_timeout = '${PARTITION_LOCK_TIMEOUT}'`);
        // No new row may fall into the default partition for this day until it is attached: check-ins of other days
        // never touch the default partition, so they are not held.
        await manager.query('LOCK TABLE dead_mans_switch_log_default IN SHARE ROW EXCLUSIVE MODE');
        await manager.query(
          `CREATE TABLE ${name} (LIKE dead_mans_switch_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
           CHECK (received_at >= '${day.toISOString()}' AND received_at < '${to.toISOString()}'))`,
        );
        const [{ count }] = await manager.query<{ count: number }[]>(
          `WITH moved AS (
           DELETE FROM dead_mans_switch_log_default WHERE received_at >= $1 AND received_at < $2 RETURNING *)
         , copied AS (INSERT INTO ${name} SELECT * FROM moved RETURNING 1)
         SELECT count(*)::int AS count FROM copied`,
          [day, to],
        );
        // The CHECK spares the scan of the new partition; attaching then builds its (empty) indexes.
        await manager.query(
          `ALTER TABLE dead_mans_switch_log ATTACH PARTITION ${name}
           FOR VALUES FROM ('${day.toISOString()}') TO ('${to.toISOString()}')`,
        );
        return count;
      }),
    );
  }

  /**
   * Retention of the raw logs: drops the day partitions that end at or before `before` (whole days: a partition
   * goes once its last row is older than the retention), and deletes the older rows of the default partition.
   * No row of a partition is deleted one by one. Returns the partitions dropped and the default rows deleted.
   */
  async dropLogsBefore(before: Date, batch: number): Promise<{ dropped: string[]; deleted: number }> {
    const dropped = await this.dropPartitionsBefore('dead_mans_switch_log', before);
    let deleted = 0;
    for (;;) {
      const [{ count }] = await this.db.query<{ count: number }[]>(
        `WITH deleted AS (
           DELETE FROM dead_mans_switch_log_default WHERE ctid IN (
             SELECT ctid FROM dead_mans_switch_log_default WHERE received_at < $1 LIMIT $2)
           RETURNING 1)
         SELECT count(*)::int AS count FROM deleted`,
        [before, batch],
      );
      deleted += count;
      if (count < batch) return { dropped, deleted };
    }
  }

  /** Retention of the roll-ups: drops the month partitions that end at or before `before`. */
  dropRollupsBefore(before: Date): Promise<string[]> {
    return this.dropPartitionsBefore('dead_mans_switch_log_hourly', before);
  }

  private async dropPartitionsBefore(table: string, before: Date): Promise<string[]> {
    const old = (await this.partitions(table)).filter((p) => p.to.getTime() <= before.getTime());
    for (const partition of old) {
      // One partition per transaction: each holds the table's lock for an instant only.
      await retryOnLockTimeout(() =>
        this.database.transaction(async (manager) => {
          await manager.query(`SET LOCAL lock_timeout = '${PARTITION_LOCK_TIMEOUT}'`);
          await manager.query(`DROP TABLE ${partition.name}`);
        }),
      );
    }
    return old.map((p) => p.name);
  }

  /** The end of the last hour rolled up (every hour before it is in the roll-up); null when none yet. */
  async rolledUpUntil(manager?: EntityManager): Promise<Date | null> {
    const [row] = await (manager ?? this.db.manager).query<{ rolled_up_until: Date | null }[]>(
      'SELECT rolled_up_until FROM dead_mans_switch_log_rollup WHERE id = 1',
    );
    return row?.rolled_up_until ?? null;
  }

  /**
   * Rolls up the next complete hour that ends at or before `until`, if any: one transaction holding the progress
   * row's lock, so that of two replicas the second waits and then finds the hour done. The upsert makes a second
   * pass over the same hour harmless too. Returns the hour rolled up, or undefined when none was due.
   */
  rollUpNextHour(until: Date): Promise<Date | undefined> {
    return this.database.transaction(async (manager) => {
      await manager.query(
        'INSERT INTO dead_mans_switch_log_rollup (id) VALUES (1) ON CONFLICT (id) DO NOTHING',
      );
      const [{ rolled_up_until: done }] = await manager.query<{ rolled_up_until: Date | null }[]>(
        'SELECT rolled_up_until FROM dead_mans_switch_log_rollup WHERE id = 1 FOR UPDATE',
      );
      // Nothing rolled up yet: start at the oldest check-in (the log was empty when it was partitioned, so this
      // reads few rows), or, with none at all, at the current hour.
      let hour = done;
      if (!hour) {
        const [{ oldest }] = await manager.query<{ oldest: Date | null }[]>(
          'SELECT min(received_at) AS oldest FROM dead_mans_switch_log',
        );
        hour = startOfHour(oldest ?? until);
      }
      const end = new Date(hour.getTime() + HOUR_MS);
      if (end.getTime() > until.getTime()) {
        if (!done) await this.setRolledUpUntil(hour, manager);
        return undefined;
      }
      await this.ensureMonth(hour, manager);
      await manager.query(
        `INSERT INTO dead_mans_switch_log_hourly (instance_id, hour, count, cpu_count, cpu_min, cpu_avg, cpu_max,
           ram_count, ram_min, ram_avg, ram_max, user_count_count, user_count_min, user_count_avg, user_count_max)
         SELECT instance_id, $1, count(*), count(cpu), min(cpu), avg(cpu), max(cpu), count(ram), min(ram), avg(ram),
           max(ram), count(user_count), min(user_count), avg(user_count)::double precision, max(user_count)
         FROM dead_mans_switch_log WHERE received_at >= $1 AND received_at < $2
         GROUP BY instance_id
         ON CONFLICT (instance_id, hour) DO UPDATE SET count = EXCLUDED.count,
           cpu_count = EXCLUDED.cpu_count, cpu_min = EXCLUDED.cpu_min, cpu_avg = EXCLUDED.cpu_avg,
           cpu_max = EXCLUDED.cpu_max, ram_count = EXCLUDED.ram_count, ram_min = EXCLUDED.ram_min,
           ram_avg = EXCLUDED.ram_avg, ram_max = EXCLUDED.ram_max, user_count_count = EXCLUDED.user_count_count,
           user_count_min = EXCLUDED.user_count_min, user_count_avg = EXCLUDED.user_count_avg,
           user_count_max = EXCLUDED.user_count_max`,
        [hour, end],
      );
      await this.setRolledUpUntil(end, manager);
      return hour;
    });
  }

  private async setRolledUpUntil(at: Date, manager: EntityManager): Promise<void> {
    await manager.query('UPDATE dead_mans_switch_log_rollup SET rolled_up_until = $1 WHERE id = 1', [at]);
  }

  /** The roll-up's partition of the month of `hour`, created when missing (under the progress row's lock). */
  private async ensureMonth(hour: Date, manager: EntityManager): Promise<void> {
    const month = startOfMonth(hour);
    const name = monthPartitionName(month);
    const [{ exists }] = await manager.query<{ exists: boolean }[]>(
      'SELECT to_regclass($1) IS NOT NULL AS exists',
      [name],
    );
    if (exists) return;
    await manager.query(
      `CREATE TABLE ${name} PARTITION OF dead_mans_switch_log_hourly
         FOR VALUES FROM ('${month.toISOString()}') TO ('${nextMonth(month).toISOString()}')`,
    );
  }
}
