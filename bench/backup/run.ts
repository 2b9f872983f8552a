/**
 * The backup benchmark: Vigil's backup of a database and its Odoo filestore against what an admin would run by
 * hand on the same data, `pg_dump -Fc -f` and `tar -cf`, measured side by side in the same run.
 *
 * One command (`npm run bench:backup`): an embedded PostgreSQL 15 in a temporary folder, Vigil in-process with only
 * the `backup` addon; per size, a database filled with generate_series to the size, with an `ir_attachment` table
 * naming every file of a filestore of random files (written once, kept in a cache folder under /tmp and reused).
 * Then BENCH_RUNS rounds, each: the reference (`pg_dump -Fc -f`, then `tar -cf` of the filestore) and Vigil's
 * backups of the same database to a local folder, through the real BackupRunner (`BackupConfigsService.run` with
 * `wait`, exactly what `npx vigil backup:run` does): `dump` (pg_dump's custom format, the database only) and
 * `odoo_zip` (dump.sql, manifest.json and the filestore), while this process's RSS is sampled every 50 ms. The order
 * of reference and Vigil alternates from round to round.
 *
 * Environment: BENCH_BACKUP_GB (comma-separated sizes in GB of the database and, as much again, of the filestore;
 * default 1), BENCH_BACKUP_FILES (filestore files per size, default 10000), BENCH_RUNS (rounds, default 3),
 * BENCH_FORMATS (default dump,odoo_zip), BENCH_CACHE (the filestore cache folder, default /tmp/vigil-bench-filestore).
 */
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startVigil } from '../../src/bootstrap/application.js';
import { systemContext } from '../../src/common/request-context.js';
import { loadConfig } from '../../src/config/app-config.js';
import { startEmbeddedDatabase } from '../../src/database/embedded-database.js';
import { SettingsService } from '../../src/settings/settings.service.js';
import { BackupConfigsService } from '../../modules/backup/backup-configs.service.js';

