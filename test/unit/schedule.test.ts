import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Schedule, ScheduleError } from '../../src/scheduler/schedule.js';
import { TaskSchedule } from '../../src/scheduler/task-schedule.js';

describe('schedule (croner, in a time zone)', () => {
  it('runs at 03:00 Brussels time on both sides of each DST change', () => {
    const schedule = new Schedule('0 3 * * *', 'Europe/Brussels');
    const runs: string[] = [];
    let at = new Date('2025-03-29T00:00:00Z');
    for (let i = 0; i < 3; i++) runs.push((at = schedule.next(at)).toISOString());
    at = new Date('2025-10-25T00:00:00Z');
    for (let i = 0; i < 3; i++) runs.push((at = schedule.next(at)).toISOString());
    assert.deepEqual(runs, [
      '2025-03-29T02:00:00.000Z',
      '2025-03-30T01:00:00.000Z',
      '2025-03-31T01:00:00.000Z',
      '2025-10-25T01:00:00.000Z',
      '2025-10-26T02:00:00.000Z',
      '2025-10-27T02:00:00.000Z',
    ]);
  });

  it('measures its interval (the stale alert waits twice that)', () => {
    assert.equal(
      new Schedule('0 */6 * * *', 'UTC').intervalMs(new Date('2025-01-01T00:30:00Z')),
      6 * 3600_000,
    );
  });

  it('refuses a bad expression and an unknown time zone', () => {
    assert.throws(() => new Schedule('every day', 'UTC'), ScheduleError);
    assert.throws(() => new Schedule('0 3 * * *', 'Mars/Olympus'), /unknown time zone/);
  });
});

describe('TaskSchedule (unit)', () => {
  it('refuses a declaration with both or neither schedule, a bad period, cron or time zone, naming the task', () => {
    const bad: Record<string, unknown>[] = [
      {},
      { everySeconds: 30, cron: '* * * * *' },
      { everySeconds: 0 },
      { everySeconds: 1.5 },
      { cron: 'not a cron' },
      { cron: '0 3 * * *', timeZone: 'Mars/Olympus' },
    ];
    for (const fields of bad)
      assert.throws(
        () => new TaskSchedule({ id: 'x.task', ...fields }),
        /task x\.task/,
        JSON.stringify(fields),
      );
  });

  it('names ticks by the epoch second they start at, for periods and cron times alike', () => {
    const every = new TaskSchedule({ id: 'a', everySeconds: 30 });
    assert.equal(every.tick(new Date('2026-01-01T00:00:59Z')), Date.parse('2026-01-01T00:00:30Z') / 1000);
    const nightly = new TaskSchedule({ id: 'b', cron: '0 3 * * *', timeZone: 'Europe/Brussels' });
    assert.equal(nightly.tick(new Date('2026-03-29T00:59:59Z')), Date.parse('2026-03-28T02:00:00Z') / 1000);
    assert.equal(nightly.tick(new Date('2026-03-29T01:00:00Z')), Date.parse('2026-03-29T01:00:00Z') / 1000);
    assert.equal(nightly.pollMs, 15_000);
    assert.equal(every.pollMs, 30_000);
  });
});
