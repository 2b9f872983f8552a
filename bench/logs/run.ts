/**
 * Retention of check-in logs at scale: dropping a day's partition of 3,000,000 rows (what the
 * `dead_mans_switch.log_retention` task does) against deleting the same number of rows (what it did before the
 * log was partitioned: batches of 10,000), in the same run, on an embedded PostgreSQL in a temporary folder.
 * `npm run bench:logs`. Environment: BENCH_ROWS (rows per day, default 3,000,000), BENCH_ROUNDS (default 3),
 * BENCH_INSTANCES (default 10,000).
 */
import 'reflect-metadata';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { startVigil } from '../../src/bootstrap/application.js';
import { loadConfig } from '../../src/config/app-config.js';
import { startEmbeddedDatabase } from '../../src/database/embedded-database.js';
import { median } from '../watchdog-rounds.js';
import {
  LogPartitionsRepository,
  dayPartitionName,
} from '../../modules/dead_mans_switch_server/logs/log-partitions.repository.js';
import { RETENTION_BATCH } from '../../modules/dead_mans_switch_server/logs/log-retention.task.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 3_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 10_000);
const DAY_MS = 86_400_000;

/** Fills one UTC day with `ROWS` check-ins spread over the day and the instances. Returns the seconds taken. */
async function fillDay(db: pg.Client, day: Date): Promise<number> {
  const t = performance.now();
  await db.query(
    `INSERT INTO dead_mans_switch_log (instance_id, received_at, cpu, ram, user_count)
     SELECT n % $3 + 1, $1::timestamptz + (n * 86400.0 / $2) * interval '1 second', random() * 100, random() * 100,
       (random() * 20)::int
     FROM generate_series(0, $2 - 1) AS n`,
    [day, ROWS, INSTANCES],
  );
  return (performance.now() - t) / 1000;
}

/** The retention of before the partitions: `DELETE` by batches of 10,000 rows, as `deleteLogsBefore` did. */
async function deleteDay(db: pg.Client, day: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const { rows } = await db.query<{ count: number }>(
      `WITH deleted AS (
         DELETE FROM dead_mans_switch_log WHERE (id, received_at) IN (
           SELECT id, received_at FROM dead_mans_switch_log WHERE received_at >= $1 AND received_at < $2 LIMIT $3)
         RETURNING 1)
       SELECT count(*)::int AS count FROM deleted`,
      [day, new Date(day.getTime() + DAY_MS), RETENTION_BATCH],
    );
    total += rows[0].count;
    if (rows[0].count < RETENTION_BATCH) return total;
  }
}

async function main(): Promise<void> {
  const dataDir = join(tmpdir(), `vigil-bench-logs-${process.pid}`);
  const embedded = await startEmbeddedDatabase({ dataDir, database: 'vigil_bench', ephemeral: true });
  const env = {
    DATABASE_URL: embedded.url,
    DATA_DIR: join(dataDir, 'data'),
    RUNNING_ENV: 'dev',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    SESSION_SECRET: 'bench-session-secret-that-is-long-enough',
    ADMIN_EMAIL: 'admin@bench.test',
    ADMIN_PASSWORD: 'bench-password-1',
    ADDONS: 'dead_mans_switch_server',
    PORT: '0',
  };
  const db = new pg.Client({ connectionString: embedded.url });
  try {
    const vigil = await startVigil({ config: loadConfig(env), listen: false, scheduler: false });
    const partitions = vigil.app.get(LogPartitionsRepository);
    await db.connect();
    await db.query(
      `INSERT INTO dead_mans_switch_instance (database_uuid, state, created_at, updated_at)
       SELECT gen_random_uuid(), 'active', now(), now() FROM generate_series(1, $1)`,
      [INSTANCES],
    );
    const result = { fill_s: [] as number[], drop_ms: [] as number[], delete_ms: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      // Two days per round, long before the partitions the migration made: one dropped, one deleted.
      const dropped = new Date(Date.UTC(2020, 0, 1) + 2 * round * DAY_MS);
      const deleted = new Date(dropped.getTime() + DAY_MS);
      await partitions.createDays(dropped, 1);
      result.fill_s.push(await fillDay(db, dropped), await fillDay(db, deleted));
      await db.query('VACUUM ANALYZE dead_mans_switch_log');
      await db.query('CHECKPOINT');

      let t = performance.now();
      const retention = await partitions.dropLogsBefore(deleted, RETENTION_BATCH);
      result.drop_ms.push(performance.now() - t);
      if (retention.dropped.join() !== dayPartitionName(dropped))
        throw new Error(
          `round ${round}: dropped ${retention.dropped.join()} instead of ${dayPartitionName(dropped)}`,
        );
      await db.query('CHECKPOINT');

      t = performance.now();
      const count = await deleteDay(db, deleted);
      result.delete_ms.push(performance.now() - t);
      if (count !== ROWS) throw new Error(`round ${round}: deleted ${count} rows instead of ${ROWS}`);
      // The emptied partition goes too, untimed, before the next round.
      await partitions.dropLogsBefore(new Date(deleted.getTime() + DAY_MS), RETENTION_BATCH);
    }
    await vigil.close();
    console.log(
      'logs',
      JSON.stringify(
        {
          rows_per_day: ROWS,
          instances: INSTANCES,
          fill_s: result.fill_s.map((s) => Math.round(s * 10) / 10),
          drop_partition_ms: result.drop_ms.map((ms) => Math.round(ms * 10) / 10),
          drop_partition_median_ms: Math.round(median(result.drop_ms) * 10) / 10,
          delete_batches_ms: result.delete_ms.map((ms) => Math.round(ms)),
          delete_batches_median_ms: Math.round(median(result.delete_ms)),
        },
        null,
        2,
      ),
    );
    console.log(
      `machine: ${cpus().length} cores (${cpus()[0]?.model}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    );
  } finally {
    await db.end().catch(() => undefined);
    await embedded.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