const SIZES = (process.env.BENCH_BACKUP_GB ?? '1').split(',').map(Number);
const FILES = Number(process.env.BENCH_BACKUP_FILES ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const FORMATS = (process.env.BENCH_FORMATS ?? 'dump,odoo_zip').split(',') as ('dump' | 'odoo_zip')[];
const CACHE = process.env.BENCH_CACHE ?? '/tmp/vigil-bench-filestore';
const MB = 1024 * 1024;
const GB = 1024 * MB;
const run = promisify(execFile);

/** A filestore of `count` random (incompressible, like images and PDFs) files totalling `bytes`, made once. */
async function filestore(bytes: number, count: number): Promise<{ folder: string; names: string[] }> {
  const folder = join(CACHE, `${(bytes / GB).toFixed(3)}gb-${count}`);
  if (existsSync(join(folder, '.complete'))) {
    const names = readdirSync(folder)
      .filter((dir) => dir.length === 2)
      .flatMap((dir) => readdirSync(join(folder, dir)).map((file) => `${dir}/${file}`));
    if (names.length === count) return { folder, names };
  }
  rmSync(folder, { recursive: true, force: true });
  console.log(`writing a filestore of ${count} files, ${(bytes / MB).toFixed(0)} MB, into ${folder}…`);
  const names: string[] = [];
  const average = bytes / count;
  for (let i = 0; i < count; i++) {
    // Odoo's layout: the sha1 of the content, its first two characters as the folder.
    const name = randomBytes(20).toString('hex');
    const size = Math.round(average * (0.5 + (i % 101) / 100));
    mkdirSync(join(folder, name.slice(0, 2)), { recursive: true });
    await writeFile(join(folder, name.slice(0, 2), name), randomBytes(size));
    names.push(`${name.slice(0, 2)}/${name}`);
  }
  writeFileSync(join(folder, '.complete'), '');
  return { folder, names };
}

/**
 * A database of `bytes`: a wide table from generate_series (hex and text, about 3:1 in pg_dump's compression, as
 * the earlier version of this bench), and `ir_attachment` naming the filestore's files; vacuumed and checkpointed
 * so that the first dump does not pay for hint bits and dirty pages.
 */
async function fill(url: string, bytes: number, names: string[]): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const size = async () =>
    Number(
      (await client.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size')).rows[0]
        .size,
    );
  try {
    await client.query(`CREATE TABLE data (id bigint, payload text, note text);
      CREATE TABLE ir_attachment (id serial PRIMARY KEY, name text, store_fname varchar, file_size int)`);
    await client.query(
      `INSERT INTO ir_attachment (name, store_fname) SELECT 'file ' || n, n FROM unnest($1::text[]) n`,
      [names],
    );
    const empty = await size();
    let rows = 0;
    for (let batch = 20_000; ;) {
      await client.query(
        `INSERT INTO data SELECT g, md5(random()::text) || md5(random()::text) || md5(random()::text),
           'row ' || g || ' of the benchmark, ' || (g % 997) || ' on the shelf'
         FROM generate_series($1::bigint, $2::bigint) g`,
        [rows, rows + batch - 1],
      );
      rows += batch;
      const now = await size();
      if (now >= bytes) break;
      // The next batch aims at the size from the bytes per row seen so far (within 1 %, or a last small one).
      batch = Math.max(50_000, Math.min(2_000_000, Math.ceil(((bytes - now) * rows) / (now - empty))));
    }
    await client.query('VACUUM (ANALYZE)');
    await client.query('CHECKPOINT');
    return await size();
  } finally {
    await client.end();
  }
}

/** User + system seconds from the last line `/usr/bin/time -f '%U %S'` wrote. */
function timeCpu(output: string): number {
  const [user, system] = output.trim().split('\n').pop()!.split(' ').map(Number);
  return user + system;
}

/** Runs `work` while sampling this process's RSS; returns its result, wall time and peak RSS. */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number; peakRss: number }> {
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  const started = performance.now();
  try {
    const result = await work();
    return { result, seconds: (performance.now() - started) / 1000, peakRss };
  } finally {
    clearInterval(sampler);
  }
}

interface Round {
  pgDump: number;
  tar: number;
  /** CPU seconds (user + system) of the reference's pg_dump and tar. */
  pgDumpCpu: number;
  tarCpu: number;
  dumpMb: number;
  tarMb: number;
  vigil: Partial<
    Record<
      'dump' | 'odoo_zip',
      // cpu: CPU seconds to the last byte stored, of this process (all its threads) and of the pg_dump it ran.
      {
        stream: number;
        total: number;
        cpu: number;
        pgDumpCpu: number;
        rest: number;
        peak: number;
        mb: number;
      }
    >
  >;
}

