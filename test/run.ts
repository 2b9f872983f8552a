/**
 * The test command: starts a PostgreSQL server (TEST_DATABASE_URL, or an embedded one in a temporary folder),
 * migrates a template database once, then runs every compiled `*.test.js` with node's test runner, several files
 * at a time (TEST_CONCURRENCY), the known slow ones first so that the run does not end on one long file; each suite
 * clones the template. Prints the slowest files, then ends with `N passed, N failed`.
 */
import 'reflect-metadata';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { PROJECT_ROOT } from '../src/paths.js';
import {
  serverUrl,
  templateName,
  withAdminClient,
  databaseUrl,
  TEST_ADDON_PATHS,
} from './harness/database.js';
import { startEmbeddedDatabase } from '../src/database/embedded-database.js';
import { prepareDatabase } from '../src/bootstrap/application.js';
import { loadConfig } from '../src/config/app-config.js';

/**
 * The slowest files of a full run, slowest first (paths under dist/, without `.test.js`): they start first so that
 * the shorter files fill the other lanes around them. A file missing here only starts later, in path order.
 */
const SLOWEST_FIRST = [
  'test/e2e/database-outage',
  'modules/backup/tests/web',
  'test/e2e/web-ui',
  'modules/cloud_platform/tests/startup',
  'test/e2e/startup',
  'test/e2e/notification-outage',
  'test/e2e/web-dms',
  'modules/dead_mans_switch_server/tests/alive-fuzz',
  'modules/backup/tests/schedule-replicas',
  'test/e2e/settings',
  'modules/backup/tests/backup',
  'test/e2e/web-forms',
  'test/e2e/web-settings',
  'modules/dead_mans_switch_server/tests/cron-expectation',
  'modules/backup/tests/web-drills',
  'modules/backup/tests/s3',
  'test/e2e/web-pages',
  'modules/dead_mans_switch_server/tests/storm',
  'modules/backup/tests/odoo-zip',
  'test/e2e/validation',
  'test/e2e/cluster',
  'modules/backup/tests/cli',
  'test/e2e/web-first-start',
];

/** Known slow files first, in the order above; then the others in path order. */
function slowestFirst(files: string[], dist: string): string[] {
  const rank = (file: string) => {
    const index = SLOWEST_FIRST.indexOf(file.slice(dist.length + 1).replace(/\.test\.js$/, ''));
    return index === -1 ? SLOWEST_FIRST.length : index;
  };
  return [...files].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function findTests(folder: string, into: string[] = []): string[] {
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'node_modules' && name !== 'fixtures') findTests(path, into);
    } else if (name.endsWith('.test.js')) into.push(path);
  }
  return into;
}

async function main(): Promise<number> {
  const filter = process.argv.slice(2);
  const started = Date.now();
  const embedded = process.env.TEST_DATABASE_URL
    ? undefined
    : await startEmbeddedDatabase({
        dataDir: join(tmpdir(), `vigil-test-${process.pid}`),
        database: 'postgres',
        ephemeral: true,
      });
  const server = process.env.TEST_DATABASE_URL ?? embedded!.url;
  process.env.VIGIL_TEST_SERVER_URL = serverUrl(server);
  process.env.VIGIL_TEST_TEMPLATE = `vigil_template_${process.pid}`;
  let passed = 0;
  let failed = 0;
  try {
    await withAdminClient((client) => client.query(`CREATE DATABASE "${templateName()}"`));
    const config = loadConfig({ RUNNING_ENV: 'test', ADDONS_PATH: TEST_ADDON_PATHS.join(',') });
    await prepareDatabase(config, databaseUrl(templateName()));
    console.log(`template database ready in ${Date.now() - started} ms`);

    const dist = join(PROJECT_ROOT, 'dist');
    const files = ['src', 'modules', 'test']
      .map((folder) => join(dist, folder))
      .filter((folder) => statSync(folder, { throwIfNoEntry: false })?.isDirectory())
      .flatMap((folder) => findTests(folder))
      .filter((file) => filter.length === 0 || filter.some((f) => file.includes(f)))
      .sort();
    // Most files spend their time waiting (PostgreSQL, Chromium, child processes, timers): more files than cores.
    const stream = run({
      files: slowestFirst(files, dist),
      concurrency: Number(process.env.TEST_CONCURRENCY ?? 3),
      timeout: 300_000,
    });
    const fileDurations = new Map<string, number>();
    // The file itself is a test at nesting 0 named by its path: its `test:complete` carries the file's whole time.
    stream.on(
      'test:complete',
      (event: { name: string; file?: string; nesting: number; details: { duration_ms: number } }) => {
        if (event.nesting === 0 && event.file !== undefined && event.name === event.file)
          fileDurations.set(event.file, event.details.duration_ms);
      },
    );
    stream.on('test:pass', (event: { details: { type?: string } }) => {
      if (event.details.type !== 'suite') passed++;
    });
    stream.on('test:fail', (event: { details: { type?: string } }) => {
      if (event.details.type !== 'suite') failed++;
    });
    await new Promise<void>((resolve, reject) => {
      const report = stream.compose(spec as never) as unknown as NodeJS.ReadableStream;
      report.on('end', resolve).on('error', reject).pipe(process.stdout, { end: false });
    });
    console.log(
      `\nslowest test files (of ${fileDurations.size}, ${Math.round((Date.now() - started) / 1000)} s in all):`,
    );
    for (const [file, ms] of [...fileDurations].sort((a, b) => b[1] - a[1]).slice(0, 10))
      console.log(`${(ms / 1000).toFixed(1).padStart(7)} s  ${relative(dist, file)}`);
  } finally {
    await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${templateName()}"`)).catch(
      () => 0,
    );
    await embedded?.stop();
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 || passed === 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
