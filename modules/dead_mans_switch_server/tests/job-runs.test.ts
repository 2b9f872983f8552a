import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChatterService, ManualClock, NotificationDispatcher } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newPartner, newUser, type NewUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { startSmtp, type ReceivedMail, type SmtpSink } from '../../../test/harness/smtp.js';
import {
  activeInstance,
  alerts,
  count,
  elapse,
  instanceByUuid,
  jsonRpc,
  newUuid,
  postAlive,
  postInstanceEndpoint,
} from './helpers.js';

const DELAY = 600;
const INSTANCES = '/api/v1/dead_mans_switch/instances';

/**
 * Job-run timing, healthchecks.io-style: `POST /dead_mans_switch/start` when a run begins, the check-in when it
 * ends. A run that does not end within `run_timeout` makes the instance down; one outside the bounds posts an
 * alert event; each run's duration is recorded.
 */
describe('dead_mans_switch job-run timing: POST /dead_mans_switch/start', () => {
  let app: TestApp;
  let db: string;
  let smtp: SmtpSink;
  let admin: Api;
  let follower: NewUser;
  const clock = new ManualClock(new Date('2025-06-01T08:00:00Z'));
  const start = (body: unknown, headers: Record<string, string> = {}) =>
    postInstanceEndpoint(app, 'start', body, headers);

  async function dispatch(): Promise<ReceivedMail[]> {
    const before = smtp.mails.length;
    await app.get(NotificationDispatcher).dispatchDue();
    return smtp.mails.slice(before);
  }
  const about = (mails: ReceivedMail[], name: string) =>
    mails.filter((m) => m.subject.includes(name)).map((m) => m.subject);

  async function instance(name: string, timing: Record<string, number | null>) {
    const customer = await newPartner(app, { name, is_company: true, customer: true });
    const created = await activeInstance(app, admin, { delay: DELAY, partnerId: customer.id });
    const patched = await admin.patch(`${INSTANCES}/${created.id}`, timing);
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    await app
      .get(ChatterService)
      .follow({ model: 'dead_mans_switch.instance', id: created.id }, follower.partner_id);
    return created;
  }
  const get = async (id: number) => (await admin.get(`${INSTANCES}/${id}`)).body;

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock, env: { SMTP_URL: smtp.url } });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    follower = await newUser(app, { lang: 'en', name: 'Rita Runs' });
  });

  after(async () => {
    await app?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('a run that starts and does not finish within run_timeout makes the instance down', async () => {
    const job = await instance('Nightly Job', { run_timeout: 120 });
    const idle = await instance('Idle Job', { run_timeout: 120 });
    await dispatch();
    const started = await start({ database_uuid: job.uuid });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    assert.deepEqual(started.body, { status: 'ok', instance_state: 'active' });
    assert.ok((await get(job.id)).run_started_at);
    await elapse(app, clock, 90);
    assert.deepEqual(await alerts(db, job.id), []);
    await elapse(app, clock, 30);
    assert.deepEqual(await alerts(db, job.id), ['down']);
    assert.equal((await get(job.id)).health, 'down');
    // Without a start, the same timeout does nothing: only the delay counts.
    assert.deepEqual(await alerts(db, idle.id), []);
    assert.equal((await get(idle.id)).health, 'up');
    const mails = about(await dispatch(), 'Nightly Job');
    assert.deepEqual(mails, ["Dead man's switch warning: Nightly Job"]);
    const [message] = await query<{ body: string }>(
      db,
      `SELECT m.body::text AS body FROM mail_message m WHERE m.model = 'dead_mans_switch.instance'
       AND m.res_id = $1 ORDER BY m.id DESC LIMIT 1`,
      [job.id],
    );
    // The alert says why: the run did not finish in time.
    assert.match(message.body, /alerts\.down_body_run/);
    assert.match(message.body, /"timeout": ?120/);
    // The check-in that ends the run brings it back, and records the run's duration.
    await postAlive(app, jsonRpc({ database_uuid: job.uuid }));
    assert.deepEqual(await alerts(db, job.id), ['down', 'up']);
    const back = await get(job.id);
    assert.equal(back.run_started_at, null);
    assert.equal(back.last_run_seconds, 120);
    assert.equal(back.runs.length, 1);
    assert.equal(back.runs[0].seconds, 120);
  });

  it('a finished run outside run_min_seconds..run_max_seconds posts an alert event; within, nothing', async () => {
    const job = await instance('Backup Job', { run_min_seconds: 60, run_max_seconds: 300 });
    await dispatch();
    // Too fast.
    await start(jsonRpc({ database_uuid: job.uuid }));
    clock.advance(10);
    await postAlive(app, jsonRpc({ database_uuid: job.uuid }));
    // Too slow.
    await start({ database_uuid: job.uuid });
    clock.advance(400);
    await postAlive(app, { database_uuid: job.uuid });
    // Within.
    await start({ database_uuid: job.uuid });
    clock.advance(100);
    await postAlive(app, { database_uuid: job.uuid });
    const events = await admin.get(`/api/v1/dead_mans_switch/events?instance_id=${job.id}`);
    assert.deepEqual(events.body.items.map((e: { message: string }) => e.message).sort(), [
      'run too fast: took 10 s (at least 60 s expected)',
      'run too slow: took 400 s (at most 300 s expected)',
    ]);
    const mails = await dispatch();
    assert.deepEqual(about(mails, 'Backup Job').sort(), [
      "Dead man's switch: run too fast on Backup Job",
      "Dead man's switch: run too slow on Backup Job",
    ]);
    assert.match(
      mails.find((m) => m.subject.includes('too slow'))!.text,
      /took 400 s \(at most 300 s expected\)/,
    );
    const got = await get(job.id);
    assert.equal(got.last_run_seconds, 100);
    assert.deepEqual(
      got.runs.map((r: { seconds: number }) => r.seconds),
      [100, 400, 10],
    );
    // No run was timed out: the instance never went down.
    assert.deepEqual(await alerts(db, job.id), []);
  });

  it('in a maintenance window, a run too fast or too slow tells no one (as a down alert); the event says why', async () => {
    const job = await instance('Nightly Restore', { run_min_seconds: 60, run_max_seconds: 300 });
    const other = await instance('Other Customer Job', { run_min_seconds: 60 });
    await dispatch();
    const window = await admin.post('/api/v1/dead_mans_switch/maintenance_windows', {
      instance_id: job.id,
      starts_at: clock.now().toISOString(),
      ends_at: new Date(clock.now().getTime() + 3_600_000).toISOString(),
    });
    assert.equal(window.status, 201, JSON.stringify(window.body));
    // Too fast, then too slow, inside the window; the other instance, not covered, alerts as usual.
    await start({ database_uuid: job.uuid });
    await start({ database_uuid: other.uuid });
    clock.advance(10);
    await postAlive(app, { database_uuid: job.uuid });
    await postAlive(app, { database_uuid: other.uuid });
    await start({ database_uuid: job.uuid });
    clock.advance(400);
    await postAlive(app, { database_uuid: job.uuid });
    // Started in the window, ended after it (an hour from its start): still not told.
    clock.advance(3_600 - 410 - 60);
    await start({ database_uuid: job.uuid });
    clock.advance(400);
    await postAlive(app, { database_uuid: job.uuid });
    const mails = await dispatch();
    assert.deepEqual(about(mails, 'Nightly Restore'), []);
    assert.deepEqual(about(mails, 'Other Customer Job'), [
      "Dead man's switch: run too fast on Other Customer Job",
    ]);
    const events = await admin.get(`/api/v1/dead_mans_switch/events?instance_id=${job.id}`);
    assert.deepEqual(events.body.items.map((e: { message: string }) => e.message).sort(), [
      'run too fast: took 10 s (at least 60 s expected); in a maintenance window, not alerted',
      'run too slow: took 400 s (at most 300 s expected); in a maintenance window, not alerted',
      'run too slow: took 400 s (at most 300 s expected); in a maintenance window, not alerted',
    ]);
    const [{ n }] = await query<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM mail_message WHERE model = 'dead_mans_switch.instance' AND res_id = $1
       AND body->>'key' LIKE '%.run_too_%'`,
      [job.id],
    );
    assert.equal(n, 0, 'no message in the chatter either');

    // After the window, the same run alerts again.
    clock.advance(600);
    await start({ database_uuid: job.uuid });
    clock.advance(10);
    await postAlive(app, { database_uuid: job.uuid });
    assert.deepEqual(about(await dispatch(), 'Nightly Restore'), [
      "Dead man's switch: run too fast on Nightly Restore",
    ]);
  });

  it('check-ins without start (the OCA client) record no run; crossed bounds are refused', async () => {
    const job = await instance('Plain Client', { run_min_seconds: 60 });
    await postAlive(app, jsonRpc({ database_uuid: job.uuid, cpu: 1, ram: 2, user_count: 1 }));
    const got = await get(job.id);
    assert.equal(got.last_run_seconds, null);
    assert.deepEqual(got.runs, []);
    const crossed = await admin.patch(`${INSTANCES}/${job.id}`, {
      run_min_seconds: 600,
      run_max_seconds: 60,
    });
    assert.equal(crossed.status, 400);
    assert.match(crossed.body.message, /shortest run \(600 s\) is longer than the longest \(60 s\)/);
  });

  it('refuses bad input like alive: size, content type, uuid, check-in token; an unknown uuid registers', async () => {
    const instances = await count(db, 'dead_mans_switch_instance');
    const refused = [
      await start({ database_uuid: newUuid(), padding: 'x'.repeat(17 * 1024) }),
      await start(JSON.stringify({ database_uuid: newUuid() }), { 'content-type': 'text/plain' }),
      await start({ database_uuid: 'not-a-uuid' }),
      await start({}),
      await start('{"database_uuid": '),
    ];
    assert.deepEqual(
      refused.map((r) => r.status),
      [413, 415, 400, 400, 400],
    );
    const rpc = await start(jsonRpc({ database_uuid: 'nope' }));
    assert.equal(rpc.status, 200);
    assert.ok(rpc.body.error, JSON.stringify(rpc.body));
    assert.equal(await count(db, 'dead_mans_switch_instance'), instances);
    // An unknown uuid registers as a check-in would (state new), with its run in progress.
    const fresh = newUuid();
    assert.equal((await start({ database_uuid: fresh })).status, 200);
    const registered = await instanceByUuid(db, fresh);
    assert.equal(registered.state, 'new');
    assert.ok(registered.run_started_at);
    // With a check-in token, start needs it.
    const job = await instance('Token Job', { run_timeout: 60 });
    const token = (await admin.post(`${INSTANCES}/${job.id}/token`)).body.token as string;
    assert.equal((await start({ database_uuid: job.uuid })).status, 401);
    assert.equal((await get(job.id)).run_started_at, null);
    assert.equal((await start({ database_uuid: job.uuid }, { 'x-vigil-token': token })).status, 200);
    assert.ok((await get(job.id)).run_started_at);
  });
});

describe('POST /dead_mans_switch/start with DEAD_MANS_SWITCH_ALLOWED_CIDRS', () => {
  let db: string;
  after(async () => {
    await dropDatabase(db);
  });

  it('refuses sources outside the allow-list with 403', async () => {
    db = await cloneTemplate();
    const outside = await startTestApp({
      databaseUrl: db,
      env: { DEAD_MANS_SWITCH_ALLOWED_CIDRS: '10.0.0.0/8' },
    });
    try {
      const refused = await postInstanceEndpoint(outside, 'start', { database_uuid: newUuid() });
      assert.equal(refused.status, 403);
      assert.equal(await count(db, 'dead_mans_switch_instance'), 0);
    } finally {
      await outside.close();
    }
  });
});
