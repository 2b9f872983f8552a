/**
 * The backup benchmark: an embedded PostgreSQL in a temporary folder, a database filled to each size of
 * BENCH_SIZES_MB, then for each size `pg_dump -Fc -f file` (the baseline) and Vigil's backup of the same database
 * to a local folder and to S3 (s3rver in its own process on 127.0.0.1), timed, with the peak RSS of the Vigil
 * process sampled every 100 ms. `npm run bench:backup`.
 *
 * Environment: BENCH_SIZES_MB (comma-separated database sizes in MB, default 1024).
 */
import 'reflect-metadata';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startVigil } from '../../src/bootstrap/application.js';
import { systemContext } from '../../src/common/request-context.js';
import { loadConfig } from '../../src/config/app-config.js';
import { startEmbeddedDatabase } from '../../src/database/embedded-database.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { BackupConfigsService } from '../../modules/backup/backup-configs.service.js';

const SIZES = (process.env.BENCH_SIZES_MB ?? '1024').split(',').map(Number);
const MB = 1024 * 1024;
const run = promisify(execFile);

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(true)).on('error', () => resolve(false));
      setTimeout(() => socket.destroy(), 1000);
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

/**
 * Fills a table until the database reaches `mb` megabytes (random hex, poorly compressible, and some text), then
 * vacuums it and checkpoints, so that the first dump does not pay for hint bits and dirty pages.
 */
async function fill(url: string, mb: number): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE data (id bigint, payload text, note text)');
    for (let batch = 0; ; batch++) {
      const [{ size }] = (
        await client.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size')
      ).rows;
      if (Number(size) >= mb * MB) {
        await client.query('VACUUM (ANALYZE) data');
        await client.query('CHECKPOINT');
        return Number(size);
      }
      await client.query(
        `INSERT INTO data SELECT g, md5(random()::text) || md5(random()::text), 'row ' || g || ' of the benchmark'
         FROM generate_series($1::bigint * 200000, $1::bigint * 200000 + 199999) g`,
        [batch],
      );
    }
  } finally {
    await client.end();
  }
}

/** Runs `work` while sampling this process's RSS; returns its result, wall time and peak RSS. */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number; peakRss: number }> {
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const started = performance.now();
  try {
    const result = await work();
    return { result, seconds: (performance.now() - started) / 1000, peakRss };
  } finally {
    clearInterval(sampler);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-backup-'));
  const embedded = await startEmbeddedDatabase({
    // Not under the private temporary folder: as root the embedded server runs as the postgres user.
    dataDir: join(tmpdir(), `vigil-bench-backup-pg-${process.pid}`),
    database: 'vigil_bench',
    ephemeral: true,
  });
  const s3Port = await freePort();
  const s3 = spawn(
    process.execPath,
    [
      join(PROJECT_ROOT, 'node_modules/s3rver/bin/s3rver.js'),
      ...['-d', join(dir, 's3'), '-a', '127.0.0.1', '-p', String(s3Port), '--silent'],
      ...['--configure-bucket', 'bench'],
    ],
    { stdio: 'inherit' },
  );
  const rows: string[][] = [];
  try {
    await waitForPort(s3Port);
    const config = loadConfig({
      DATABASE_URL: embedded.url,
      DATA_DIR: join(dir, 'data'),
      RUNNING_ENV: 'dev',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      ADDONS: 'backup',
      SESSION_SECRET: 'bench-session-secret-that-is-long-enough',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_BUCKETNAME: 'bench',
      AWS_ENDPOINT_URL: `http://127.0.0.1:${s3Port}`,
    });
    const vigil = await startVigil({ config, listen: false, scheduler: false });
    const configs = vigil.app.get(BackupConfigsService);
    const admin = new pg.Client({ connectionString: embedded.url });
    await admin.connect();
    try {
      for (const size of SIZES) {
        const name = `bench_${size}`;
        await admin.query(`CREATE DATABASE ${name}`);
        const url = new URL(embedded.url);
        url.pathname = `/${name}`;
        console.log(`filling ${name} to ${size} MB…`);
        const bytes = await fill(url.toString(), size);

        const file = join(dir, `${name}.dump`);
        const parsed = new URL(url);
        const password = decodeURIComponent(parsed.password);
        parsed.password = '';
        const pgDump = async () => {
          const timed = await measured(() =>
            run('pg_dump', ['-Fc', '--no-password', `--dbname=${parsed.toString()}`, '-f', file], {
              env: { ...process.env, PGPASSWORD: password },
            }),
          );
          const dumpSize = statSync(file).size;
          rmSync(file);
          return { seconds: timed.seconds, dumpSize };
        };
        // The baseline runs before and after Vigil's two backups; overheads are against the mean of both.
        const before = await pgDump();
        const line = [`${size}`, `${(bytes / MB).toFixed(0)}`, `${(before.dumpSize / MB).toFixed(0)}`];
        const vigilRuns: { stream: number; total: number; rss: string }[] = [];
        for (const storage of ['local', 's3'] as const) {
          const created = await configs.create(systemContext(), {
            name: `${name} ${storage}`,
            storage,
            database_url: url.toString(),
          });
          const restingRss = process.memoryUsage().rss;
          let streamed = 0;
          const started = performance.now();
          const result = await measured(() =>
            configs.run(systemContext(), created.id, {
              wait: true,
              onProgress: () => (streamed = performance.now() - started),
            }),
          );
          if (result.result.status !== 'done') throw new Error(`${storage}: ${result.result.error}`);
          vigilRuns.push({
            stream: streamed / 1000,
            total: result.seconds,
            rss: `${(restingRss / MB).toFixed(0)} → ${(result.peakRss / MB).toFixed(0)}`,
          });
        }
        const after = await pgDump();
        const baseline = (before.seconds + after.seconds) / 2;
        line.push(`${before.seconds.toFixed(1)} / ${after.seconds.toFixed(1)}`);
        for (const vigilRun of vigilRuns)
          line.push(
            vigilRun.stream.toFixed(1),
            `${(((vigilRun.stream - baseline) / baseline) * 100).toFixed(1)} %`,
            vigilRun.total.toFixed(1),
            vigilRun.rss,
          );
        rows.push(line);
        await admin.query(`DROP DATABASE ${name}`);
      }
    } finally {
      await admin.end();
      await vigil.close();
    }
  } finally {
    s3.kill();
    await embedded.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `\n${cpus().length} CPU (${cpus()[0]?.model}), ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}`,
  );
  console.log(
    '| DB MB (asked) | DB MB | dump MB | pg_dump -Fc -f s (before / after) | local: stream s | overhead | total s (verified) | RSS MB rest → peak | S3: stream s | overhead | total s (verified) | RSS MB rest → peak |',
  );
  console.log('|' + ' --- |'.repeat(12));
  for (const line of rows) console.log(`| ${line.join(' | ')} |`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