const range = (values: number[], digits = 1) =>
  values.length
    ? `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`.replace(
        /^(.*)–\1$/,
        '$1',
      )
    : '—';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-backup-'));
  const pgDir = join(tmpdir(), `vigil-bench-backup-pg-${process.pid}`);
  const embedded = await startEmbeddedDatabase({
    // Not under the private temporary folder: as root the embedded server runs as the postgres user.
    dataDir: pgDir,
    database: 'vigil_bench',
    ephemeral: true,
  });
  // Vigil's pg_dump through a wrapper that records its CPU time (BACKUP_PG_BIN names the folder of the tools).
  const bin = join(dir, 'bin');
  const cpuLog = join(dir, 'pg_dump.cpu');
  mkdirSync(bin);
  for (const tool of ['pg_dump', 'pg_restore', 'psql'])
    writeFileSync(
      join(bin, tool),
      tool === 'pg_dump'
        ? `#!/bin/sh\nexec /usr/bin/time -a -o '${cpuLog}' -f '%U %S' pg_dump "$@"\n`
        : `#!/bin/sh\nexec ${tool} "$@"\n`,
      { mode: 0o755 },
    );
  const results: { size: number; dbMb: number; fsMb: number; rounds: Round[] }[] = [];
  const loads: number[] = [];
  try {
    const config = loadConfig({
      DATABASE_URL: embedded.url,
      DATA_DIR: join(dir, 'data'),
      RUNNING_ENV: 'dev',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      ADDONS: 'backup',
      SESSION_SECRET: 'bench-session-secret-that-is-long-enough',
      BACKUP_FILESTORE_ROOTS: CACHE,
      BACKUP_PG_BIN: bin,
    });
    const vigil = await startVigil({ config, listen: false, scheduler: false });
    const configs = vigil.app.get(BackupConfigsService);
    // The bench's database is on 127.0.0.1.
    await vigil.app.get(SettingsService).set('backup.allow_private_networks', '1');
    const admin = new pg.Client({ connectionString: embedded.url });
    await admin.connect();
    try {
      for (const size of SIZES) {
        const bytes = size * GB;
        const files = await filestore(bytes, FILES);
        const name = `bench_${String(size).replace('.', '_')}`;
        await admin.query(`CREATE DATABASE ${name}`);
        const url = new URL(embedded.url);
        url.pathname = `/${name}`;
        console.log(`filling ${name} to ${(bytes / MB).toFixed(0)} MB…`);
        const filled = performance.now();
        const dbBytes = await fill(url.toString(), bytes, files.names);
        console.log(`  ${((performance.now() - filled) / 1000).toFixed(0)} s`);
        const parsed = new URL(url);
        const password = decodeURIComponent(parsed.password);
        parsed.password = '';
        const out = join(dir, 'reference');
        mkdirSync(out);

        const reference = async (round: Round) => {
          const dumped = await measured(() =>
            run(
              '/usr/bin/time',
              // --no-sync: Vigil does not fsync the local files it writes either (see bench/README.md).
              [
                ...['-f', '%U %S', 'pg_dump'],
                '-Fc',
                '--no-sync',
                '--no-password',
                `--dbname=${parsed.toString()}`,
                '-f',
                join(out, 'db.dump'),
              ],
              {
                env: { ...process.env, PGPASSWORD: password },
              },
            ),
          );
          const tarred = await measured(() =>
            run('/usr/bin/time', [
              '-f',
              '%U %S',
              'tar',
              '-cf',
              join(out, 'filestore.tar'),
              '-C',
              files.folder,
              '.',
            ]),
          );
          round.pgDump = dumped.seconds;
          round.tar = tarred.seconds;
          round.pgDumpCpu = timeCpu(dumped.result.stderr);
          round.tarCpu = timeCpu(tarred.result.stderr);
          round.dumpMb = statSync(join(out, 'db.dump')).size / MB;
          round.tarMb = statSync(join(out, 'filestore.tar')).size / MB;
          rmSync(join(out, 'db.dump'));
          rmSync(join(out, 'filestore.tar'));
        };
        const ids: Partial<Record<'dump' | 'odoo_zip', number>> = {};
        for (const format of FORMATS)
          ids[format] = (
            await configs.create(systemContext(), {
              name: `${name} ${format}`,
              storage: 'local',
              database_url: url.toString(),
              format,
              filestore: format === 'odoo_zip' ? files.folder : null,
            })
          ).id;
        const vigilRuns = async (round: Round) => {
          for (const format of FORMATS) {
            const rest = process.memoryUsage.rss();
            let streamed = 0;
            let cpuAt = 0;
            let cpu = process.cpuUsage();
            const startCpu = cpu;
            rmSync(cpuLog, { force: true });
            const started = performance.now();
            const timed = await measured(() =>
              configs.run(systemContext(), ids[format]!, {
                wait: true,
                onProgress: () => {
                  streamed = performance.now() - started;
                  // Not at every chunk: process.cpuUsage() itself cost ~0.15 s a run; at most 5 ms of the run's
                  // end are left out of its CPU time this way.
                  if (streamed - cpuAt < 5) return;
                  cpuAt = streamed;
                  cpu = process.cpuUsage();
                },
              }),
            );
            // The run's largest pg_dump is the one that streamed (the others asked for its version).
            const childCpu = Math.max(...readFileSync(cpuLog, 'utf8').trim().split('\n').map(timeCpu));
            if (timed.result.status !== 'done') throw new Error(`${format}: ${timed.result.error}`);
            round.vigil[format] = {
              stream: streamed / 1000,
              total: timed.seconds,
              cpu: (cpu.user - startCpu.user + cpu.system - startCpu.system) / 1e6 + childCpu,
              pgDumpCpu: childCpu,
              rest,
              peak: timed.peakRss,
              mb: Number(timed.result.size) / MB,
            };
            // One stored backup at a time: the disk is shared.
            rmSync(join(dir, 'data', 'backups'), { recursive: true, force: true });
          }
        };
        const rounds: Round[] = [];
        for (let r = 0; r < RUNS; r++) {
          loads.push(loadavg()[0]);
          const round: Round = { pgDump: 0, tar: 0, pgDumpCpu: 0, tarCpu: 0, dumpMb: 0, tarMb: 0, vigil: {} };
          if (r % 2 === 0) {
            await reference(round);
            await vigilRuns(round);
          } else {
            await vigilRuns(round);
            await reference(round);
          }
          rounds.push(round);
          console.log(JSON.stringify({ size, round: r + 1, ...round }));
        }
        results.push({ size, dbMb: dbBytes / MB, fsMb: bytes / MB, rounds });
        rmSync(out, { recursive: true, force: true });
        await admin.query(`DROP DATABASE ${name}`);
      }
    } finally {
      await admin.end();
      await vigil.close();
    }
  } finally {
    await embedded.stop();
    rmSync(pgDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
  loads.push(loadavg()[0]);
  console.log(
    `\n${cpus().length} CPU (${cpus()[0]?.model}), ${(totalmem() / GB).toFixed(0)} GiB, Node ${process.version}, ` +
      `load average ${range(loads)} at the rounds' starts, ${RUNS} rounds, ${FILES} files`,
  );
  console.log(
    '| GB | DB MB | format | reference s | Vigil stream s | ratio (stream) | CPU s ref. / Vigil (its pg_dump) | CPU ratio | Vigil total s (verified) | output MB (ref. / Vigil) | RSS MB rest → peak |',
  );
  console.log('|' + ' --- |'.repeat(11));
  for (const { size, dbMb, rounds } of results)
    for (const format of FORMATS) {
      const ref = rounds.map((r) => (format === 'dump' ? r.pgDump : r.pgDump + r.tar));
      const runs = rounds.map((r) => r.vigil[format]!);
      const refCpu = rounds.map((r) => (format === 'dump' ? r.pgDumpCpu : r.pgDumpCpu + r.tarCpu));
      const refMb = rounds[0].dumpMb + (format === 'dump' ? 0 : rounds[0].tarMb);
      console.log(
        `| ${size} | ${dbMb.toFixed(0)} | ${format} | ${range(ref)}${format === 'dump' ? '' : ` (pg_dump ${range(rounds.map((r) => r.pgDump))} + tar ${range(rounds.map((r) => r.tar))})`} | ` +
          `${range(runs.map((v) => v.stream))} | ${range(
            runs.map((v, i) => v.stream / ref[i]),
            2,
          )} | ${range(refCpu)} / ${range(runs.map((v) => v.cpu))} (${range(runs.map((v) => v.pgDumpCpu))}) | ${range(
            runs.map((v, i) => v.cpu / refCpu[i]),
            2,
          )} | ${range(runs.map((v) => v.total))} | ${refMb.toFixed(0)} / ${runs[0].mb.toFixed(0)} | ` +
          `${range(
            runs.map((v) => v.rest / MB),
            0,
          )} → ${range(
            runs.map((v) => v.peak / MB),
            0,
          )} |`,
      );
    }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
