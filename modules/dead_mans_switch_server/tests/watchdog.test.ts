import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ManualClock, SchedulerService, SettingsService } from '../../../src/index.js';
import { SETTINGS } from '../settings.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { Api } from '../../../test/harness/http.js';
import { WatchdogService } from '../watchdog/watchdog.service.js';
import {
  activeInstance,
  alerts,
  count,
  elapse,
  instanceByUuid,
  jsonRpc,
  newUuid,
  postAlive,
} from './helpers.js';

const DELAY = 60;

describe('watchdog: down alert, reminders, recovery', () => {
  let app: TestApp;
  let db: string;
  let admin: Api;
  const clock = new ManualClock(new Date('2025-04-01T08:00:00Z'));

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

  it('alerts once at 2x the delay, reminds every 3x, and posts the recovery on the next check-in', async () => {
    const { id, uuid } = await activeInstance(app, admin);
    const health = async () => (await admin.get(`/api/v1/dead_mans_switch/instances/${id}`)).body.health;
    assert.equal(await health(), 'up');
    await elapse(app, clock, DELAY);
    assert.equal(await health(), 'late');
    await elapse(app, clock, DELAY - 30);
    assert.deepEqual(await alerts(db, id), []);
    await elapse(app, clock, 30);
    assert.deepEqual(await alerts(db, id), ['down']);
    assert.equal(await health(), 'down');
    await elapse(app, clock, 3 * DELAY - 30);
    assert.deepEqual(await alerts(db, id), ['down']);
    await elapse(app, clock, 30);
    assert.deepEqual(await alerts(db, id), ['down', 'reminder']);
    await elapse(app, clock, 3 * DELAY);
    assert.deepEqual(await alerts(db, id), ['down', 'reminder', 'reminder']);

    assert.equal((await postAlive(app, jsonRpc({ database_uuid: uuid }))).status, 200);
    assert.deepEqual(await alerts(db, id), ['down', 'reminder', 'reminder', 'up']);
    assert.equal(await health(), 'up');
    // A second check-in is just a check-in.
    assert.equal((await postAlive(app, jsonRpc({ database_uuid: uuid }))).status, 200);
    await elapse(app, clock, DELAY);
    assert.deepEqual(await alerts(db, id), ['down', 'reminder', 'reminder', 'up']);
  });

  it('never alerts for new and suspended instances', async () => {
    const fresh = newUuid();
    await postAlive(app, { database_uuid: fresh });
    const { id: suspendedId } = await activeInstance(app, admin);
    assert.equal((await admin.post(`/api/v1/dead_mans_switch/instances/${suspendedId}/suspend`)).status, 200);
    await elapse(app, clock, 20 * DELAY);
    const newId = (await instanceByUuid(db, fresh)).id;
    assert.deepEqual(await alerts(db, newId), []);
    assert.deepEqual(await alerts(db, suspendedId), []);
    const listed = await admin.get(`/api/v1/dead_mans_switch/instances/${newId}`);
    assert.equal(listed.body.health, null);
  });

  it('runs as the scheduled task dead_mans_switch.watchdog', async () => {
    const { id } = await activeInstance(app, admin);
    clock.advance(2 * DELAY);
    assert.equal(await app.get(SchedulerService).runDue('dead_mans_switch.watchdog'), true);
    assert.deepEqual(await alerts(db, id), ['down']);
  });

  it('finds due instances through the partial index on the deadline', async () => {
    const plan = await query<{ 'QUERY PLAN': string }>(
      db,
      `EXPLAIN (FORMAT TEXT) SELECT id FROM dead_mans_switch_instance
       WHERE state = 'active' AND next_deadline <= now() ORDER BY next_deadline LIMIT 200`,
    );
    assert.match(JSON.stringify(plan), /dead_mans_switch_instance_due_idx/);
  });
});

