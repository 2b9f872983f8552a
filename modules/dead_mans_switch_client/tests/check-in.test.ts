import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ManualClock, PROJECT_ROOT, SchedulerService, SettingsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { bracket, burnCpu, cpuPercentBounds } from '../../../test/harness/cpu.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { CHECK_IN_TASK } from '../client-settings.js';
import { DeadMansSwitchClientService } from '../dead-mans-switch-client.service.js';
import { FakeSwitchServer } from './fake-switch-server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isInteger = (value: unknown) => typeof value === 'number' && Number.isInteger(value);

describe('dead_mans_switch_client: check-ins', () => {
  const clock = new ManualClock(new Date('2025-03-03T10:00:00Z'));
  let app: TestApp;
  let db: string;
  let server: FakeSwitchServer;
  let admin: Api;
  let client: DeadMansSwitchClientService;
  let aliveUrl: string;

  const runTask = () => app.get(SchedulerService).runDue(CHECK_IN_TASK);
  const setting = (key: string, value: string) => app.get(SettingsService).set(key, value);

  before(async () => {
    db = await cloneTemplate();
    server = await FakeSwitchServer.start();
    aliveUrl = `${server.url}/dead_mans_switch/alive`;
    app = await startTestApp({ databaseUrl: db, clock });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    client = app.get(DeadMansSwitchClientService);
  });

  after(async () => {
    await app?.close();
    await server?.close();
    await dropDatabase(db);
  });

  beforeEach(async () => {
    // Each test starts a fresh schedule, well after the previous test's attempts.
    clock.advance(3600);
    server.requests.length = 0;
    server.behaviour = 'odoo';
    await setting('dead_mans_switch_client.url', aliveUrl);
    await setting('dead_mans_switch_client.interval', '300');
    await query(
      db,
      `UPDATE dead_mans_switch_client_state
       SET last_attempt_at = NULL, last_success_at = NULL, consecutive_failures = 0, last_error_key = NULL`,
    );
  });

  it('seeds its settings with the documented defaults', async () => {
    const rows = await query<{ key: string; value: string }>(
      db,
      "SELECT key, value FROM setting WHERE key LIKE 'dead_mans_switch_client.%' ORDER BY key",
    );
    assert.deepEqual(
      rows.map((r) => r.key),
      [
        'dead_mans_switch_client.interval',
        'dead_mans_switch_client.send_timeout',
        'dead_mans_switch_client.token',
        'dead_mans_switch_client.url',
      ],
    );
    assert.equal(rows.find((r) => r.key.endsWith('send_timeout'))?.value, '60');
  });

  it('posts the Odoo JSON-RPC envelope of DESIGN §4, with really measured values', async () => {
    await query(db, "INSERT INTO test_addon_widget (name) VALUES ('a'), ('b')");
    await new Api(app.url).login(ADMIN.email, ADMIN.password);
    assert.equal(await runTask(), true);
    assert.equal(server.requests.length, 1);
    const request = server.requests[0];
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/dead_mans_switch/alive');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(Object.keys(request.json).sort(), ['jsonrpc', 'method', 'params']);
    assert.equal(request.json.jsonrpc, '2.0');
    assert.equal(request.json.method, 'call');
    assert.equal('id' in request.json, false);

    const params = request.json.params;
    const [{ value: uuid }] = await query<{ value: string }>(
      db,
      "SELECT value FROM setting WHERE key = 'database.uuid'",
    );
    assert.match(uuid, UUID);
    assert.equal(params.database_uuid, uuid);
    assert.equal(typeof params.cpu, 'number');
    assert.ok(params.cpu >= 0);
    assert.equal(typeof params.ram, 'number');
    assert.ok(params.ram > 0 && params.ram < 100, `ram ${params.ram}`);
    assert.ok(isInteger(params.user_count));
    assert.ok(params.user_count >= 1, 'the administrator logged in just before');
    assert.ok(isInteger(params.db_size) && params.db_size > 1_000_000, `db_size ${params.db_size}`);
    assert.ok(isInteger(params.disk_total) && params.disk_total > 0);
    assert.ok(isInteger(params.disk_free) && params.disk_free <= params.disk_total);
    const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));
    assert.equal(params.version, version);
    assert.ok(isInteger(params.uptime) && params.uptime >= 0);
    // A statistic contributed by another addon through the statistics extension point.
    assert.equal(params.test_addon_widgets, 2);
    assert.deepEqual(
      Object.keys(params).sort(),
      [
        'cpu',
        'database_uuid',
        'db_size',
        'disk_free',
        'disk_total',
        'ram',
        'test_addon_widgets',
        'uptime',
        'user_count',
        'version',
      ],
      'no backup addon here, so no last_backup_at',
    );
  });

  it('shows the last success, the answer and the next check-in to administrators', async () => {
    const sentAt = clock.now();
    await runTask();
    const status = await admin.get('/api/v1/dead_mans_switch_client/status');
    assert.equal(status.status, 200);
    assert.equal(status.body.state, 'ok');
    assert.equal(status.body.url, aliveUrl);
    assert.equal(status.body.url_source, 'setting');
    assert.equal(status.body.interval, 300);
    assert.equal(status.body.send_timeout, 60);
    assert.equal(status.body.last_success_at, sentAt.toISOString());
    assert.equal(status.body.consecutive_failures, 0);
    assert.equal(status.body.next_attempt_at, new Date(sentAt.getTime() + 300_000).toISOString());
    assert.deepEqual(status.body.last_response, { jsonrpc: '2.0', id: null, result: { ok: true } });

    const viewer = await newUser(app, { roles: ['manager', 'ops'] });
    const asViewer = await new Api(app.url).login(viewer.email, viewer.password);
    assert.equal((await asViewer.get('/api/v1/dead_mans_switch_client/status')).status, 403);
  });

  it('checks in once per interval, and follows a changed interval at once', async () => {
    assert.equal(await runTask(), true);
    for (let elapsed = 15; elapsed < 300; elapsed += 15) {
      clock.advance(15);
      await runTask();
    }
    assert.equal(server.requests.length, 1, 'not again before the interval is over');
    clock.advance(15);
    await runTask();
    assert.equal(server.requests.length, 2, 'again after 300 s');

    await setting('dead_mans_switch_client.interval', '60');
    clock.advance(60);
    await runTask();
    assert.equal(server.requests.length, 3, 'the shorter interval applies to the next check-in');
  });

  it('reports as user_count the users active in the last 5 minutes', async () => {
    // Everybody from earlier tests is an hour old by now.
    const users = await Promise.all([newUser(app), newUser(app), newUser(app)]);
    assert.equal((await client.sendNow()).sent.user_count, 0);
    const api = new Api(app.url);
    await api.login(users[0].email, users[0].password);
    clock.advance(120);
    const second = await api.login(users[1].email, users[1].password);
    assert.equal((await client.sendNow()).sent.user_count, 2);
    clock.advance(200); // the first login is now 320 s old
    assert.equal((await second.get('/api/v1/me')).status, 200); // the second user keeps working
    assert.equal((await client.sendNow()).sent.user_count, 1);
    clock.advance(301);
    assert.equal((await client.sendNow()).sent.user_count, 0);
    assert.equal(server.requests.at(-1)?.json.params.user_count, 0);
  });

  it("measures this process's CPU: each figure is the CPU time used since the previous check-in", async () => {
    // The test reads CPU time and the clock around each send, which bounds what the client can have measured,
    // and burns a fixed amount of CPU time (not of wall time: the machine may be shared with other busy
    // processes) before the last one. The bounds hold however loaded the machine is.
    const [, first] = await bracket(() => client.sendNow()); // starts a measurement window
    await sleep(500); // only lengthens the quiet window; its real length is in the bounds
    const [quiet, second] = await bracket(() => client.sendNow());
    burnCpu(400_000);
    const [busy, third] = await bracket(() => client.sendNow());
    for (const [name, figure, { min, max }] of [
      ['quiet', quiet.sent.cpu as number, cpuPercentBounds(first, second)],
      ['busy', busy.sent.cpu as number, cpuPercentBounds(second, third)],
    ] as const)
      assert.ok(figure >= min && figure <= max, `${name} cpu ${figure}% is not within [${min}, ${max}]%`);
    assert.deepEqual(
      server.requests.map((r) => r.json.params.cpu),
      [server.requests[0].json.params.cpu, quiet.sent.cpu, busy.sent.cpu],
      'the measured figures are the ones sent',
    );
  });

  it('sends one check-in now and returns the answer (what dms:alive prints)', async () => {
    const outcome = await client.sendNow();
    assert.equal(outcome.url, aliveUrl);
    assert.deepEqual(outcome.answer, { jsonrpc: '2.0', id: null, result: { ok: true } });
    assert.deepEqual(outcome.sent, server.requests[0].json.params);
    // The explicit check-in counts: the schedule does not send another one right after it.
    assert.equal(await runTask(), true);
    assert.equal(server.requests.length, 1);

    const overHttp = await admin.post('/api/v1/dead_mans_switch_client/check_in');
    assert.equal(overHttp.status, 200);
    assert.deepEqual(overHttp.body.answer.result, { ok: true });
    assert.equal(server.requests.length, 2);
  });

  it('tells a job run start on demand, at the start URL beside the alive one, with the uuid only', async () => {
    const outcome = await client.sendStart();
    assert.equal(outcome.url, `${server.url}/dead_mans_switch/start`);
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0].path, '/dead_mans_switch/start');
    assert.deepEqual(Object.keys(server.requests[0].json.params), ['database_uuid']);
    assert.equal(server.requests[0].json.method, 'call');
    // Not a check-in: the schedule still sends one.
    assert.equal(await runTask(), true);
    assert.equal(server.requests[1].path, '/dead_mans_switch/alive');
    // Another server's URL (healthchecks.io) gets /start appended.
    await setting('dead_mans_switch_client.url', `${server.url}/ping/abc`);
    await client.sendStart();
    assert.equal(server.requests[2].path, '/ping/abc/start');
  });

  it('sends credentials in the URL as basic authentication and never shows the password', async () => {
    await setting('dead_mans_switch_client.url', aliveUrl.replace('http://', 'http://vigil:s3cret@'));
    await runTask();
    assert.equal(
      server.requests[0].headers.authorization,
      `Basic ${Buffer.from('vigil:s3cret').toString('base64')}`,
    );
    const status = await admin.get('/api/v1/dead_mans_switch_client/status');
    assert.equal(status.body.url, aliveUrl.replace('http://', 'http://vigil:***@'));
  });

  it('sends the check-in token of dead_mans_switch_client.token in X-Vigil-Token, and none without it', async () => {
    await client.sendNow();
    assert.equal(server.requests[0].headers['x-vigil-token'], undefined);
    await setting('dead_mans_switch_client.token', 'vdms_secret-token');
    try {
      await client.sendNow();
      assert.equal(server.requests[1].headers['x-vigil-token'], 'vdms_secret-token');
      const status = await admin.get('/api/v1/dead_mans_switch_client/status');
      assert.ok(!JSON.stringify(status.body).includes('vdms_secret-token'));
    } finally {
      await setting('dead_mans_switch_client.token', '');
    }
  });
});

