import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { Api } from '../../../test/harness/http.js';
import { activeInstance, alerts, elapse } from './helpers.js';

const DELAY = 60;

describe('watchdog: an instance whose alert cannot be written', () => {
  let app: TestApp;
  let db: string;
  let admin: Api;
  const clock = new ManualClock(new Date('2025-04-04T08:00:00Z'));

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  it('alerts every other due instance, reports the failure, and alerts the poisoned one once it can', async () => {
    // The poisoned instance is due first, so a retry in deadline order meets it before the others.
    const { id: poisoned } = await activeInstance(app, admin);
    const others: number[] = [];
    for (let i = 0; i < 4; i++) {
      clock.advance(1);
      others.push((await activeInstance(app, admin)).id);
    }
    await query(
      db,
      `CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'poisoned instance %', NEW.instance_id; END $$;
       CREATE TRIGGER poison BEFORE INSERT ON dead_mans_switch_alert
         FOR EACH ROW WHEN (NEW.instance_id = ${poisoned}) EXECUTE FUNCTION poison()`,
    );

    await elapse(app, clock, 2 * DELAY + 30);
    for (const id of others) assert.deepEqual(await alerts(db, id), ['down'], `instance ${id}`);
    assert.deepEqual(await alerts(db, poisoned), []);
    const metrics = await fetch(`${app.url}/metrics`).then((r) => r.text());
    const failures = Number(/^vigil_dms_watchdog_failures_total (\d+)/m.exec(metrics)?.[1]);
    assert.ok(failures >= 1, `vigil_dms_watchdog_failures_total is ${failures}`);
    // Each alert's latency from its deadline is measured: at most one 30 s step of the simulated scheduler.
    assert.match(metrics, /^vigil_dms_alert_latency_seconds_count\{kind="down"\} 4$/m);
    assert.match(metrics, /^vigil_dms_alert_latency_seconds_bucket\{le="30",kind="down"\} 4$/m);

    // Once its alert can be written, the next pass posts it, once; the others are not alerted again.
    await query(db, 'DROP TRIGGER poison ON dead_mans_switch_alert');
    await elapse(app, clock, 30);
    assert.deepEqual(await alerts(db, poisoned), ['down']);
    for (const id of others) assert.deepEqual(await alerts(db, id), ['down'], `instance ${id}`);
  });
});
