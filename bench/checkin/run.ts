/**
 * The check-in benchmark: the real server (`node dist/src/main.js`) on an embedded PostgreSQL in a temporary
 * folder, 10,000 registered instances, autocannon posting the OCA client's JSON-RPC check-ins on 127.0.0.1; then
 * the watchdog's pass over 100,000 instances of which 1,000 are due. `npm run bench:checkin`.
 *
 * Each figure of Vigil is printed beside the same figure of a reference measured in the same run: a bare
 * `node:http` + `pg` server (`reference-server.ts`) running the same statement, and its hello route for
 * `GET /monitoring/status`. Absolute numbers on this shared machine move between runs; the ratios move less.
 *
 * Environment: BENCH_DURATION (seconds, default 30), BENCH_CONNECTIONS (default 32), BENCH_POOL (server pool
 * size, default 10), BENCH_ROUNDS (watchdog rounds, default 5), BENCH_WATCHDOG=0 (check-ins only), BENCH_WEB_CONCURRENCY (HTTP workers, default 1), BENCH_NODE_ARGS
 * (node options for the Vigil server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), BENCH_ADAPTERS=1 (also measures
 * `nest-prototype.ts`, a minimal Nest app on Express and on Fastify; needs `@nestjs/platform-express` installed).
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { startVigil } from '../../src/bootstrap/application.js';
import { loadConfig } from '../../src/config/app-config.js';
import { Database } from '../../src/database/database.js';
import { startEmbeddedDatabase } from '../../src/database/embedded-database.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { WatchdogRepository } from '../../modules/dead_mans_switch_server/watchdog/watchdog.repository.js';
import { median, timeWatchdogRounds } from '../watchdog-rounds.js';
import { WatchdogService } from '../../modules/dead_mans_switch_server/watchdog/watchdog.service.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 30);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const POOL = process.env.BENCH_POOL ?? '10';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** BENCH_WATCHDOG=0 measures the check-ins only. */
const WATCHDOG = process.env.BENCH_WATCHDOG !== '0';
/** HTTP workers of the Vigil server (WEB_CONCURRENCY). */
const WORKERS = Number(process.env.BENCH_WEB_CONCURRENCY ?? 1);
/** BENCH_ADAPTERS=1: also the minimal Nest prototypes on Express and Fastify. */
const ADAPTERS = process.env.BENCH_ADAPTERS === '1';
const REGISTERED = 10_000;
const WATCHED = 100_000;
const DUE = 1_000;

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function startServer(
  env: Record<string, string>,
  script = 'dist/src/main.js',
  ready = 'Vigil is listening',
  readyCount = 1,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const nodeArgs = script.includes('main.js')
    ? (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
    : [];
  const child = spawn(process.execPath, [...nodeArgs, join(PROJECT_ROOT, script), String(port)], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.split(ready).length - 1 >= readyCount) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function seedInstances(db: pg.Client, n: number, dueSeconds: number): Promise<string[]> {
  const { rows } = await db.query<{ database_uuid: string }>(
    `INSERT INTO dead_mans_switch_instance (database_uuid, state, last_seen, last_cpu, last_ram, last_user_count,
       alive_max_delay, next_deadline, created_at, updated_at)
     SELECT gen_random_uuid(), 'active', now(), 1, 20, 3, 600, now() + make_interval(secs => $2), now(), now()
     FROM generate_series(1, $1)
     RETURNING database_uuid`,
    [n, dueSeconds],
  );
  return rows.map((r) => r.database_uuid);
}

async function load(url: string, uuids: string[], seconds: number) {
  let next = 0;
  const bodyFor = () => {
    const uuid = uuids[next++ % uuids.length];
    return JSON.stringify({
      jsonrpc: '2.0',
      method: 'call',
      params: { database_uuid: uuid, cpu: Math.random() * 100, ram: 42.5, user_count: next % 7 },
    });
  };
  return autocannon({
    url: `${url}/dead_mans_switch/alive`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: bodyFor() }),
      },
    ],
  });
}

