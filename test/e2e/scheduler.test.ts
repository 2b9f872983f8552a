import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SchedulerService } from '../../src/scheduler/scheduler.service.js';
import { ManualClock } from '../../src/scheduler/clock.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../harness/database.js';

describe('scheduled tasks across replicas', () => {
  let db: string;
  const apps: TestApp[] = [];

  before(async () => {
    db = await cloneTemplate();
  });

  after(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await dropDatabase(db);
  });

  it('runs a tick once when two replicas race for it, and again on the next tick', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00.200Z'));
    const [a, b] = await Promise.all([
      startTestApp({ databaseUrl: db, clock }),
      startTestApp({ databaseUrl: db, clock }),
    ]);
    apps.push(a, b);
    await query(db, 'DELETE FROM test_addon_tick');
    const first = await Promise.all(
      [a, b, a, b].map((app) => app.get(SchedulerService).runDue('test_addon.tick')),
    );
    assert.deepEqual(first.filter(Boolean).length, 1);
    clock.advance(0.5); // same tick
    assert.equal(await a.get(SchedulerService).runDue('test_addon.tick'), false);
    clock.advance(1); // next tick
    const second = await Promise.all(
      [b, a].map((app) => app.get(SchedulerService).runDue('test_addon.tick')),
    );
    assert.equal(second.filter(Boolean).length, 1);
    const rows = await query<{ n: string }>(db, 'SELECT count(*) AS n FROM test_addon_tick');
    assert.equal(rows[0].n, '2');
  });

  it('with real timers, two replicas run each one-second tick once between them', async () => {
    const [a, b] = await Promise.all([
      startTestApp({ databaseUrl: db, scheduler: true }),
      startTestApp({ databaseUrl: db, scheduler: true }),
    ]);
    apps.push(a, b);
    await query(db, 'DELETE FROM test_addon_tick');
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    const rows = await query<{ tick: string; runs: string; apps: string }>(
      db,
      `SELECT floor(extract(epoch FROM ran_at))::text AS tick, count(*) AS runs, count(DISTINCT app_id) AS apps
         FROM test_addon_tick GROUP BY 1 ORDER BY 1`,
    );
    assert.ok(rows.length >= 2, `expected at least 2 ticks, got ${rows.length}`);
    assert.ok(
      rows.every((row) => row.runs === '1'),
      JSON.stringify(rows),
    );
    const total = await query<{ n: string }>(db, 'SELECT count(DISTINCT app_id) AS n FROM test_addon_tick');
    assert.ok(Number(total[0].n) >= 1);
  });
});