describe('dead_mans_switch_client: configuration', () => {
  let db: string;
  let server: FakeSwitchServer;

  before(async () => {
    db = await cloneTemplate();
    server = await FakeSwitchServer.start();
  });

  after(async () => {
    await server?.close();
    await dropDatabase(db);
  });

  it('warns once and sends nothing without a URL; the status says what to do, translated', async () => {
    const clock = new ManualClock(new Date('2025-03-03T10:00:00Z'));
    const app = await startTestApp({ databaseUrl: db, clock });
    try {
      // Not configured is said once per process, as a warning, however many ticks pass.
      const said: { level: string; message: string }[] = [];
      const capture = (level: string) => (message: unknown) => said.push({ level, message: String(message) });
      app.vigil.app.useLogger({
        log: capture('log'),
        warn: capture('warn'),
        error: capture('error'),
        fatal: capture('fatal'),
      });
      assert.equal(await app.get(SchedulerService).runDue(CHECK_IN_TASK), true);
      assert.equal(server.requests.length, 0);
      const admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
      const status = await admin.get('/api/v1/dead_mans_switch_client/status');
      assert.equal(status.body.state, 'not_configured');
      assert.equal(status.body.url, null);
      assert.equal(status.body.last_error_key, 'dead_mans_switch_client.errors.no_url');
      assert.match(
        status.body.last_error,
        /set the dead_mans_switch_client\.url setting or the DEAD_MANS_SWITCH/,
      );
      assert.equal(status.body.last_error_at, clock.now().toISOString());
      const french = await admin
        .withHeaders({ 'accept-language': 'fr' })
        .get('/api/v1/dead_mans_switch_client/status');
      assert.equal(french.body.state_label, 'Non configuré');
      assert.match(french.body.last_error, /^Aucun serveur de surveillance de présence configuré/);
      await assert.rejects(
        app.get(DeadMansSwitchClientService).sendNow(),
        /No dead man's switch server configured/,
      );
      const overHttp = await admin.post('/api/v1/dead_mans_switch_client/check_in');
      assert.equal(overHttp.status, 502);
      assert.match(overHttp.body.message, /No dead man's switch server configured/);

      for (let tick = 0; tick < 4; tick++) {
        clock.advance(3600);
        assert.equal(await app.get(SchedulerService).runDue(CHECK_IN_TASK), true);
      }
      const noUrl = said.filter((s) => s.message.includes("No dead man's switch server configured"));
      assert.deepEqual(
        noUrl.map((s) => s.level),
        ['warn'],
        JSON.stringify(said),
      );
    } finally {
      await app.close();
    }
  });

  it('takes the URL from DEAD_MANS_SWITCH_CLIENT_URL over the setting', async () => {
    const clock = new ManualClock(new Date('2025-03-04T10:00:00Z'));
    await query(db, "UPDATE setting SET value = 'http://127.0.0.1:9/not-this-one' WHERE key = $1", [
      'dead_mans_switch_client.url',
    ]);
    const app = await startTestApp({
      databaseUrl: db,
      clock,
      env: { DEAD_MANS_SWITCH_CLIENT_URL: `${server.url}/from-env` },
    });
    try {
      await app.get(SchedulerService).runDue(CHECK_IN_TASK);
      assert.deepEqual(
        server.requests.map((r) => r.path),
        ['/from-env'],
      );
      const admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
      const status = await admin.get('/api/v1/dead_mans_switch_client/status');
      assert.equal(status.body.url_source, 'env');
      assert.equal(status.body.state, 'ok');
    } finally {
      await app.close();
    }
  });
});
