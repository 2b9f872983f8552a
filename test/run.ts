/**
 * The test command: starts a PostgreSQL server (TEST_DATABASE_URL, or an embedded one in a temporary folder),
 * migrates a template database once, then runs every compiled `*.test.js` with node's test runner, two files at
 * a time; each suite clones the template. Ends with `N passed, N failed`.
 */
import 'reflect-metadata';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    const stream = run({ files, concurrency: Number(process.env.TEST_CONCURRENCY ?? 2), timeout: 300_000 });
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
