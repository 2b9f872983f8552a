import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { ManualClock, SettingsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, emptyDatabase, query } from '../../../test/harness/database.js';
import { Api } from '../../../test/harness/http.js';
import { migrateAddon } from '../../../test/harness/migrations.js';
import { SourceRateLimiter } from '../checkin/source-rate-limiter.js';
import { LogPartitionsTask } from '../logs/log-partitions.task.js';
import { LogRollupTask } from '../logs/log-rollup.task.js';
import { manifest } from '../manifest.js';
import { DeadMansSwitchServerLogPartitions1733200000000 } from '../migrations/1733200000000-dead_mans_switch_server-log-partitions.js';
import { SETTINGS } from '../settings.js';
import { LogRetentionTask } from '../logs/log-retention.task.js';
import { count, instanceByUuid, newUuid, postAlive } from './helpers.js';

const DAY_MS = 86_400_000;

/** The partitions of a partitioned table as PostgreSQL lists them (pg_inherits), by name. */
async function partitionsOf(db: string, table: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    db,
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = $1::regclass ORDER BY 1`,
    [table],
  );
  return rows.map((r) => r.name);
}

const dayName = (day: string) => `dead_mans_switch_log_${day.replaceAll('-', '')}`;

describe('check-in logs: day partitions, retention by partition, hourly roll-ups', () => {
  it('the migration partitions an existing log table and keeps every row, its id and the id sequence', async () => {
    const db = await emptyDatabase();
    try {
      const previous = manifest.migrations.filter(
        (m) => m !== DeadMansSwitchServerLogPartitions1733200000000,
      );
      await migrateAddon(db, manifest.name, previous);
      // The old shape: one table, rows over four days and one far in the past, ids from the identity.
      const [{ id }] = await query<{ id: number }>(
        db,
        `INSERT INTO dead_mans_switch_instance (database_uuid) VALUES (gen_random_uuid()) RETURNING id`,
      );
      await query(
        db,
        `INSERT INTO dead_mans_switch_log (instance_id, received_at, cpu, ram, user_count, db_size, version)
         SELECT $1, t, n, n * 2, n::int % 7, n * 1000, 'v' || n
         FROM generate_series(1, 300) AS n, LATERAL (SELECT timestamptz '2024-02-28 23:30:00+00' + n * interval '10 minutes') AS x(t)`,
        [id],
      );
      await query(
        db,
        `INSERT INTO dead_mans_switch_log (instance_id, received_at, cpu) VALUES ($1, '2019-06-01 12:00:00+00', 42)`,
        [id],
      );
      const snapshot = () => query(db, 'SELECT * FROM dead_mans_switch_log ORDER BY id');
      const rowsBefore = await snapshot();
      assert.equal(rowsBefore.length, 301);

      assert.deepEqual(await migrateAddon(db, manifest.name, manifest.migrations), [
        `${manifest.name}/DeadMansSwitchServerLogPartitions1733200000000`,
      ]);

      const [{ relkind }] = await query<{ relkind: string }>(
        db,
        `SELECT relkind FROM pg_class WHERE relname = 'dead_mans_switch_log'`,
      );
      assert.equal(relkind, 'p');
      assert.deepEqual(await snapshot(), rowsBefore);
      // Each row sits in its day's partition; the default partition is empty.
      const placed = await query(
        db,
        `SELECT tableoid::regclass::text AS partition, count(*)::int AS n FROM dead_mans_switch_log GROUP BY 1 ORDER BY 1`,
      );
      assert.deepEqual(placed, [
        { partition: dayName('2019-06-01'), n: 1 },
        { partition: dayName('2024-02-28'), n: 2 },
        { partition: dayName('2024-02-29'), n: 144 },
        { partition: dayName('2024-03-01'), n: 144 },
        { partition: dayName('2024-03-02'), n: 10 },
      ]);
      const partitions = await partitionsOf(db, 'dead_mans_switch_log');
      assert.ok(partitions.includes('dead_mans_switch_log_default'));
      // Today and a week ahead are ready (the database's clock, as the migration saw it).
      const today = new Date();
      for (let i = 0; i <= 7; i++)
        assert.ok(
          partitions.includes(dayName(new Date(today.getTime() + i * DAY_MS).toISOString().slice(0, 10))),
        );
      // The numbering goes on after the highest id.
      const [{ id: next }] = await query<{ id: string }>(
        db,
        `INSERT INTO dead_mans_switch_log (instance_id, received_at) VALUES ($1, now()) RETURNING id`,
        [id],
      );
      assert.equal(Number(next), 302);
      // The roll-up starts at the oldest check-in's hour.
      const [{ rolled_up_until }] = await query<{ rolled_up_until: Date }>(
        db,
        'SELECT rolled_up_until FROM dead_mans_switch_log_rollup',
      );
      assert.equal(rolled_up_until.toISOString(), '2019-06-01T12:00:00.000Z');
    } finally {
      await dropDatabase(db);
    }
  });

  describe('on a running server', () => {
    let app: TestApp;
    let db: string;
    let admin: Api;
    const clock = new ManualClock(new Date('2030-03-10T08:00:00Z'));
    const partitionsTask = () => app.get(LogPartitionsTask);

    before(async () => {
      db = await cloneTemplate();
      app = await startTestApp({ databaseUrl: db, clock });
      admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
      // The tests move the clock back and forth; the per-source limit would read that as a burst.
      await app.get(SettingsService).set(SETTINGS.checkInsPerSourcePerMinute, '0');
      app.get(SourceRateLimiter).reload();
    });

    after(async () => {
      await app?.close();
      await dropDatabase(db);
    });

    const checkIn = async (uuid: string, at: string, stats: Record<string, unknown> = {}) => {
      clock.set(new Date(at));
      assert.equal((await postAlive(app, { database_uuid: uuid, ...stats })).status, 200);
    };
    const where = async (uuid: string) =>
      query<{ partition: string; received_at: Date }>(
        db,
        `SELECT l.tableoid::regclass::text AS partition, l.received_at FROM dead_mans_switch_log l
         JOIN dead_mans_switch_instance i ON i.id = l.instance_id WHERE i.database_uuid = $1 ORDER BY l.received_at`,
        [uuid],
      );

    it('leaves the partitioned tables to migrations: TypeORM never synchronizes the schema', () => {
      const options = app.get(DataSource).options;
      assert.equal(options.synchronize, false);
      assert.equal(options.migrationsRun, false);
    });

    it('creates the partitions of today and a week ahead, by the injected clock', async () => {
      await partitionsTask().run(new Date('2030-03-10T08:00:00Z'));
      const far = new Date('2041-07-15T23:59:00Z');
      await partitionsTask().run(far);
      const partitions = await partitionsOf(db, 'dead_mans_switch_log');
      for (const day of ['2030-03-10', '2030-03-17', '2041-07-15', '2041-07-18', '2041-07-22'])
        assert.ok(partitions.includes(dayName(day)), day);
      assert.ok(!partitions.includes(dayName('2030-03-18')));
      assert.ok(!partitions.includes(dayName('2041-07-23')));
      // Running again creates nothing more.
      const before = partitions.length;
      await partitionsTask().run(far);
      assert.equal((await partitionsOf(db, 'dead_mans_switch_log')).length, before);
    });

    it("stores each check-in in its day's partition; without one, in the default partition until the task moves it", async () => {
      const uuid = newUuid();
      await checkIn(uuid, '2030-03-10T23:59:59Z');
      await checkIn(uuid, '2030-03-11T00:00:00Z');
      // No partition for that day yet: the check-in still succeeds.
      await checkIn(uuid, '2030-03-25T10:00:00Z');
      assert.deepEqual(
        (await where(uuid)).map((r) => r.partition),
        [dayName('2030-03-10'), dayName('2030-03-11'), 'dead_mans_switch_log_default'],
      );
      await partitionsTask().run(new Date('2030-03-24T10:00:00Z'));
      assert.deepEqual(
        (await where(uuid)).map((r) => r.partition),
        [dayName('2030-03-10'), dayName('2030-03-11'), dayName('2030-03-25')],
      );
      assert.equal(await count(db, 'dead_mans_switch_log_default'), 0);
    });

    it('retention drops whole day partitions: the older days are gone, newer rows are not touched', async () => {
      const uuid = newUuid();
      await checkIn(uuid, '2030-03-12T06:00:00Z');
      await checkIn(uuid, '2030-03-13T06:00:00Z');
      await checkIn(uuid, '2030-03-13T18:00:00Z');
      const physical = () =>
        query<{ ctid: string; xmin: string }>(
          db,
          `SELECT ctid::text, xmin::text FROM ${dayName('2030-03-13')} ORDER BY received_at`,
        );
      const kept = await physical();
      await app.get(SettingsService).set(SETTINGS.logRetentionDays, '10');
      // The cut falls on 2030-03-13 12:00: the 12th is dropped, the 13th is whole days only, so it stays whole.
      await app.get(LogRetentionTask).run(new Date('2030-03-23T12:00:00Z'));
      const partitions = await partitionsOf(db, 'dead_mans_switch_log');
      for (const day of ['2030-03-10', '2030-03-11', '2030-03-12'])
        assert.ok(!partitions.includes(dayName(day)), day);
      assert.ok(partitions.includes(dayName('2030-03-13')));
      const [{ gone }] = await query<{ gone: boolean }>(db, 'SELECT to_regclass($1) IS NULL AS gone', [
        dayName('2030-03-12'),
      ]);
      assert.equal(gone, true);
      // Same tuples, same transaction ids: nothing deleted or rewritten in the partition kept.
      assert.deepEqual(await physical(), kept);
      assert.deepEqual(
        (await where(uuid)).map((r) => r.received_at.toISOString()),
        ['2030-03-13T06:00:00.000Z', '2030-03-13T18:00:00.000Z'],
      );
      await app.get(SettingsService).set(SETTINGS.logRetentionDays, '365');
    });

    it('a partition statement that waits too long for its lock gives up and tries again', async () => {
      await partitionsTask().run(new Date('2030-02-01T00:00:00Z'));
      // A long reader of the log holds its lock for 3 s: the drop gives up after 2 s and succeeds on a later try.
      const reader = new pg.Client({ connectionString: db });
      await reader.connect();
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM dead_mans_switch_log');
      const released = new Promise((resolve) => setTimeout(resolve, 3000)).then(() => reader.query('COMMIT'));
      const t = performance.now();
      await app.get(LogRetentionTask).run(new Date('2031-02-05T00:00:00Z'));
      const waited = performance.now() - t;
      await released;
      await reader.end();
      assert.ok(waited > 2500, `${waited} ms`);
      assert.ok(!(await partitionsOf(db, 'dead_mans_switch_log')).includes(dayName('2030-02-01')));
    });

    it('rolls up each complete hour once, matching the raw aggregates, across reruns', async () => {
      const a = newUuid();
      const b = newUuid();
      const times = [
        '2030-03-14T09:05:00Z',
        '2030-03-14T09:35:00Z',
        '2030-03-14T10:10:00Z',
        '2030-03-14T11:50:00Z',
      ];
      for (const [i, at] of times.entries()) {
        await checkIn(a, at, { cpu: i * 7.5, ram: 40 + i, user_count: i });
        // b sends no statistics at 09:35: its averages count only the check-ins that carried them.
        await checkIn(b, at, i === 1 ? {} : { cpu: 100 - i, ram: 10, user_count: 3 });
      }
      const raw = `SELECT instance_id, date_trunc('hour', received_at, 'UTC') AS hour, count(*)::int AS count,
          count(cpu)::int AS cpu_count, min(cpu) AS cpu_min, avg(cpu) AS cpu_avg, max(cpu) AS cpu_max,
          count(ram)::int AS ram_count, min(ram) AS ram_min, avg(ram) AS ram_avg, max(ram) AS ram_max,
          count(user_count)::int AS user_count_count, min(user_count) AS user_count_min,
          avg(user_count)::double precision AS user_count_avg, max(user_count) AS user_count_max
        FROM dead_mans_switch_log WHERE instance_id = ANY($1) AND received_at < '2030-03-14T11:00:00Z'
        GROUP BY 1, 2 ORDER BY 1, 2`;
      const rolled = `SELECT instance_id, hour, count, cpu_count, cpu_min, cpu_avg, cpu_max, ram_count, ram_min,
          ram_avg, ram_max, user_count_count, user_count_min, user_count_avg, user_count_max
        FROM dead_mans_switch_log_hourly WHERE instance_id = ANY($1) ORDER BY 1, 2`;
      const ids = [(await instanceByUuid(db, a)).id, (await instanceByUuid(db, b)).id];
      // 11:04: hour 10 ended less than the settle delay ago, it waits.
      await app.get(LogRollupTask).run(new Date('2030-03-14T11:04:00Z'));
      assert.deepEqual(
        (await query<{ hour: Date }>(db, rolled, [ids])).map((r) => r.hour.toISOString()),
        ['2030-03-14T09:00:00.000Z', '2030-03-14T09:00:00.000Z'],
      );
      await app.get(LogRollupTask).run(new Date('2030-03-14T11:06:00Z'));
      const expected = await query(db, raw, [ids]);
      assert.equal(expected.length, 4);
      assert.deepEqual(await query(db, rolled, [ids]), expected);
      // Twice, or an hour rolled up again (a replica that read an old state): the same rows.
      await app.get(LogRollupTask).run(new Date('2030-03-14T11:06:00Z'));
      await query(db, `UPDATE dead_mans_switch_log_rollup SET rolled_up_until = '2030-03-14T09:00:00Z'`);
      await app.get(LogRollupTask).run(new Date('2030-03-14T11:06:00Z'));
      assert.deepEqual(await query(db, rolled, [ids]), expected);
      const [{ rolled_up_until }] = await query<{ rolled_up_until: Date }>(
        db,
        'SELECT rolled_up_until FROM dead_mans_switch_log_rollup',
      );
      assert.equal(rolled_up_until.toISOString(), '2030-03-14T11:00:00.000Z');
      assert.deepEqual(await partitionsOf(db, 'dead_mans_switch_log_hourly'), [
        'dead_mans_switch_log_hourly_203003',
      ]);
    });

    it('the logs API reads rolled-up hours and the recent raw hours, the same buckets as from raw rows alone', async () => {
      const uuid = newUuid();
      const { rolled_up_until } = (
        await query<{ rolled_up_until: Date }>(db, 'SELECT rolled_up_until FROM dead_mans_switch_log_rollup')
      )[0];
      const start = rolled_up_until.getTime();
      // Check-ins every 20 minutes over 30 hours from the roll-up's progress on.
      for (let t = 0; t < 30 * 3_600_000; t += 20 * 60_000)
        await checkIn(uuid, new Date(start + t).toISOString(), {
          cpu: (t / 60_000) % 97,
          ram: 50,
          user_count: (t / 3_600_000) % 5,
        });
      const { id } = await instanceByUuid(db, uuid);
      const from = new Date(start - 3_600_000).toISOString();
      const to = new Date(start + 31 * 3_600_000).toISOString();
      const logs = async (interval: string, tz: string) => {
        const response = await admin.get(
          `/api/v1/dead_mans_switch/instances/${id}/logs?interval=${interval}&from=${from}&to=${to}&tz=${tz}`,
        );
        assert.equal(response.status, 200);
        return response.body as { items: Record<string, unknown>[] };
      };
      const reads = [
        ['hour', 'UTC'],
        ['day', 'UTC'],
        ['day', 'Europe/Paris'],
        ['hour', 'Asia/Kolkata'],
      ] as const;
      const fromRaw = [];
      for (const [interval, tz] of reads) fromRaw.push(await logs(interval, tz));
      assert.equal(fromRaw[0].items.length, 30);

      // The first 24 hours are rolled up; the last 6 are not (yet).
      clock.set(new Date(start + 30 * 3_600_000));
      await app.get(LogRollupTask).run(clock.now());
      const [{ rolled }] = await query<{ rolled: Date }>(
        db,
        'SELECT rolled_up_until AS rolled FROM dead_mans_switch_log_rollup',
      );
      assert.equal(rolled.getTime(), start + 29 * 3_600_000);
      // Without the raw rows of the rolled-up hours (as after their retention), the buckets come from the roll-up.
      await query(db, 'DELETE FROM dead_mans_switch_log WHERE instance_id = $1 AND received_at < $2', [
        id,
        rolled,
      ]);
      const close = (actual: Record<string, unknown>[], expected: Record<string, unknown>[]) => {
        assert.equal(actual.length, expected.length);
        actual.forEach((bucket, i) => {
          for (const [key, value] of Object.entries(expected[i])) {
            if (typeof value === 'number') assert.ok(Math.abs(Number(bucket[key]) - value) < 1e-9, key);
            else assert.deepEqual(bucket[key], value, key);
          }
        });
      };
      close((await logs('hour', 'UTC')).items, fromRaw[0].items);
      close((await logs('day', 'UTC')).items, fromRaw[1].items);
      close((await logs('day', 'Europe/Paris')).items, fromRaw[2].items);
      // Half-hour offsets cut UTC hours: read from the raw rows alone, which now hold the last hour only.
      const kolkata = (await logs('hour', 'Asia/Kolkata')).items;
      assert.deepEqual(
        kolkata.map((b) => b.count),
        [2, 1],
      );
      assert.deepEqual(Object.keys(fromRaw[0].items[0]).sort(), [
        'count',
        'cpu_avg',
        'cpu_max',
        'ram_avg',
        'ram_max',
        'start',
        'user_count_avg',
        'user_count_max',
      ]);
    });

    it('drops the roll-up months older than dead_mans_switch.rollup_retention_days', async () => {
      // Seeded with the addon: two years of roll-ups, one of raw rows (DESIGN section 4).
      assert.equal(await app.get(SettingsService).get(SETTINGS.rollupRetentionDays), 730);
      assert.equal(await app.get(SettingsService).get(SETTINGS.logRetentionDays), 365);
      await app.get(SettingsService).set(SETTINGS.rollupRetentionDays, '30');
      await app.get(LogRetentionTask).run(new Date('2030-04-30T00:00:00Z'));
      assert.deepEqual(await partitionsOf(db, 'dead_mans_switch_log_hourly'), [
        'dead_mans_switch_log_hourly_203003',
      ]);
      await app.get(LogRetentionTask).run(new Date('2030-05-01T00:00:00Z'));
      assert.deepEqual(await partitionsOf(db, 'dead_mans_switch_log_hourly'), []);
    });
  });
});
