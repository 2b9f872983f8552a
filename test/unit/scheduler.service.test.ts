import assert from 'node:assert/strict';
import { beforeEach, describe, it, mock, type Mock } from 'node:test';
import type { ModuleRef } from '@nestjs/core';
import type { ScheduledTask, TaskDeclaration } from '../../src/addons/manifest.js';
import { ManualClock } from '../../src/scheduler/clock.js';
import type { ScheduledTaskRepository } from '../../src/scheduler/scheduled-task.repository.js';
import { SchedulerService } from '../../src/scheduler/scheduler.service.js';
import type { TimersRepository } from '../../src/scheduler/timers.repository.js';

class Sweep implements ScheduledTask {
  run = mock.fn((now: Date) => Promise.resolve(void now));
}

const TASKS: TaskDeclaration[] = [
  { id: 'demo.sweep', everySeconds: 60, provider: Sweep },
  { id: 'demo.nightly', cron: '0 3 * * *', timeZone: 'Europe/Brussels', provider: Sweep },
];

describe('SchedulerService (unit)', () => {
  const clock = new ManualClock(new Date('2026-03-10T12:00:30Z'));
  let sweep: Sweep;
  let claimed: { first: boolean } | undefined;
  let rows: {
    claimTick: Mock<ScheduledTaskRepository['claimTick']>;
    recordFinish: Mock<ScheduledTaskRepository['recordFinish']>;
  };
  let timers: { every: Mock<TimersRepository['every']> };
  let scheduler: SchedulerService;

  beforeEach(() => {
    sweep = new Sweep();
    claimed = { first: false };
    rows = {
      claimTick: mock.fn<ScheduledTaskRepository['claimTick']>(() => Promise.resolve(claimed)),
      recordFinish: mock.fn<ScheduledTaskRepository['recordFinish']>(() => Promise.resolve()),
    };
    timers = { every: mock.fn<TimersRepository['every']>() };
    scheduler = new SchedulerService(
      TASKS,
      clock,
      rows as unknown as ScheduledTaskRepository,
      timers as unknown as TimersRepository,
      { get: () => sweep } as unknown as ModuleRef,
    );
  });

  it('polls each task: a periodic one at its period (at most a minute), a cron one every 15 s', () => {
    scheduler.start();
    assert.deepEqual(
      timers.every.mock.calls.map((call) => call.arguments.slice(0, 2)),
      [
        ['vigil:demo.sweep', 60_000],
        ['vigil:demo.nightly', 15_000],
      ],
    );
  });

  it('runs a tick it claims, at the tick it claimed, and records the finish', async () => {
    assert.equal(await scheduler.runDue('demo.sweep'), true);
    assert.deepEqual(rows.claimTick.mock.calls[0].arguments, ['demo.sweep', 1773144000, clock.now()]);
    assert.equal(sweep.run.mock.callCount(), 1);
    assert.deepEqual(rows.recordFinish.mock.calls[0].arguments, ['demo.sweep', clock.now(), null]);
  });

  it('leaves a tick another replica claimed', async () => {
    claimed = undefined;
    assert.equal(await scheduler.runDue('demo.sweep'), false);
    assert.equal(sweep.run.mock.callCount(), 0);
    assert.equal(rows.recordFinish.mock.callCount(), 0);
  });

  it("only marks where a cron task stands on its first sight, but runs a periodic task's first tick", async () => {
    claimed = { first: true };
    assert.equal(await scheduler.runDue('demo.nightly'), false);
    assert.equal(sweep.run.mock.callCount(), 0);
    assert.equal(await scheduler.runDue('demo.sweep'), true);
    assert.equal(sweep.run.mock.callCount(), 1);
  });

  it('records the error of a failing run and still counts the tick as run', async () => {
    sweep.run.mock.mockImplementation(() => Promise.reject(new Error('disk full')));
    assert.equal(await scheduler.runDue('demo.sweep'), true);
    assert.deepEqual(rows.recordFinish.mock.calls[0].arguments, ['demo.sweep', clock.now(), 'disk full']);
  });

  it('runs nothing once the application shuts down, and refuses an unknown task', async () => {
    await assert.rejects(scheduler.runDue('demo.unknown'), /Unknown scheduled task demo\.unknown/);
    await scheduler.onApplicationShutdown();
    assert.equal(await scheduler.runDue('demo.sweep'), false);
    assert.equal(rows.claimTick.mock.callCount(), 0);
  });
});
