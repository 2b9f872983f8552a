import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../src/paths.js';
import { dropDatabase, emptyDatabase, query } from '../harness/database.js';
import { waitFor } from '../harness/wait.js';
import { freePort, spawnVigil, waitForHttp } from '../harness/process.js';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures');

describe('start-up as a separate process', () => {
  it('starts two processes together on one empty database: both serve, migrations and the first admin happen once', async () => {
    const db = await emptyDatabase();
    const ports = [await freePort(), await freePort()];
    const env = (port: number) => ({
      DATABASE_URL: db,
      PORT: String(port),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-proc-')),
      SESSION_SECRET: 'x'.repeat(40),
      ADMIN_EMAIL: 'boss@vigil.test',
      ADMIN_PASSWORD: 'boss-password',
      ADDONS_PATH: join(FIXTURES, 'addons'),
    });
    const processes = ports.map((port) => spawnVigil(env(port)));
    try {
      await Promise.all(
        processes.map((p, i) => waitForHttp(`http://127.0.0.1:${ports[i]}/monitoring/ready`, p)),
      );
      for (const port of ports) {
        const status = await fetch(`http://127.0.0.1:${port}/monitoring/status`);
        assert.deepEqual(await status.json(), { status: 1 });
      }
      const migrations = await query<{ addon: string; n: string }>(
        db,
        'SELECT addon, count(*) AS n FROM migration GROUP BY addon ORDER BY addon',
      );
      assert.ok(migrations.some((m) => m.addon === 'base'));
      assert.ok(migrations.some((m) => m.addon === 'test_addon'));
      const users = await query<{ email: string }>(db, 'SELECT email FROM users');
      assert.deepEqual(users, [{ email: 'boss@vigil.test' }]);
      const addons = await query<{ name: string; version: string }>(
        db,
        "SELECT name, version FROM addon WHERE name = 'test_addon'",
      );
      assert.deepEqual(addons, [{ name: 'test_addon', version: '1.0.0' }]);
      const login = await fetch(`http://127.0.0.1:${ports[1]}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'boss@vigil.test', password: 'boss-password' }),
      });
      assert.equal(login.status, 200);
    } finally {
      for (const p of processes) p.child.kill('SIGTERM');
      const codes = await Promise.all(processes.map((p) => p.exited));
      assert.ok(
        codes.every((code) => code !== 1),
        `exit codes ${codes.join(', ')}`,
      );
      await dropDatabase(db);
    }
  });

  it('refuses to start when an addon dependency is missing, naming both addons', async () => {
    const db = await emptyDatabase();
    try {
      const vigil = spawnVigil({
        DATABASE_URL: db,
        PORT: String(await freePort()),
        ADDONS_PATH: join(FIXTURES, 'broken-missing'),
      });
      assert.equal(await vigil.exited, 78);
      assert.match(
        vigil.output(),
        /Missing addon: addon "needs_ghost" depends on "ghost", which is not installed/,
      );
    } finally {
      await dropDatabase(db);
    }
  });

  it('refuses to start on a dependency cycle, showing the cycle', async () => {
    const db = await emptyDatabase();
    try {
      const vigil = spawnVigil({
        DATABASE_URL: db,
        PORT: String(await freePort()),
        ADDONS_PATH: join(FIXTURES, 'broken-cycle'),
      });
      assert.equal(await vigil.exited, 78);
      assert.match(vigil.output(), /Addon dependency cycle: cycle_a -> cycle_b -> cycle_a/);
    } finally {
      await dropDatabase(db);
    }
  });

  it('refuses an ADDONS entry that does not exist and an invalid variable', async () => {
    const unknown = spawnVigil({ DATABASE_URL: 'postgres://127.0.0.1:1/none', ADDONS: 'no_such_addon' });
    assert.equal(await unknown.exited, 78);
    assert.match(unknown.output(), /ADDONS names "no_such_addon"/);
    const badPort = spawnVigil({ PORT: 'eighty' });
    assert.equal(await badPort.exited, 78);
    assert.match(badPort.output(), /PORT must be a port number/);
  });

  it('runs on the embedded database, lets the CLI attach to it, shuts down on SIGTERM and keeps data across restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-embedded-'));
    const env = {
      DATA_DIR: dataDir,
      ADDONS: 'test_addon',
      ADDONS_PATH: join(FIXTURES, 'addons'),
      LOG_LEVEL: 'info',
    };
    try {
      const port = String(await freePort());
      const first = spawnVigil({ ...env, PORT: port });
      await waitForHttp(`http://127.0.0.1:${port}/monitoring/ready`, first, 120_000);
      // Ready may answer a moment before the start-up lines are all printed: the last one says where to log in.
      await waitFor(() => /First administrator created/.test(first.output()), { what: 'the start-up lines' });
      assert.match(
        first.output(),
        /First administrator created: log in as admin@localhost with password \S+/,
      );
      // LOG_FORMAT=json: pino lines, one JSON object each.
      assert.match(
        first.output(),
        /^\{"level":30,"time":\d+,"pid":\d+.*"msg":"Nest application successfully started"\}$/m,
      );

      // One line per addon, not one per route (those are at debug level); the start-up line names the web UI.
      assert.doesNotMatch(first.output(), /Mapped \{|RouterExplorer|RoutesResolver|InstanceLoader/);
      assert.match(first.output(), /"addon":"test_addon".*"msg":"test_addon [\d.]+ loaded/);
      assert.match(first.output(), /"addon":"base"/);
      assert.match(
        first.output(),
        new RegExp(`Vigil is listening on http://localhost:${port}: open http://localhost:${port}/web `),
      );

      // In dev the environment report is printed as the table env:check shows, before where to log in.
      const output = first.output();
      assert.match(output, /^Environment dev \(RUNNING_ENV=dev\), Vigil \S+, checked at /m);
      assert.match(output, /^STATUS +CHECK +MESSAGE$/m);
      assert.match(output, /^ok +[a-z_]+\.\S+ +\S/m);
      assert.match(output, /^No check fails \(\d+ checks, \d+ warning\(s\)\)\.$/m);
      assert.ok(output.indexOf('STATUS  ') < output.indexOf('Vigil is listening'), output);

      // While the server runs, the CLI uses the same embedded server.
      const set = spawnVigil(env, ['settings:set', 'custom.marker', 'kept']);
      assert.equal(await set.exited, 0, set.output());
      const uuid = spawnVigil(env, ['settings:get', 'database.uuid']);
      assert.equal(await uuid.exited, 0, uuid.output());
      const databaseUuid = uuid.output().trim().split('\n').pop();

      first.child.kill('SIGTERM');
      assert.notEqual(await first.exited, 1, first.output());
      assert.match(first.output(), /^Vigil stopped$/m);

      // LOG_FORMAT=pretty (dev): one short line per request, without its headers.
      const second = spawnVigil({ ...env, PORT: port, LOG_FORMAT: 'pretty' });
      await waitForHttp(`http://127.0.0.1:${port}/monitoring/ready`, second, 120_000);
      assert.doesNotMatch(second.output(), /First administrator created/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/me`)).status, 401);
      await waitFor(() => /GET \/api\/v1\/me 401 \d+ ms/.test(second.output()), {
        what: 'the request line',
      });
      const line = second
        .output()
        .split('\n')
        .find((l) => l.includes('GET /api/v1/me 401'))!;
      assert.doesNotMatch(line, /user-agent|headers|hostname/, line);
      const marker = spawnVigil(env, ['settings:get', 'custom.marker']);
      assert.equal(await marker.exited, 0);
      assert.equal(marker.output().trim().split('\n').pop(), 'kept');
      const again = spawnVigil(env, ['settings:get', 'database.uuid']);
      await again.exited;
      assert.equal(again.output().trim().split('\n').pop(), databaseUuid);
      second.child.kill('SIGTERM');
      await second.exited;
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
