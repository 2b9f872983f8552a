import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, NotificationDispatcher, SettingsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newPartner, newUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { startSmtp, type SmtpSink } from '../../../test/harness/smtp.js';
import { SETTINGS } from '../settings.js';
import { WatchdogService } from '../watchdog/watchdog.service.js';
import { alerts, elapse, instanceByUuid, newUuid, postAlive } from './helpers.js';

const DELAY = 60;
const INSTANCES = '/api/v1/dead_mans_switch/instances';

describe('storm breaker: one incident e-mail per follower for a mass outage', () => {
  let app: TestApp;
  let db: string;
  let smtp: SmtpSink;
  let admin: Api;
  const clock = new ManualClock(new Date('2025-08-01T08:00:00Z'));
  const dispatch = () => app.get(NotificationDispatcher).dispatchDue();

  /** `n` active instances of a new customer whose account manager (`email`) follows them. */
  async function customerWith(n: number, email: string): Promise<{ ids: number[]; uuids: string[] }> {
    const manager = await newUser(app, { roles: ['manager'], email });
    const customer = await newPartner(app, {
      name: `Customer of ${email}`,
      is_company: true,
      customer: true,
      user_id: manager.id,
    });
    const uuids = Array.from({ length: n }, () => newUuid());
    const ids: number[] = [];
    for (const [i, uuid] of uuids.entries()) {
      assert.equal((await postAlive(app, { database_uuid: uuid })).status, 200);
      const { id } = await instanceByUuid(db, uuid);
      const patched = await admin.patch(`${INSTANCES}/${id}`, {
        partner_id: customer.id,
        description: `db${String(i).padStart(2, '0')}`,
        alive_max_delay: DELAY,
      });
      assert.equal(patched.status, 200);
      assert.equal((await admin.post(`${INSTANCES}/${id}/activate`)).status, 200);
      ids.push(id);
    }
    return { ids, uuids };
  }

  const downMessages = async (ids: number[]) => {
    const [{ n }] = await query<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM mail_message m JOIN mail_subtype s ON s.id = m.subtype_id
       WHERE m.model = 'dead_mans_switch.instance' AND m.res_id = ANY($1)
         AND s.key = 'dead_mans_switch.mt_instance_down'`,
      [ids],
    );
    return n;
  };

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    app = await startTestApp({
      databaseUrl: db,
      clock,
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'Vigil <vigil@ops.test>' },
    });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    await app.get(SettingsService).set(SETTINGS.maxRegistrationsPerHour, '1000');
    await app.get(SettingsService).set(SETTINGS.maxRegistrationsGlobalPerHour, '1000');
    await app.get(WatchdogService).runPass();
  });

  after(async () => {
    await app?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('3 instances going down send their follower 3 e-mails', async () => {
    const { ids } = await customerWith(3, 'three@ops.test');
    await dispatch();
    await elapse(app, clock, 2 * DELAY);
    await dispatch();
    const mails = smtp.to('three@ops.test');
    assert.equal(mails.length, 3);
    assert.ok(mails.every((m) => m.subject.startsWith("Dead man's switch warning: ")));
    for (const id of ids) {
      assert.deepEqual(await alerts(db, id), ['down']);
      assert.equal((await admin.post(`${INSTANCES}/${id}/suspend`)).status, 200);
    }
  });

  it('50 instances going down in one pass send one incident e-mail (and 50 chatter messages), the recovery too', async () => {
    const { ids, uuids } = await customerWith(50, 'fifty@ops.test');
    await dispatch();
    const before = smtp.mails.length;
    await elapse(app, clock, 2 * DELAY);
    await dispatch();
    assert.equal(await downMessages(ids), 50);
    const mails = smtp.to('fifty@ops.test');
    assert.equal(mails.length, 1, mails.map((m) => m.subject).join('\n'));
    assert.equal(mails[0].subject, "Dead man's switch incident: 50 instances down");
    assert.match(mails[0].text, /50 instances you follow seem to be dead/);
    assert.match(mails[0].text, /Customer of fifty@ops\.test \(db00\)/);
    assert.match(mails[0].text, /Customer of fifty@ops\.test \(db49\)/);
    assert.equal(smtp.mails.length, before + 1, 'the admin follows nothing: only the incident e-mail');
    // Exactly once: later passes tell nothing more.
    await elapse(app, clock, 30);
    await dispatch();
    assert.equal(smtp.to('fifty@ops.test').length, 1);

    // The inbox keeps each alert; the incident is one more entry.
    const [{ n: inbox }] = await query<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM mail_notification n JOIN partner p ON p.id = n.partner_id
       WHERE p.email = 'fifty@ops.test' AND n.channel = 'inbox'`,
    );
    assert.equal(inbox, 51);

    for (const uuid of uuids) assert.equal((await postAlive(app, { database_uuid: uuid })).status, 200);
    await dispatch();
    assert.equal(smtp.to('fifty@ops.test').length, 1, 'recoveries are held for the incident');
    await elapse(app, clock, 30);
    await dispatch();
    const recovered = smtp.to('fifty@ops.test');
    assert.equal(recovered.length, 2);
    assert.equal(recovered[1].subject, "Dead man's switch incident: 50 instances back");
    for (const id of ids) assert.deepEqual(await alerts(db, id), ['down', 'up']);
  });

  it('with two watchdogs running passes concurrently, every instance is in exactly one incident', async () => {
    const second = await startTestApp({
      databaseUrl: db,
      clock,
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'Vigil <vigil@ops.test>' },
    });
    try {
      const { ids } = await customerWith(30, 'replicas@ops.test');
      await dispatch();
      clock.advance(2 * DELAY);
      const watchdogs = [app.get(WatchdogService), second.get(WatchdogService)];
      await Promise.all(watchdogs.flatMap((w) => [w.runPass(), w.runPass(), w.runPass()]));
      await dispatch();
      for (const id of ids) assert.deepEqual(await alerts(db, id), ['down']);
      const storms = await query<{ instance_ids: number[]; posted: boolean }>(
        db,
        `SELECT s.instance_ids, s.posted_at IS NOT NULL AS posted FROM dead_mans_switch_storm s
         JOIN partner p ON p.id = s.partner_id WHERE p.email = 'replicas@ops.test' AND s.kind = 'down'`,
      );
      assert.ok(storms.every((s) => s.posted));
      assert.deepEqual(
        storms.flatMap((s) => s.instance_ids).sort((a, b) => a - b),
        [...ids].sort((a, b) => a - b),
      );
      const mails = smtp.to('replicas@ops.test');
      assert.equal(mails.length, storms.length);
      assert.ok(mails.every((m) => m.subject.startsWith("Dead man's switch incident: ")));
    } finally {
      await second.close();
    }
  });
});
