import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AppException, ManualClock, SchedulerService, SettingsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { Api } from '../../../test/harness/http.js';
import { CHECK_IN_TASK } from '../client-settings.js';
import { DeadMansSwitchClientService } from '../dead-mans-switch-client.service.js';
import { closedPortUrl, FakeSwitchServer, type Behaviour } from './fake-switch-server.js';

describe('dead_mans_switch_client: failures are logged, retried with backoff, and never stop the app', () => {
  const clock = new ManualClock(new Date('2025-03-03T10:00:00Z'));
  let app: TestApp;
  let db: string;
  let server: FakeSwitchServer;
  let admin: Api;
  let aliveUrl: string;

  const runTask = () => app.get(SchedulerService).runDue(CHECK_IN_TASK);
  const setting = (key: string, value: string) => app.get(SettingsService).set(key, value);
  const status = async () => (await admin.get('/api/v1/dead_mans_switch_client/status')).body;

  before(async () => {
    db = await cloneTemplate();
    server = await FakeSwitchServer.start();
    aliveUrl = `${server.url}/dead_mans_switch/alive`;
    app = await startTestApp({ databaseUrl: db, clock });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
  });

  after(async () => {
    await app?.close();
    await server?.close();
    await dropDatabase(db);
  });

  beforeEach(async () => {
    clock.advance(3600);
    server.requests.length = 0;
    await setting('dead_mans_switch_client.url', aliveUrl);
    await setting('dead_mans_switch_client.send_timeout', '60');
    await query(
      db,
      `UPDATE dead_mans_switch_client_state
       SET last_attempt_at = NULL, last_success_at = NULL, consecutive_failures = 0, last_error_key = NULL`,
    );
  });

  /**
   * Runs the scheduled task through a failure, its backoff and its retry, then lets the server recover: the
   * status shows each step, the scheduler sees no crash and the app keeps answering.
   */
  async function failThenRecover(
    behaviour: Behaviour,
    expectedKey: string,
    expectedMessage: RegExp,
    reachesServer = true,
  ) {
    server.behaviour = behaviour;
    const failedAt = clock.now();
    assert.equal(await runTask(), true);
    assert.equal(server.requests.length, reachesServer ? 1 : 0);
    let body = await status();
    assert.equal(body.state, 'failing');
    assert.equal(body.last_error_key, expectedKey);
    assert.match(body.last_error, expectedMessage);
    assert.equal(body.last_error_at, failedAt.toISOString());
    assert.equal(body.consecutive_failures, 1);
    assert.equal(body.last_success_at, null);
    assert.equal(body.next_attempt_at, new Date(failedAt.getTime() + 30_000).toISOString(), 'retry in 30 s');
    assert.equal((await fetch(`${app.url}/monitoring/status`)).status, 200, 'the app keeps serving');
    const [task] = await query<{ last_error: string | null }>(
      db,
      'SELECT last_error FROM scheduled_task WHERE id = $1',
      [CHECK_IN_TASK],
    );
    assert.equal(task.last_error, null, 'the failure is handled, not thrown into the scheduler');

    clock.advance(15);
    await runTask();
    assert.equal((await status()).consecutive_failures, 1, 'no retry before the backoff is over');
    clock.advance(15);
    await runTask();
    body = await status();
    assert.equal(body.consecutive_failures, 2, 'retried after 30 s');
    assert.equal(server.requests.length, reachesServer ? 2 : 0);
    assert.equal(body.next_attempt_at, new Date(clock.now().getTime() + 60_000).toISOString(), 'then 60 s');

    server.behaviour = 'odoo';
    await setting('dead_mans_switch_client.url', aliveUrl);
    await setting('dead_mans_switch_client.send_timeout', '60');
    clock.advance(60);
    await runTask();
    body = await status();
    assert.equal(body.state, 'ok');
    assert.equal(body.consecutive_failures, 0);
    assert.equal(body.last_success_at, clock.now().toISOString());
    assert.equal(body.last_error_key, expectedKey, 'the last error stays visible after a success');
    assert.equal(body.next_attempt_at, new Date(clock.now().getTime() + 300_000).toISOString());
  }

  it('an unreachable server (connection refused)', async () => {
    await setting('dead_mans_switch_client.url', await closedPortUrl());
    await failThenRecover(
      'odoo',
      'dead_mans_switch_client.errors.unreachable',
      /Could not reach the dead man's switch server http:\/\/127\.0\.0\.1:\d+\/dead_mans_switch\/alive \(ECONNREFUSED\)/,
      false,
    );
  });

  it('a server slower than send_timeout', async () => {
    await setting('dead_mans_switch_client.send_timeout', '0.3');
    const started = performance.now();
    await failThenRecover('hang', 'dead_mans_switch_client.errors.timeout', /did not answer within 0\.3 s/);
    const elapsed = performance.now() - started;
    // Two attempts hung until their 0.3 s timer: a timer never fires early, whatever the load (a few ms of
    // slack for timers counting from the event loop's cached time).
    assert.ok(elapsed >= 2 * 300 - 5, `gave up after ${elapsed} ms, before the 0.3 s send_timeout twice`);
    // Only a bound, far above what a loaded machine takes: without the timeout the hung sends would wait for
    // the 60 s default, twice.
    assert.ok(elapsed < 30_000, `the timeout did not cut the wait short: ${elapsed} ms`);
  });

  it('an HTTP 500', async () => {
    await failThenRecover('http_500', 'dead_mans_switch_client.errors.http_status', /answered HTTP 500/);
  });

  it('a JSON-RPC error in a 200 reply', async () => {
    await failThenRecover(
      'rpc_error',
      'dead_mans_switch_client.errors.rpc_error',
      /refused the check-in: database_uuid is not a UUID/,
    );
  });

  it('backs off exponentially, never longer than the interval', async () => {
    server.behaviour = 'http_500';
    const waits: number[] = [];
    let previous = clock.now();
    await runTask();
    for (let i = 0; i < 6; i++) {
      const next = new Date((await status()).next_attempt_at);
      waits.push((next.getTime() - previous.getTime()) / 1000);
      clock.set(next);
      previous = next;
      await runTask();
    }
    assert.deepEqual(waits, [30, 60, 120, 240, 300, 300]);
    assert.equal(server.requests.length, 7);
  });

  it('sendNow throws a clear error, and the API answers 502 translated', async () => {
    server.behaviour = 'http_500';
    await assert.rejects(
      app.get(DeadMansSwitchClientService).sendNow(),
      /The dead man's switch server .* answered HTTP 500/,
    );
    const overHttp = await admin
      .withHeaders({ 'accept-language': 'de' })
      .post('/api/v1/dead_mans_switch_client/check_in');
    assert.equal(overHttp.status, 502);
    assert.match(overHttp.body.message, /hat mit HTTP 500 geantwortet/);
  });

  it('refuses a URL that is not http(s): the setting keeps its value', async () => {
    await assert.rejects(
      setting('dead_mans_switch_client.url', 'ftp://example.test/alive'),
      (error: AppException) => error.key === 'core.settings.rules.url' && error.getStatus() === 400,
    );
    assert.equal(await app.get(SettingsService).getText('dead_mans_switch_client.url'), aliveUrl);
  });
});
