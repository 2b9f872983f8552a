import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ManualClock,
  NotificationDispatcher,
  SchedulerService,
  SettingsService,
} from '../../../src/index.js';
import { startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newPartner, newUser, type NewUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { startSmtp, type SmtpSink } from '../../../test/harness/smtp.js';
import { SETTINGS } from '../settings.js';
import { WatchdogService } from '../watchdog/watchdog.service.js';
import { count, elapse, instanceByUuid, jsonRpc, newUuid, postAlive } from './helpers.js';

const INSTANCES = '/api/v1/dead_mans_switch/instances';

describe('instances: management, chatter and alert e-mails', () => {
  let app: TestApp;
  let db: string;
  let smtp: SmtpSink;
  let alice: NewUser;
  let francois: NewUser;
  let asAlice: Api;
  let asBob: Api;
  const clock = new ManualClock(new Date('2025-05-05T09:00:00Z'));
  const dispatch = () => app.get(NotificationDispatcher).dispatchDue();

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    app = await startTestApp({
      databaseUrl: db,
      clock,
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'Vigil <vigil@ops.test>' },
    });
    const anonymous = new Api(app.url);
    alice = await newUser(app, { roles: ['manager'], name: 'Alice Manager', email: 'alice@ops.test' });
    francois = await newUser(app, { name: 'François', email: 'francois@ops.test', lang: 'fr' });
    const bob = await newUser(app, { roles: ['viewer'], name: 'Bob Viewer', email: 'bob@ops.test' });
    asAlice = await anonymous.login(alice.email, alice.password);
    asBob = await anonymous.login(bob.email, bob.password);
    await app.get(WatchdogService).runPass();
  });

  after(async () => {
    await app?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('tells the followers by e-mail: one down alert, one reminder, one recovery, in their language', async () => {
    const acme = await newPartner(app, {
      name: 'Acme Hosting',
      is_company: true,
      customer: true,
      user_id: alice.id,
    });
    const uuid = newUuid();
    await postAlive(app, jsonRpc({ database_uuid: uuid, cpu: 2.5, ram: 30, user_count: 4 }));
    const { id } = await instanceByUuid(db, uuid);

    // Viewers read, managers write.
    assert.equal((await asBob.get(`${INSTANCES}/${id}`)).status, 200);
    assert.equal((await asBob.patch(`${INSTANCES}/${id}`, { description: 'x' })).status, 403);
    assert.equal((await asBob.post(`${INSTANCES}/${id}/activate`)).status, 403);

    // The customer brings its account manager as responsible, who then follows the instance.
    const assigned = await asAlice.patch(`${INSTANCES}/${id}`, {
      partner_id: acme.id,
      description: 'production',
      alive_max_delay: 60,
    });
    assert.equal(assigned.status, 200);
    assert.equal(assigned.body.user_id, alice.id);
    assert.equal(assigned.body.display_name, 'Acme Hosting (production)');
    assert.equal(assigned.body.health, null);
    const thread = `/api/v1/threads/dead_mans_switch.instance/${id}`;
    assert.equal(
      (await asAlice.post(`${thread}/followers`, { partner_id: francois.partner_id })).status,
      201,
    );
    // The instance subtypes are defaults for followers of instances only, not of customers.
    await asAlice.post(`/api/v1/threads/partner/${acme.id}/followers`, {});
    const partnerFollowers = await asAlice.get(`/api/v1/threads/partner/${acme.id}/followers`);
    // (Other addons may add defaults of customers, e.g. the monthly report: only the instance ones must be absent.)
    const partnerSubtypes = partnerFollowers.body.map(
      (f: { subtypes: string[] }) => f.subtypes,
    ) as string[][];
    assert.equal(partnerSubtypes.length, 1);
    assert.ok(partnerSubtypes[0].includes('mail.mt_comment'));
    assert.deepEqual(
      partnerSubtypes[0].filter((key) => key.startsWith('dead_mans_switch')),
      [],
    );

    const followers = await asAlice.get(`${thread}/followers`);
    assert.deepEqual(
      followers.body.map((f: { name: string; subtypes: string[] }) => [f.name, f.subtypes.sort()]),
      [
        [
          'Alice Manager',
          [
            'dead_mans_switch.mt_instance_cancelled',
            'dead_mans_switch.mt_instance_down',
            'dead_mans_switch.mt_instance_event',
            'dead_mans_switch.mt_instance_up',
            'dead_mans_switch.mt_probe_down',
            'dead_mans_switch.mt_probe_up',
            'mail.mt_comment',
          ],
        ],
        [
          'François',
          [
            'dead_mans_switch.mt_instance_cancelled',
            'dead_mans_switch.mt_instance_down',
            'dead_mans_switch.mt_instance_event',
            'dead_mans_switch.mt_instance_up',
            'dead_mans_switch.mt_probe_down',
            'dead_mans_switch.mt_probe_up',
            'mail.mt_comment',
          ],
        ],
      ],
    );

    const activated = await asAlice.post(`${INSTANCES}/${id}/activate`);
    assert.equal(activated.status, 200);
    assert.equal(activated.body.state, 'active');
    assert.equal(activated.body.health, 'up');
    assert.equal((await asAlice.post(`${INSTANCES}/${id}/activate`)).status, 409);

    // Tracking: customer and responsible, then the state, as notes in the chatter.
    const messages = await asAlice.get(`${thread}/messages`);
    const tracked = messages.body.items.flatMap((m: any) =>
      m.tracking.map((t: any) => `${t.field}: ${t.old_value ?? '-'} → ${t.new_value}`),
    );
    assert.deepEqual(tracked.sort(), [
      'partnerId: - → Acme Hosting',
      'state: new → active',
      'userId: - → Alice Manager',
    ]);
    await dispatch();
    assert.equal(smtp.mails.length, 0, 'tracking notes are not e-mailed');

    await elapse(app, clock, 90);
    await dispatch();
    assert.equal(smtp.mails.length, 0, 'late is not down');
    await elapse(app, clock, 30);
    await dispatch();
    const [down] = smtp.to('alice@ops.test');
    assert.equal(smtp.mails.length, 2);
    assert.equal(down.subject, "Dead man's switch warning: Acme Hosting (production)");
    assert.match(down.text, /Acme Hosting \(production\) seems to be dead/);
    assert.match(down.text, new RegExp(uuid));
    const [downFr] = smtp.to('francois@ops.test');
    assert.equal(downFr.subject, 'Alerte de surveillance de présence : Acme Hosting (production)');
    assert.match(downFr.text, /Acme Hosting \(production\) semble hors service/);

    await elapse(app, clock, 150);
    await dispatch();
    assert.equal(smtp.mails.length, 2, 'no reminder before 3x the delay');
    await elapse(app, clock, 30);
    await dispatch();
    assert.equal(smtp.mails.length, 4);
    assert.match(
      smtp.to('alice@ops.test')[1].text,
      /is still down \(1st reminder\): no check-in for 5 min \(last seen May 5, 2025, 9:00 AM UTC\)/,
    );

    await postAlive(app, jsonRpc({ database_uuid: uuid, cpu: 1, ram: 31, user_count: null }));
    await postAlive(app, jsonRpc({ database_uuid: uuid, cpu: 1, ram: 31, user_count: null }));
    await dispatch();
    assert.equal(smtp.mails.length, 6);
    const up = smtp.to('alice@ops.test')[2];
    assert.equal(up.subject, "Dead man's switch: Acme Hosting (production) is back");
    assert.equal(
      smtp.to('francois@ops.test')[2].subject,
      'Surveillance de présence : Acme Hosting (production) est de retour',
    );
    await elapse(app, clock, 60);
    await dispatch();
    assert.equal(smtp.mails.length, 6);
    assert.equal((await asBob.get(`${INSTANCES}/${id}`)).body.health, 'late');

    // Suspended: silent, however long it stays quiet.
    assert.equal((await asAlice.post(`${INSTANCES}/${id}/suspend`)).status, 200);
    assert.equal((await asAlice.post(`${INSTANCES}/${id}/suspend`)).status, 409);
    await elapse(app, clock, 1200);
    await dispatch();
    assert.equal(smtp.mails.length, 6);
  });

  it('lists instances with filters and pagination', async () => {
    await app.get(SettingsService).set(SETTINGS.maxRegistrationsPerHour, '100');
    await app.get(SettingsService).set(SETTINGS.maxRegistrationsGlobalPerHour, '100');
    const globex = await newPartner(app, { name: 'Globex', is_company: true, customer: true });
    const uuids = [newUuid(), newUuid(), newUuid()];
    for (const uuid of uuids) await postAlive(app, { database_uuid: uuid, cpu: 1 });
    const ids = [];
    for (const uuid of uuids) ids.push((await instanceByUuid(db, uuid)).id);
    for (const id of ids)
      await asAlice.patch(`${INSTANCES}/${id}`, { partner_id: globex.id, alive_max_delay: 60 });
    await asAlice.patch(`${INSTANCES}/${ids[0]}`, { description: 'staging' });
    for (const id of [ids[0], ids[1]]) {
      const activated = await asAlice.post(`${INSTANCES}/${id}/activate`);
      assert.equal(activated.status, 200, JSON.stringify(activated.body));
    }
    clock.advance(60);
    await postAlive(app, { database_uuid: uuids[1] });

    const byPartner = await asBob.get(`${INSTANCES}?partner_id=${globex.id}`);
    assert.equal(byPartner.status, 200, JSON.stringify(byPartner.body));
    assert.equal(byPartner.body.total, 3);
    const page = await asBob.get(`${INSTANCES}?partner_id=${globex.id}&limit=2&offset=2`);
    assert.equal(page.body.items.length, 1);
    assert.equal(page.body.total, 3);
    assert.deepEqual(
      (await asBob.get(`${INSTANCES}?partner_id=${globex.id}&state=new`)).body.items.map((i: any) => i.id),
      [ids[2]],
    );
    assert.deepEqual(
      (await asBob.get(`${INSTANCES}?q=staging`)).body.items.map((i: any) => i.display_name),
      ['Globex (staging)'],
    );
    assert.equal((await asBob.get(`${INSTANCES}?q=${uuids[2].slice(0, 13)}`)).body.items[0].id, ids[2]);
    clock.advance(30);
    const late = await asBob.get(`${INSTANCES}?partner_id=${globex.id}&health=late`);
    assert.deepEqual(
      late.body.items.map((i: any) => i.id),
      [ids[0]],
    );
    const up = await asBob.get(`${INSTANCES}?partner_id=${globex.id}&health=up`);
    assert.deepEqual(
      up.body.items.map((i: any) => i.id),
      [ids[1]],
    );
    await app.get(WatchdogService).runPass();
    clock.advance(30);
    await app.get(WatchdogService).runPass();
    const down = await asBob.get(`${INSTANCES}?partner_id=${globex.id}&health=down`);
    assert.deepEqual(
      down.body.items.map((i: any) => i.id),
      [ids[0]],
    );
    assert.equal((await asBob.get(`${INSTANCES}?health=sideways`)).status, 400);
    assert.equal((await asBob.get(`${INSTANCES}/999999`)).status, 404);
    const notCompany = await newPartner(app, { name: 'Jane Contact' });
    const refused = await asAlice.patch(`${INSTANCES}/${ids[2]}`, { partner_id: notCompany.id });
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /not a company/);
    assert.equal((await asAlice.patch(`${INSTANCES}/${ids[2]}`, { alive_max_delay: 5 })).status, 400);
  });

  it('aggregates the logs per hour and per day for charts', async () => {
    const uuid = newUuid();
    const start = new Date('2025-06-01T10:00:00Z');
    clock.set(start);
    for (let i = 0; i < 6; i++) {
      await postAlive(app, { database_uuid: uuid, cpu: i * 10, ram: 50, user_count: i });
      clock.advance(20 * 60);
    }
    const { id } = await instanceByUuid(db, uuid);
    const hourly = await asBob.get(
      `${INSTANCES}/${id}/logs?interval=hour&from=2025-06-01T00:00:00Z&to=2025-06-02T00:00:00Z`,
    );
    assert.equal(hourly.status, 200);
    assert.deepEqual(
      hourly.body.items.map((b: any) => [b.start, b.count, b.cpu_avg, b.cpu_max, b.user_count_max]),
      [
        ['2025-06-01T10:00:00.000Z', 3, 10, 20, 2],
        ['2025-06-01T11:00:00.000Z', 3, 40, 50, 5],
      ],
    );
    const daily = await asBob.get(
      `${INSTANCES}/${id}/logs?interval=day&from=2025-05-01T00:00:00Z&to=2025-07-01T00:00:00Z&tz=Pacific/Auckland`,
    );
    assert.deepEqual(
      daily.body.items.map((b: any) => [b.start, b.count]),
      [['2025-05-31T12:00:00.000Z', 6]],
    );
    const raw = await asBob.get(`${INSTANCES}/${id}/logs?interval=raw&limit=2`);
    assert.deepEqual(
      raw.body.items.map((r: any) => r.cpu),
      [50, 40],
    );
    const tooLong = await asBob.get(`${INSTANCES}/${id}/logs?interval=hour&from=2024-01-01T00:00:00Z`);
    assert.equal(tooLong.status, 400);
  });

  it('deletes logs older than dead_mans_switch.log_retention_days, daily', async () => {
    const uuid = newUuid();
    clock.set(new Date('2025-07-01T00:00:00Z'));
    await postAlive(app, { database_uuid: uuid });
    clock.set(new Date('2025-07-20T00:00:00Z'));
    await postAlive(app, { database_uuid: uuid });
    const { id } = await instanceByUuid(db, uuid);
    await app.get(SettingsService).set(SETTINGS.logRetentionDays, '10');
    clock.set(new Date('2025-07-25T00:00:00Z'));
    assert.equal(await app.get(SchedulerService).runDue('dead_mans_switch.log_retention'), true);
    const left = await query<{ received_at: Date }>(
      db,
      'SELECT received_at FROM dead_mans_switch_log WHERE instance_id = $1',
      [id],
    );
    assert.deepEqual(
      left.map((r) => r.received_at.toISOString()),
      ['2025-07-20T00:00:00.000Z'],
    );
    assert.equal(
      await count(db, 'dead_mans_switch_log', 'received_at < $1', [new Date('2025-07-15T00:00:00Z')]),
      0,
    );
  });

  it('exposes check-ins, registrations, alerts, health and watchdog lag on /metrics', async () => {
    const text = await fetch(`${app.url}/metrics`).then((r) => r.text());
    assert.match(text, /vigil_dms_checkins_total\{form="jsonrpc",result="registered"\} \d+/);
    assert.match(text, /vigil_dms_checkins_total\{form="plain",result="ok"\} \d+/);
    assert.match(text, /vigil_dms_registrations_total \d+/);
    assert.match(text, /vigil_dms_alerts_total\{kind="down"\} [1-9]/);
    assert.match(text, /vigil_dms_alerts_total\{kind="up"\} 1/);
    assert.match(text, /vigil_dms_instances\{health="down"\} \d+/);
    assert.match(text, /vigil_dms_instances\{health="new"\} \d+/);
    assert.match(text, /vigil_dms_watchdog_lag_seconds \d+/);
    assert.match(text, /vigil_dms_watchdog_pass_seconds [\d.e-]+/);
  });
});
