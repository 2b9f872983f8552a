import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase } from '../../../test/harness/database.js';
import { newPartner } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { WatchdogService } from '../watchdog/watchdog.service.js';
import { activeInstance, alerts, elapse } from './helpers.js';

const DELAY = 60;
const INSTANCES = '/api/v1/dead_mans_switch/instances';
const WINDOWS = '/api/v1/dead_mans_switch/maintenance_windows';

describe('maintenance windows', () => {
  let app: TestApp;
  let db: string;
  let admin: Api;
  // 02:30 in Brussels (summer time).
  const clock = new ManualClock(new Date('2025-09-01T00:30:00Z'));

  const at = (seconds: number) => new Date(clock.now().getTime() + seconds * 1000).toISOString();

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    await app.get(WatchdogService).runPass();
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  it('a one-off window suppresses the down alert; still down at its end, the instance alerts then, once', async () => {
    const { id } = await activeInstance(app, admin);
    const { id: outside } = await activeInstance(app, admin);
    const end = at(600);
    const created = await admin.post(WINDOWS, { instance_id: id, starts_at: at(60), ends_at: end });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.scope, 'instance');
    assert.equal(created.body.open_until, null);

    await elapse(app, clock, 2 * DELAY);
    assert.deepEqual(await alerts(db, id), []);
    assert.deepEqual(await alerts(db, outside), ['down'], 'an instance outside the window alerts as usual');
    const shown = (await admin.get(`${INSTANCES}/${id}`)).body;
    assert.equal(shown.maintenance_until, end);
    assert.equal((await admin.get(`${INSTANCES}/${outside}`)).body.maintenance_until, null);
    assert.equal((await admin.get(`${WINDOWS}?instance_id=${id}`)).body.items[0].open_until, end);

    await elapse(app, clock, 600 - 2 * DELAY - 30);
    assert.deepEqual(await alerts(db, id), []);
    await elapse(app, clock, 30);
    assert.deepEqual(await alerts(db, id), ['down']);
    assert.equal((await admin.get(`${INSTANCES}/${id}`)).body.maintenance_until, null);
    // Once: the next alert is the reminder, 3x the delay later.
    await elapse(app, clock, 3 * DELAY - 30);
    assert.deepEqual(await alerts(db, id), ['down']);
  });

  it("a recurring window of a customer (cron, duration, time zone) covers the customer's instances", async () => {
    const acme = await newPartner(app, { name: 'Acme', is_company: true, customer: true });
    // Every day from 03:00 to 04:00 in Brussels; now is 02:58 there (summer time, UTC+2).
    clock.set(new Date('2025-09-02T00:58:00Z'));
    await app.get(WatchdogService).runPass();
    const window = await admin.post(WINDOWS, {
      partner_id: acme.id,
      cron: '0 3 * * *',
      duration_seconds: 3600,
      time_zone: 'Europe/Brussels',
      description: 'nightly upgrades',
    });
    assert.equal(window.status, 201, JSON.stringify(window.body));
    assert.equal(window.body.scope, 'customer');
    assert.equal(window.body.open_until, null);
    // Its deadline is 03:00, inside the window.
    const { id } = await activeInstance(app, admin, { partnerId: acme.id });
    const { id: other } = await activeInstance(app, admin);

    // Until 03:59:30.
    await elapse(app, clock, 120 + 3600 - 30);
    assert.equal((await alerts(db, other))[0], 'down', 'an instance of another customer alerts as usual');
    assert.deepEqual(await alerts(db, id), [], 'no alert from 03:00 to 03:59');
    assert.equal((await admin.get(`${INSTANCES}/${id}`)).body.maintenance_until, '2025-09-02T02:00:00.000Z');
    assert.equal(
      (await admin.get(`${WINDOWS}?partner_id=${acme.id}`)).body.items[0].open_until,
      '2025-09-02T02:00:00.000Z',
    );
    await elapse(app, clock, 30);
    assert.deepEqual(await alerts(db, id), ['down'], 'alerted at 04:00 local');
    await elapse(app, clock, 60);
    assert.deepEqual(await alerts(db, id), ['down'], 'once');
  });

  it('refuses windows that are neither one-off nor recurring, of two scopes, or with a bad cron', async () => {
    assert.equal((await admin.post(WINDOWS, { cron: 'every night', duration_seconds: 600 })).status, 400);
    // A window that would never open (31 February).
    const never = await admin.post(WINDOWS, { cron: '0 0 31 2 *', duration_seconds: 600 });
    assert.equal(never.status, 400);
    assert.match(never.body.message, /never runs/);
    assert.equal(
      (await admin.post(WINDOWS, { cron: '0 3 * * *', duration_seconds: 600, time_zone: 'Mars/Olympus' }))
        .status,
      400,
    );
    assert.equal((await admin.post(WINDOWS, { starts_at: at(10) })).status, 400);
    assert.equal((await admin.post(WINDOWS, { starts_at: at(10), ends_at: at(5) })).status, 400);
    assert.equal(
      (
        await admin.post(WINDOWS, {
          starts_at: at(0),
          ends_at: at(5),
          cron: '0 3 * * *',
          duration_seconds: 60,
        })
      ).status,
      400,
    );
    assert.equal(
      (await admin.post(WINDOWS, { instance_id: 1, partner_id: 1, starts_at: at(0), ends_at: at(5) })).status,
      400,
    );
    const global = await admin.post(WINDOWS, { starts_at: at(0), ends_at: at(60) });
    assert.equal(global.body.scope, 'global');
    assert.equal(global.body.open_until, at(60));
    assert.equal((await admin.delete(`${WINDOWS}/${global.body.id}`)).status, 204);
    assert.equal((await admin.delete(`${WINDOWS}/${global.body.id}`)).status, 404);
  });
});