describe('watchdog: replicas and crashes', () => {
  let db: string;
  let first: TestApp;
  let second: TestApp;
  let admin: Api;
  const clock = new ManualClock(new Date('2025-04-02T08:00:00Z'));

  before(async () => {
    db = await cloneTemplate();
    [first, second] = [
      await startTestApp({ databaseUrl: db, clock }),
      await startTestApp({ databaseUrl: db, clock }),
    ];
    admin = await new Api(first.url).login(ADMIN.email, ADMIN.password);
    await first.get(SettingsService).set(SETTINGS.maxRegistrationsPerHour, '1000');
    await first.get(SettingsService).set(SETTINGS.maxRegistrationsGlobalPerHour, '1000');
    await first.get(WatchdogService).runPass();
  });

  after(async () => {
    await first?.close();
    await second?.close();
    await dropDatabase(db);
  });

  it('posts exactly one alert per transition with two watchdogs running concurrently', async () => {
    const instances = [];
    for (let i = 0; i < 30; i++) instances.push(await activeInstance(first, admin));
    const watchdogs = [first.get(WatchdogService), second.get(WatchdogService)];
    const concurrently = () => Promise.all(watchdogs.flatMap((w) => [w.runPass(), w.runPass(), w.runPass()]));
    for (let step = 0; step < (2 * DELAY) / 30; step++) {
      clock.advance(30);
      await concurrently();
    }
    for (const { id } of instances) assert.deepEqual(await alerts(db, id), ['down'], `instance ${id}`);
    for (let step = 0; step < (3 * DELAY) / 30; step++) {
      clock.advance(30);
      await concurrently();
    }
    for (const { id } of instances)
      assert.deepEqual(await alerts(db, id), ['down', 'reminder'], `instance ${id}`);
    // Recoveries racing each other on both replicas: one each.
    await Promise.all(
      instances.flatMap(({ uuid }) => [
        postAlive(first, jsonRpc({ database_uuid: uuid })),
        postAlive(second, jsonRpc({ database_uuid: uuid })),
      ]),
    );
    for (const { id } of instances)
      assert.deepEqual(await alerts(db, id), ['down', 'reminder', 'up'], `instance ${id}`);
  });

  it('leaves nothing behind when the transaction dies between the decision and the commit, then alerts once', async () => {
    const { id } = await activeInstance(first, admin);
    const watchdog = first.get(WatchdogService);
    clock.advance(2 * DELAY);
    watchdog.beforeCommit = () => Promise.reject(new Error('crash before commit'));
    try {
      await watchdog.runPass();
    } finally {
      watchdog.beforeCommit = undefined;
    }
    assert.deepEqual(await alerts(db, id), []);
    assert.equal(
      (
        await instanceByUuid(
          db,
          (await query(db, 'SELECT database_uuid FROM dead_mans_switch_instance WHERE id = $1', [id]))[0]
            .database_uuid as string,
        )
      ).alert_state,
      'ok',
    );

    // A real crash: the database connection is killed while the transaction holds its locks.
    watchdog.beforeCommit = async (transitions, manager) => {
      if (!transitions.some((t) => t.id === id)) return;
      const [{ pid }] = await manager.query<{ pid: number }[]>('SELECT pg_backend_pid() AS pid');
      const killer = new pg.Client({ connectionString: db });
      await killer.connect();
      await killer.query('SELECT pg_terminate_backend($1)', [pid]);
      await killer.end();
    };
    try {
      await watchdog.runPass().catch(() => undefined);
    } finally {
      watchdog.beforeCommit = undefined;
    }
    assert.deepEqual(await alerts(db, id), []);

    await second.get(WatchdogService).runPass();
    await watchdog.runPass();
    assert.deepEqual(await alerts(db, id), ['down']);
    assert.equal(await count(db, 'dead_mans_switch_alert', "instance_id = $1 AND kind = 'down'", [id]), 1);
  });
});

describe('watchdog: after its own outage', () => {
  let app: TestApp;
  let db: string;
  let admin: Api;
  const clock = new ManualClock(new Date('2025-04-03T08:00:00Z'));

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  it('gives a fresh grace period instead of a burst of false alerts, and still alerts for the truly dead', async () => {
    const back = await activeInstance(app, admin);
    const dead = await activeInstance(app, admin);
    const alreadyDown = await activeInstance(app, admin);
    await elapse(app, clock, 90);
    await postAlive(app, jsonRpc({ database_uuid: back.uuid }));
    await postAlive(app, jsonRpc({ database_uuid: dead.uuid }));
    // alreadyDown went quiet before the outage and was alerted while the watchdog ran.
    await elapse(app, clock, 30);
    assert.deepEqual(await alerts(db, alreadyDown.id), ['down']);

    // The server is away for an hour: nobody can check in, the watchdog does not run.
    clock.advance(3600);
    const report = await app.get(WatchdogService).runPass();
    assert.ok(report.gapSeconds && report.gapSeconds >= 3600);
    assert.equal(report.alerts, 0);
    assert.ok(report.graced >= 2);
    // The instance that comes back within its grace never alerts.
    await elapse(app, clock, 30);
    await postAlive(app, jsonRpc({ database_uuid: back.uuid }));
    await elapse(app, clock, 2 * DELAY - 30);
    assert.deepEqual(await alerts(db, back.id), []);
    // The one that stays silent is alerted once its grace is over.
    assert.deepEqual(await alerts(db, dead.id), ['down']);
    const metrics = await fetch(`${app.url}/metrics`).then((r) => r.text());
    assert.match(metrics, /vigil_dms_watchdog_gaps_total 1/);
  });
});
