import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, NotificationDispatcher } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase } from '../../../test/harness/database.js';
import { newPartner, newUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { startSmtp, type SmtpSink } from '../../../test/harness/smtp.js';
import { EventRetentionTask } from '../events/event-retention.task.js';
import { count, instanceByUuid, jsonRpc, newUuid, postAlive, postInstanceEndpoint } from './helpers.js';

const EVENTS = '/api/v1/dead_mans_switch/events';

describe('events: POST /dead_mans_switch/event and GET /api/v1/dead_mans_switch/events', () => {
  let app: TestApp;
  let db: string;
  let smtp: SmtpSink;
  let admin: Api;
  let viewer: Api;
  const clock = new ManualClock(new Date('2025-07-01T10:00:00Z'));
  const dispatch = () => app.get(NotificationDispatcher).dispatchDue();
  const postEvent = (body: unknown, headers?: Record<string, string>) =>
    postInstanceEndpoint(app, 'event', body, headers);

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    app = await startTestApp({
      databaseUrl: db,
      clock,
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'Vigil <vigil@ops.test>' },
    });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    const bob = await newUser(app, { roles: ['viewer'], email: 'bob@ops.test' });
    viewer = await new Api(app.url).login(bob.email, bob.password);
  });

  after(async () => {
    await app?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('posts an error event to the followers by e-mail, not a debug one', async () => {
    const alice = await newUser(app, { roles: ['manager'], name: 'Alice', email: 'alice@ops.test' });
    const acme = await newPartner(app, { name: 'Acme', is_company: true, customer: true, user_id: alice.id });
    const uuid = newUuid();
    await postAlive(app, { database_uuid: uuid });
    const { id } = await instanceByUuid(db, uuid);
    assert.equal(
      (await admin.patch(`/api/v1/dead_mans_switch/instances/${id}`, { partner_id: acme.id })).status,
      200,
    );
    await dispatch();
    const before = smtp.mails.length;

    const debug = await postEvent(jsonRpc({ database_uuid: uuid, level: 'debug', message: 'cron ran' }));
    assert.deepEqual(debug.body, {
      jsonrpc: '2.0',
      id: null,
      result: { status: 'ok', instance_state: 'new' },
    });
    await dispatch();
    assert.equal(smtp.mails.length, before, 'a debug event reaches no one');

    const error = await postEvent({
      database_uuid: uuid,
      level: 'ERROR',
      message: 'Backup failed: disk full',
    });
    assert.deepEqual(error.body, { status: 'ok', instance_state: 'new' });
    await dispatch();
    const mails = smtp.to('alice@ops.test').slice(-1);
    assert.equal(smtp.mails.length, before + 1);
    assert.equal(mails[0].subject, "Dead man's switch event (error): Acme");
    assert.match(mails[0].text, /Backup failed: disk full/);
    const messages = await admin.get(`/api/v1/threads/dead_mans_switch.instance/${id}/messages`);
    assert.equal(
      messages.body.items.filter((m: any) => m.subtype === 'dead_mans_switch.mt_instance_event').length,
      1,
    );
  });

  it('stores events with the server time and lists them with each filter, paginated', async () => {
    // An hour after the previous test's events.
    clock.advance(3600);
    const start = clock.now();
    const first = newUuid();
    const second = newUuid();
    // An unknown uuid registers, as a check-in would.
    assert.equal((await postEvent({ database_uuid: first, level: 'info', message: 'started' })).status, 200);
    const firstId = (await instanceByUuid(db, first)).id;
    assert.equal((await instanceByUuid(db, first)).state, 'new');
    clock.advance(60);
    await postEvent({ database_uuid: first, level: 'warning', message: 'Disk at 85 %', time: '1999-01-01' });
    clock.advance(60);
    await postEvent({ database_uuid: second, level: 'critical', message: 'Database corrupted' });
    clock.advance(60);
    await postEvent({ database_uuid: first, level: 'error', message: 'disk full' });
    const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000).toISOString();

    const list = async (params: string) => {
      const reply = await viewer.get(`${EVENTS}?${params}`);
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      return reply.body;
    };
    const all = await list(`instance_id=${firstId}`);
    assert.equal(all.total, 3);
    assert.deepEqual(
      all.items.map((e: any) => [e.level, e.message, e.received_at]),
      [
        ['error', 'disk full', at(3)],
        ['warning', 'Disk at 85 %', at(1)],
        ['info', 'started', at(0)],
      ],
    );
    assert.deepEqual(
      (await list(`instance_id=${firstId}&level=warning`)).items.map((e: any) => e.level),
      ['error', 'warning'],
    );
    assert.deepEqual(
      (await list(`instance_id=${firstId}&from=${at(1)}&to=${at(3)}`)).items.map((e: any) => e.message),
      ['Disk at 85 %'],
    );
    assert.deepEqual(
      (await list(`q=DISK&from=${at(0)}`)).items.map((e: any) => e.message),
      ['disk full', 'Disk at 85 %'],
    );
    assert.deepEqual(
      (await list(`level=critical`)).items.map((e: any) => [e.instance_id, e.message]),
      [[(await instanceByUuid(db, second)).id, 'Database corrupted']],
    );
    const page = await list(`instance_id=${firstId}&limit=1&offset=1`);
    assert.deepEqual([page.total, page.items.length, page.items[0].message], [3, 1, 'Disk at 85 %']);
    assert.equal((await viewer.get(`${EVENTS}?level=fatal`)).status, 400);
    assert.equal((await new Api(app.url).get(EVENTS)).status, 401);
  });

  it('refuses oversized or malformed events and stores nothing', async () => {
    const uuid = newUuid();
    await postAlive(app, { database_uuid: uuid });
    const { id } = await instanceByUuid(db, uuid);
    const refused = [
      await postEvent({ database_uuid: uuid, level: 'error', message: 'x'.repeat(17 * 1024) }),
      await postEvent({ database_uuid: uuid, level: 'fatal', message: 'boom' }),
      await postEvent({ database_uuid: uuid, level: 'error' }),
      await postEvent({ database_uuid: uuid, level: 'error', message: 'x'.repeat(4001) }),
      await postEvent({ database_uuid: uuid, level: 'error', message: '   ' }),
      await postEvent({ database_uuid: 'not-a-uuid', level: 'error', message: 'boom' }),
      await postEvent('{"database_uuid": '),
      await postEvent('level=error', { 'content-type': 'text/plain' }),
    ];
    assert.deepEqual(
      refused.map((r) => r.status),
      [413, 400, 400, 400, 400, 400, 400, 415],
    );
    assert.match(refused[1].body.message, /debug, info, warning, error, critical/);
    const rpc = await postEvent(jsonRpc({ database_uuid: uuid, level: 'error', message: 42 }));
    assert.equal(rpc.status, 200);
    assert.equal(rpc.body.error.data.name, 'odoo.exceptions.ValidationError');
    assert.equal(await count(db, 'dead_mans_switch_event', 'instance_id = $1', [id]), 0);
    assert.equal(await count(db, 'dead_mans_switch_instance', `database_uuid::text = 'not-a-uuid'`), 0);
  });

  it('deletes events older than dead_mans_switch.event_retention_days, daily', async () => {
    const uuid = newUuid();
    await postEvent({ database_uuid: uuid, level: 'info', message: 'old' });
    clock.advance(366 * 86_400);
    await postEvent({ database_uuid: uuid, level: 'info', message: 'recent' });
    const { id } = await instanceByUuid(db, uuid);
    await app.get(EventRetentionTask).run(clock.now());
    const left = await viewer.get(`${EVENTS}?instance_id=${id}`);
    assert.deepEqual(
      left.body.items.map((e: any) => e.message),
      ['recent'],
    );
  });
});
