import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, SettingsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { Api } from '../../../test/harness/http.js';
import { SETTINGS } from '../settings.js';
import { WatchdogService } from '../watchdog/watchdog.service.js';
import { alerts, elapse, instanceByUuid, newUuid, postAlive } from './helpers.js';

const INSTANCES = '/api/v1/dead_mans_switch/instances';

describe('cron expectations: a nightly job at 02:00 Europe/Brussels, grace 30 minutes', () => {
  let app: TestApp;
  let db: string;
  let admin: Api;
  let id: number;
  let uuid: string;
  const clock = new ManualClock(new Date('2025-03-27T01:05:00Z'));

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    // The clock jumps from night to night below: not a watchdog outage.
    await app.get(SettingsService).set(SETTINGS.watchdogGapSeconds, String(3 * 86_400));
    await app.get(WatchdogService).runPass();
    uuid = newUuid();
    await postAlive(app, { database_uuid: uuid });
    id = (await instanceByUuid(db, uuid)).id;
    const patched = await admin.patch(`${INSTANCES}/${id}`, {
      expect_cron: '0 2 * * *',
      expect_time_zone: 'Europe/Brussels',
      expect_grace: 1800,
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal((await admin.post(`${INSTANCES}/${id}/activate`)).status, 200);
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  /** The times the watchdog posted down alerts, as ISO strings. */
  const downAlerts = async () =>
    (
      await query<{ created_at: Date }>(
        db,
        `SELECT created_at FROM dead_mans_switch_alert WHERE instance_id = $1 AND kind = 'down' ORDER BY id`,
        [id],
      )
    ).map((r) => r.created_at.toISOString());

  /**
   * The job ran the night before (`previousRun`, UTC) and checked in; it does not run this night: the alert
   * must come exactly at `expectedAlert` (UTC), not one watchdog pass before.
   */
  async function missedNight(previousRun: string, expected: string): Promise<void> {
    const expectedAlert = new Date(expected).toISOString();
    clock.set(new Date(previousRun));
    assert.equal((await postAlive(app, { database_uuid: uuid })).status, 200);
    const shown = (await admin.get(`${INSTANCES}/${id}`)).body;
    assert.equal(shown.next_deadline, expectedAlert, `deadline after the run of ${previousRun}`);
    assert.equal(shown.health, 'up');
    const before = (await downAlerts()).length;
    // An hour before the alert, then pass by pass up to it.
    clock.set(new Date(new Date(expectedAlert).getTime() - 3600_000));
    await elapse(app, clock, 3600 - 30);
    assert.equal((await downAlerts()).length, before, `no alert before ${expectedAlert}`);
    assert.equal((await admin.get(`${INSTANCES}/${id}`)).body.health, 'late');
    await elapse(app, clock, 30);
    assert.deepEqual((await downAlerts()).slice(before), [expectedAlert]);
  }

  it('alerts at 02:30 local on the nights around the spring change, 03:30 on the night 02:00 does not exist', async () => {
    // Winter time (UTC+1): 02:30 is 01:30 UTC.
    await missedNight('2025-03-27T01:05:00Z', '2025-03-28T01:30:00Z');
    await missedNight('2025-03-28T01:05:00Z', '2025-03-29T01:30:00Z');
    // 30 March: clocks go from 02:00 to 03:00; the 02:00 run happens at 03:00 CEST (01:00 UTC).
    await missedNight('2025-03-29T01:05:00Z', '2025-03-30T01:30:00Z');
    // Summer time (UTC+2): 02:30 is 00:30 UTC.
    await missedNight('2025-03-30T01:05:00Z', '2025-03-31T00:30:00Z');
    await missedNight('2025-03-31T00:05:00Z', '2025-04-01T00:30:00Z');
  });

  it('alerts at 02:30 local on the nights around the autumn change, once on the night 02:30 exists twice', async () => {
    await missedNight('2025-10-24T00:05:00Z', '2025-10-25T00:30:00Z');
    // 26 October: clocks go from 03:00 back to 02:00; the first 02:30 (summer time) is 00:30 UTC.
    await missedNight('2025-10-25T00:05:00Z', '2025-10-26T00:30:00Z');
    // Winter time again: 01:30 UTC.
    await missedNight('2025-10-26T00:05:00Z', '2025-10-27T01:30:00Z');
    await missedNight('2025-10-27T01:05:00Z', '2025-10-28T01:30:00Z');
    // Each missed night alerted once and recovered at the next check-in.
    const trail = await alerts(db, id);
    assert.equal(trail.filter((kind) => kind === 'down').length, 9);
    assert.equal(trail.filter((kind) => kind === 'reminder').length, 0);
  });

  it('refuses an invalid expectation; clearing it goes back to the fixed delay', async () => {
    assert.equal((await admin.patch(`${INSTANCES}/${id}`, { expect_cron: 'nightly' })).status, 400);
    assert.equal((await admin.patch(`${INSTANCES}/${id}`, { expect_time_zone: 'Mars/Olympus' })).status, 400);
    // An expression that never runs (31 February) could never be met: refused with the reason, not stored.
    const never = await admin.patch(`${INSTANCES}/${id}`, { expect_cron: '0 0 31 2 *' });
    assert.equal(never.status, 400);
    assert.match(never.body.message, /expect_cron "0 0 31 2 \*" .*never runs/);
    assert.equal((await admin.get(`${INSTANCES}/${id}`)).body.expect_cron, '0 2 * * *');
    // Back up (it was down since the last missed night), then without the expectation.
    await postAlive(app, { database_uuid: uuid });
    const cleared = await admin.patch(`${INSTANCES}/${id}`, { expect_cron: null });
    assert.equal(cleared.status, 200);
    assert.equal(cleared.body.expect_cron, null);
    assert.equal(cleared.body.expect_time_zone, null);
    assert.equal(
      cleared.body.next_deadline,
      new Date(
        new Date(cleared.body.last_seen).getTime() + 2 * cleared.body.alive_max_delay * 1000,
      ).toISOString(),
    );
  });
});