/** A process and its node children (the HTTP workers of WEB_CONCURRENCY), from /proc. */
function family(pid: number): number[] {
  const pids = [pid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid && stat.includes('(node)')) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** CPU time (user + system, ms) a server (with its workers) has used so far, from /proc. */
function cpuMs(pid: number): number {
  let ticks = 0;
  for (const p of family(pid)) {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / 100;
}

/** Resident memory of a server (with its workers), MiB. */
function rssMiB(pid: number): number {
  let kb = 0;
  for (const p of family(pid))
    kb += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round(kb / 1024);
}

interface CheckInFigures {
  per_second: number;
  durable_log_rows: number;
  non_2xx: number;
  errors: number;
  latency_ms: { p50: number; p90: number; p99: number; max: number };
  server_cpu_ms_per_checkin: number;
  server_rss_mib: number;
}

/** Warms up for 5 s, then measures `seconds` of check-ins against `url`, counting committed log rows. */
async function measureCheckIns(
  db: pg.Client,
  url: string,
  pid: number,
  uuids: string[],
  seconds: number,
): Promise<CheckInFigures> {
  await load(url, uuids, 5);
  const logsBefore = Number((await db.query('SELECT count(*) FROM dead_mans_switch_log')).rows[0].count);
  const cpuBefore = cpuMs(pid);
  const result = await load(url, uuids, seconds);
  const cpu = cpuMs(pid) - cpuBefore;
  const logsAfter = Number((await db.query('SELECT count(*) FROM dead_mans_switch_log')).rows[0].count);
  const rows = logsAfter - logsBefore;
  return {
    per_second: Math.round(rows / seconds),
    durable_log_rows: rows,
    non_2xx: result.non2xx,
    errors: result.errors,
    latency_ms: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    server_cpu_ms_per_checkin: Math.round((cpu / Math.max(1, rows)) * 1000) / 1000,
    server_rss_mib: rssMiB(pid),
  };
}

interface StatusFigures {
  per_second: number;
  p99_ms: number;
  server_cpu_ms_per_request: number;
}

async function measureStatus(url: string, pid: number): Promise<StatusFigures> {
  // Warm-up, as for the check-ins: the first seconds of a fresh process are the JIT's.
  await autocannon({ url: `${url}/monitoring/status`, connections: CONNECTIONS, duration: 3 });
  const cpuBefore = cpuMs(pid);
  const result = await autocannon({
    url: `${url}/monitoring/status`,
    connections: CONNECTIONS,
    duration: 10,
  });
  return {
    per_second: Math.round(result.requests.average),
    p99_ms: result.latency.p99,
    server_cpu_ms_per_request:
      Math.round(((cpuMs(pid) - cpuBefore) / Math.max(1, result.requests.total)) * 1000) / 1000,
  };
}

const ratio = (a: number, b: number) => `${Math.round((a / b) * 100)} %`;

class Rollback extends Error {}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  // Like the test runner: the embedded server prepares (and owns) its own folder.
  const embedded = await startEmbeddedDatabase({
    dataDir: join(tmpdir(), `vigil-bench-pg-${process.pid}`),
    database: 'vigil_bench',
    ephemeral: true,
  });
  const env = {
    DATABASE_URL: embedded.url,
    DATA_DIR: join(dir, 'data'),
    RUNNING_ENV: 'dev',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    SESSION_SECRET: 'bench-session-secret-that-is-long-enough',
    ADMIN_EMAIL: 'admin@bench.test',
    ADMIN_PASSWORD: 'bench-password-1',
    ADDONS: 'dead_mans_switch_server',
    DATABASE_POOL_SIZE: POOL,
    WEB_CONCURRENCY: String(WORKERS),
  };
  const db = new pg.Client({ connectionString: embedded.url });
  let server: ChildProcess | undefined;
  try {
    const started = await startServer(env, undefined, undefined, WORKERS);
    server = started.child;
    await db.connect();
    // All the load comes from 127.0.0.1: the per-source limit (meant for the internet) is off for the benchmark.
    await db.query(
      `UPDATE setting SET value = '0' WHERE key = 'dead_mans_switch.checkins_per_source_per_minute'`,
    );
    const uuids = await seedInstances(db, REGISTERED, 1200);
    console.log(`server ${started.url}, ${REGISTERED} instances, ${CONNECTIONS} connections, pool ${POOL}`);

    // The reference, measured in the same run, on the same instances and the same database.
    const reference = await startServer(env, 'dist/bench/checkin/reference-server.js', 'reference listening');
    const referenceStatus = await measureStatus(reference.url, reference.child.pid!);
    const vigilStatus = await measureStatus(started.url, server.pid!);
    const referenceCheckIns = await measureCheckIns(db, reference.url, reference.child.pid!, uuids, DURATION);
    reference.child.kill('SIGTERM');
    const checkIns = await measureCheckIns(db, started.url, server.pid!, uuids, DURATION);
    const prototypes: Record<string, { status: StatusFigures; checkIns: CheckInFigures }> = {};
    if (ADAPTERS) {
      for (const adapter of ['express', 'fastify']) {
        const prototype = await startServer(
          { ...env, PROTOTYPE_ADAPTER: adapter },
          'dist/bench/checkin/nest-prototype.js',
          'prototype listening',
        );
        const pid = prototype.child.pid!;
        prototypes[adapter] = {
          status: await measureStatus(prototype.url, pid),
          checkIns: await measureCheckIns(db, prototype.url, pid, uuids, DURATION),
        };
        prototype.child.kill('SIGTERM');
        await new Promise((resolve) => prototype.child.once('exit', resolve));
      }
    }
    for (const [adapter, figures] of Object.entries(prototypes)) {
      console.log(
        `Nest prototype on ${adapter} / reference: check-ins/s ${ratio(figures.checkIns.per_second, referenceCheckIns.per_second)}, ` +
          `CPU per check-in ${ratio(figures.checkIns.server_cpu_ms_per_checkin, referenceCheckIns.server_cpu_ms_per_checkin)}, ` +
          `GET /monitoring/status ${ratio(figures.status.per_second, referenceStatus.per_second)}; ` +
          `p99 ${figures.checkIns.latency_ms.p99} ms; RSS ${figures.checkIns.server_rss_mib} MiB ` +
          `(${figures.checkIns.per_second}/s, ${figures.checkIns.server_cpu_ms_per_checkin} ms CPU)`,
      );
    }
    console.log('status', JSON.stringify({ reference: referenceStatus, vigil: vigilStatus }, null, 2));
    console.log('check-ins', JSON.stringify({ reference: referenceCheckIns, vigil: checkIns }, null, 2));
    console.log(
      `Vigil / reference: check-ins/s ${ratio(checkIns.per_second, referenceCheckIns.per_second)}, ` +
        `CPU per check-in ${ratio(checkIns.server_cpu_ms_per_checkin, referenceCheckIns.server_cpu_ms_per_checkin)}, ` +
        `GET /monitoring/status ${ratio(vigilStatus.per_second, referenceStatus.per_second)}; ` +
        `p99 ${checkIns.latency_ms.p99} ms vs ${referenceCheckIns.latency_ms.p99} ms; ` +
        `RSS ${checkIns.server_rss_mib} MiB vs ${referenceCheckIns.server_rss_mib} MiB`,
    );
    server.kill('SIGTERM');
    await new Promise((resolve) => server!.once('exit', resolve));
    server = undefined;
    if (!WATCHDOG) return;

    // The watchdog, in this process: 100,000 active instances, 1,000 due per round, two followers each.
    await seedInstances(db, WATCHED - REGISTERED, 3600);
    await db.query(`UPDATE dead_mans_switch_instance SET next_deadline = now() + interval '1 hour'`);
    await db.query(`
      WITH p AS (INSERT INTO partner (name, email) VALUES ('Bench Follower', 'follower@bench.test') RETURNING id)
      INSERT INTO users (email, password_hash, roles, partner_id) SELECT 'follower@bench.test', 'x', '{viewer}', id FROM p`);
    await db.query(
      `
      WITH f AS (
        INSERT INTO mail_follower (model, res_id, partner_id)
        SELECT 'dead_mans_switch.instance', i.id, u.partner_id
        FROM dead_mans_switch_instance i CROSS JOIN users u WHERE i.id <= $1
        RETURNING id)
      INSERT INTO mail_follower_subtype (follower_id, subtype_id)
      SELECT f.id, s.id FROM f CROSS JOIN mail_subtype s WHERE s.key LIKE 'dead_mans_switch.%'`,
      [DUE * ROUNDS],
    );
    await db.query('VACUUM ANALYZE');
    // With SMTP configured, as in production: every alert also writes an e-mail row per follower (the timers are
    // off, so nothing is sent; delivery is the dispatcher's job, not the pass's).
    const vigil = await startVigil({
      config: loadConfig({ ...env, PORT: '0', SMTP_URL: 'smtp://127.0.0.1:2525' }),
      listen: false,
      scheduler: false,
    });
    const watchdog = vigil.app.get(WatchdogService);
    const { passes, empty, cpu: passCpu } = await timeWatchdogRounds(watchdog, db, DUE, ROUNDS);
    // The watchdog's own decision for 1,000 due instances (claim through the index, compare-and-set), without
    // posting the messages: rolled back, to show what the chatter's per-message work costs.
    const repository = vigil.app.get(WatchdogRepository);
    const decisions: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await db.query(
        `UPDATE dead_mans_switch_instance SET next_deadline = now() - interval '1 minute', alert_state = 'ok'
         WHERE id > $1 AND id <= $2`,
        [round * DUE, (round + 1) * DUE],
      );
      const t = performance.now();
      await vigil.app
        .get(Database)
        .transaction(async (manager) => {
          const due = await repository.claimDue(new Date(), DUE, [], manager);
          const moved = await repository.transition(due, new Date(), manager);
          if (moved.length !== DUE) throw new Error(`${moved.length} transitions instead of ${DUE}`);
          decisions.push(performance.now() - t);
          throw new Rollback();
        })
        .catch((error: unknown) => {
          if (!(error instanceof Rollback)) throw error;
        });
      await db.query(
        `UPDATE dead_mans_switch_instance SET next_deadline = now() + interval '1 hour' WHERE id > $1 AND id <= $2`,
        [round * DUE, (round + 1) * DUE],
      );
    }
    const notifications = Number((await db.query('SELECT count(*) FROM mail_notification')).rows[0].count);
    await vigil.close();
    const watchdogFigures = {
      instances: WATCHED,
      due_per_pass: DUE,
      followers_per_instance: 2,
      notifications_written: notifications,
      pass_ms: passes.map((p) => Math.round(p)),
      pass_median_ms: Math.round(median(passes)),
      pass_node_cpu_median_ms: Math.round(median(passCpu)),
      decision_only_median_ms: Math.round(median(decisions) * 10) / 10,
      empty_pass_median_ms: Math.round(median(empty) * 10) / 10,
    };
    console.log('watchdog', JSON.stringify(watchdogFigures, null, 2));
    console.log(
      `machine: ${cpus().length} cores (${cpus()[0]?.model}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    );
  } finally {
    server?.kill('SIGKILL');
    await db.end().catch(() => undefined);
    await embedded.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
