import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SchedulerService } from '../../src/scheduler/scheduler.service.js';
import { ManualClock } from '../../src/scheduler/clock.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../harness/database.js';
import { waitFor } from '../harness/wait.js';
import { TickTask } from '../fixtures/addons/test_addon/manifest.js';

const TICK_TASK = 'test_addon.tick';

interface Poll {
  replica: number;
  /** The tick the poll read from the clock (the task runs every second). */
  tick: number;
  /** Whether this poll claimed the tick and ran the task. */
  ran: boolean;
}

/** Records every poll of the tick task that the replica's scheduler makes, with the tick it saw. */
function recordPolls(app: TestApp, replica: number, clock: ManualClock, polls: Poll[]): void {
  const scheduler = app.get(SchedulerService);
  const runDue = scheduler.runDue.bind(scheduler);
  scheduler.runDue = async (taskId: string) => {
    // runDue reads the clock before its first await, so this is the tick it claims.
    const tick = Math.floor(clock.now().getTime() / 1000);
    const ran = await runDue(taskId);
    if (taskId === TICK_TASK) polls.push({ replica, tick, ran });
    return ran;
  };
}

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
    const first = await Promise.all([a, b, a, b].map((app) => app.get(SchedulerService).runDue(TICK_TASK)));
    assert.deepEqual(first.filter(Boolean).length, 1);
    clock.advance(0.5); // same tick
    assert.equal(await a.get(SchedulerService).runDue(TICK_TASK), false);
    clock.advance(1); // next tick
    const second = await Promise.all([b, a].map((app) => app.get(SchedulerService).runDue(TICK_TASK)));
    assert.equal(second.filter(Boolean).length, 1);
    const rows = await query<{ n: string }>(db, 'SELECT count(*) AS n FROM test_addon_tick');
    assert.equal(rows[0].n, '2');
  });

  it('with real timers, two replicas run each one-second tick once between them', async () => {
    // The pollers are the real timers that start() sets; the time they read is a clock the test moves, so a
    // tick lasts until both replicas have polled it, however slow the machine, instead of one real second.
    const clock = new ManualClock(new Date('2026-02-01T00:00:00.500Z'));
    const replicas = await Promise.all([
      startTestApp({ databaseUrl: db, clock, scheduler: true }),
      startTestApp({ databaseUrl: db, clock, scheduler: true }),
    ]);
    const polls: Poll[] = [];
    replicas.forEach((app, replica) => recordPolls(app, replica, clock, polls));
    const appIds = replicas.map((app) => app.get(TickTask).appId);
    const ticks = [1, 2, 3].map((k) => Math.floor(clock.now().getTime() / 1000) + k);
    try {
      for (const tick of ticks) {
        clock.set(new Date(tick * 1000 + 500));
        const polled = (replica: number) => polls.some((p) => p.replica === replica && p.tick === tick);
        await waitFor(() => polled(0) && polled(1), { what: `both replicas' timers to poll tick ${tick}` });
      }
    } finally {
      // Closing waits for the polls in flight: after it, every poll of these ticks is in `polls`.
      await Promise.all(replicas.map((app) => app.close()));
    }

    const rows = await query<{ tick: string; app_id: string }>(
      db,
      `SELECT floor(extract(epoch FROM ran_at))::text AS tick, app_id FROM test_addon_tick
        WHERE ran_at >= $1 ORDER BY ran_at`,
      [new Date(ticks[0] * 1000)],
    );
    for (const tick of ticks) {
      const winners = polls.filter((p) => p.tick === tick && p.ran);
      assert.equal(winners.length, 1, `tick ${tick}: one poll runs it, ${JSON.stringify(polls)}`);
      assert.deepEqual(
        rows.filter((row) => row.tick === String(tick)).map((row) => row.app_id),
        [appIds[winners[0].replica]],
        `tick ${tick} ran once, by the replica whose poll claimed it: ${JSON.stringify(rows)}`,
      );
    }
    assert.equal(rows.length, ticks.length, `no other runs: ${JSON.stringify(rows)}`);
  });

  it('runs a cron task once at 03:00 Brussels time across both DST changes, with two replicas polling', async () => {
    const NIGHTLY = 'test_addon.nightly';
    const clock = new ManualClock(new Date('2026-03-27T12:00:00Z'));
    const [a, b] = await Promise.all([
      startTestApp({ databaseUrl: db, clock }),
      startTestApp({ databaseUrl: db, clock }),
    ]);
    apps.push(a, b);
    await query(db, "DELETE FROM scheduled_task WHERE id = 'test_addon.nightly'");
    await query(db, 'DELETE FROM test_addon_nightly');
    const poll = async () =>
      (await Promise.all([a, b].map((app) => app.get(SchedulerService).runDue(NIGHTLY)))).filter(Boolean)
        .length;
    // The first look only marks where the task stands: installed at noon, it does not run at once.
    assert.equal(await poll(), 0);
    /** Polls every 15 minutes until `until`, as the replicas' timers would. */
    const pollUntil = async (until: string) => {
      let runs = 0;
      while (clock.now() < new Date(until)) {
        clock.advance(15 * 60);
        runs += await poll();
      }
      return runs;
    };
    assert.equal(await pollUntil('2026-03-31T00:00:00Z'), 3);
    // Months later (the servers were away): only the latest missed run is made up, then the nights around the
    // end of summer time.
    clock.set(new Date('2026-10-23T12:00:00Z'));
    assert.equal(await poll(), 1);
    assert.equal(await pollUntil('2026-10-27T00:00:00Z'), 3);
    const runs = await query<{ ran_at: Date }>(db, 'SELECT ran_at FROM test_addon_nightly ORDER BY ran_at');
    assert.deepEqual(
      runs.map((r) => r.ran_at.toISOString()),
      [
        '2026-03-28T02:00:00.000Z', // 03:00 CET
        '2026-03-29T01:00:00.000Z', // 03:00 CEST, the night the clocks go forward
        '2026-03-30T01:00:00.000Z',
        '2026-10-23T12:00:00.000Z', // the made-up run of 23 October 03:00
        '2026-10-24T01:00:00.000Z', // 03:00 CEST
        '2026-10-25T02:00:00.000Z', // 03:00 CET, the night the clocks go back
        '2026-10-26T02:00:00.000Z',
      ],
    );
  });
});
