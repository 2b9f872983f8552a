/**
 * The watchdog at scale: one pass over 1,000,000 active instances with none due, then with 10,000 due (two
 * followers each, SMTP configured, so every alert writes inbox and e-mail rows), on an embedded PostgreSQL in a
 * temporary folder. `npm run bench:watchdog`. Environment: BENCH_INSTANCES (default 1,000,000), BENCH_DUE
 * (default 10,000), BENCH_ROUNDS (default 3).
 */
import 'reflect-metadata';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { startVigil } from '../../src/bootstrap/application.js';
import { loadConfig } from '../../src/config/app-config.js';
import { startEmbeddedDatabase } from '../../src/database/embedded-database.js';
import { median, timeWatchdogRounds } from '../watchdog-rounds.js';
import { WatchdogService } from '../../modules/dead_mans_switch_server/watchdog/watchdog.service.js';

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1_000_000);
const DUE = Number(process.env.BENCH_DUE ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function main(): Promise<void> {
  const dataDir = join(tmpdir(), `vigil-bench-watchdog-${process.pid}`);
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
    // Every alert also writes an e-mail row per follower; nothing is sent (the dispatcher's timers are off).
    SMTP_URL: 'smtp://127.0.0.1:2525',
  };
  const db = new pg.Client({ connectionString: embedded.url });
  try {
    const vigil = await startVigil({ config: loadConfig(env), listen: false, scheduler: false });
    await db.connect();
    const t = performance.now();
    await db.query(
      `INSERT INTO dead_mans_switch_instance (database_uuid, state, last_seen, last_cpu, last_ram, last_user_count,
         alive_max_delay, next_deadline, created_at, updated_at)
       SELECT gen_random_uuid(), 'active', now(), 1, 20, 3, 600, now() + interval '1 hour', now(), now()
       FROM generate_series(1, $1)`,
      [INSTANCES],
    );
    await db.query(`
      WITH p AS (INSERT INTO partner (name, email) VALUES ('Bench Follower', 'follower@bench.test') RETURNING id)
      INSERT INTO users (email, password_hash, roles, partner_id) SELECT 'follower@bench.test', 'x', '{viewer}', id FROM p`);
    await db.query(`INSERT INTO partner (name, email) VALUES ('Bench Contact', 'contact@bench.test')`);
    // Two followers on the instances that will be due.
    await db.query(
      `WITH f AS (
         INSERT INTO mail_follower (model, res_id, partner_id)
         SELECT 'dead_mans_switch.instance', i.id, p.id
         FROM dead_mans_switch_instance i CROSS JOIN partner p
         WHERE i.id <= $1 AND p.email IN ('follower@bench.test', 'contact@bench.test')
         RETURNING id)
       INSERT INTO mail_follower_subtype (follower_id, subtype_id)
       SELECT f.id, s.id FROM f CROSS JOIN mail_subtype s WHERE s.key LIKE 'dead_mans_switch.%'`,
      [DUE * ROUNDS],
    );
    await db.query('VACUUM ANALYZE');
    console.log(`seeded ${INSTANCES} instances in ${Math.round((performance.now() - t) / 1000)} s`);

    const watchdog = vigil.app.get(WatchdogService);
    const { passes, empty, cpu } = await timeWatchdogRounds(watchdog, db, DUE, ROUNDS);
    const notifications = Number((await db.query('SELECT count(*) FROM mail_notification')).rows[0].count);
    await vigil.close();
    console.log(
      'watchdog',
      JSON.stringify(
        {
          instances: INSTANCES,
          due_per_pass: DUE,
          followers_per_due_instance: 2,
          notifications_written: notifications,
          empty_pass_ms: empty.map((e) => Math.round(e * 10) / 10),
          empty_pass_median_ms: Math.round(median(empty) * 10) / 10,
          pass_ms: passes.map((p) => Math.round(p)),
          pass_median_ms: Math.round(median(passes)),
          pass_node_cpu_median_ms: Math.round(median(cpu)),
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
