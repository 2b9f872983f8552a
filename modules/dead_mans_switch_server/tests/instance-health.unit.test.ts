import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  alertKind,
  coveredUntil,
  cronDeadline,
  deadlineAfter,
  delayInForce,
  gapGrace,
  healthOf,
  isDue,
  isGap,
  nextDeadline,
  openUntil,
  recovers,
  reminderDeadline,
  scheduleOf,
  triage,
  type HealthFacts,
  type OpenWindow,
} from '../health/instance-health.js';
import type { MaintenanceWindow } from '../maintenance-window.entity.js';

const NOW = new Date('2025-04-01T08:00:00.000Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

/** An active instance (delay 600 s) that checked in `ago` seconds before NOW, with the deadline that gave. */
function instance(ago: number | null, changes: Partial<HealthFacts> = {}): HealthFacts {
  const lastSeen = ago === null ? null : at(-ago);
  const base: HealthFacts = {
    state: 'active',
    alertState: 'ok',
    aliveMaxDelay: 600,
    nextIn: null,
    lastSeen,
    nextDeadline: lastSeen && new Date(lastSeen.getTime() + 1_200_000),
    lastAlertAt: null,
    expectCron: null,
    expectTimeZone: null,
    expectGrace: 1800,
  };
  return { ...base, ...changes };
}

describe('instance health rules (pure)', () => {
  it('up within the delay, late from 1x, down from 2x or never seen (DESIGN §4)', () => {
    assert.equal(healthOf(instance(0), NOW), 'up');
    assert.equal(healthOf(instance(599), NOW), 'up');
    assert.equal(healthOf(instance(600), NOW), 'late');
    assert.equal(healthOf(instance(1199), NOW), 'late');
    assert.equal(healthOf(instance(1200), NOW), 'down');
    assert.equal(healthOf(instance(null, { nextDeadline: null }), NOW), 'down');
    assert.equal(healthOf(instance(null, { nextDeadline: at(60) }), NOW), 'late');
  });

  it('only active instances have a health', () => {
    assert.equal(healthOf(instance(5000, { state: 'new' }), NOW), null);
    assert.equal(healthOf(instance(5000, { state: 'suspended', alertState: 'down' }), NOW), null);
  });

  it('down once alerted, even with a later deadline (the next reminder); late, not down, in a grace period', () => {
    assert.equal(healthOf(instance(1300, { alertState: 'down', nextDeadline: at(500) }), NOW), 'down');
    // After a watchdog outage the deadline moved past the last check-in's: late until it passes.
    assert.equal(healthOf(instance(5000, { nextDeadline: at(1200) }), NOW), 'late');
  });

  it('next_in replaces alive_max_delay while in force', () => {
    const announced = { nextIn: 120, nextDeadline: at(-90 + 240) };
    assert.equal(delayInForce(instance(0, announced)), 120);
    assert.equal(healthOf(instance(90, announced), NOW), 'up');
    assert.equal(healthOf(instance(120, { ...announced, nextDeadline: at(120) }), NOW), 'late');
    assert.equal(deadlineAfter(instance(0, { nextIn: 120 }), NOW).toISOString(), at(240).toISOString());
    assert.equal(deadlineAfter(instance(0), NOW).toISOString(), at(1200).toISOString());
  });

  it('with a cron expectation: late from the expected occurrence, down at occurrence + grace', () => {
    const cron = { expectCron: '0 2 * * *', expectTimeZone: 'Europe/Brussels', expectGrace: 1800 };
    // 2025-04-01 is summer time: 02:00 local is 00:00 UTC; the check-in of 2025-03-31T00:05Z expects the next.
    const checkedIn = new Date('2025-03-31T00:05:00Z');
    const deadline = deadlineAfter(instance(0, cron), checkedIn);
    assert.equal(deadline.toISOString(), '2025-04-01T00:30:00.000Z');
    const facts = instance(0, { ...cron, lastSeen: checkedIn, nextDeadline: deadline });
    assert.equal(healthOf(facts, new Date('2025-03-31T23:59:59Z')), 'up');
    assert.equal(healthOf(facts, new Date('2025-04-01T00:00:00Z')), 'late');
    assert.equal(healthOf(facts, new Date('2025-04-01T00:30:00Z')), 'down');
    // next_in, when sent, wins over the expectation.
    assert.equal(cronDeadline({ ...cron, nextIn: 60 }, checkedIn), null);
    assert.equal(
      deadlineAfter({ ...cron, nextIn: 60, aliveMaxDelay: 600 }, NOW).toISOString(),
      at(120).toISOString(),
    );
  });

  it('a stored expectation that never runs falls back to the delay instead of failing the check-in', () => {
    const never = { expectCron: '0 0 31 2 *', expectTimeZone: 'UTC', expectGrace: 60, nextIn: null };
    assert.equal(cronDeadline(never, NOW), null);
    assert.equal(deadlineAfter({ ...never, aliveMaxDelay: 600 }, NOW).toISOString(), at(1200).toISOString());
  });

  it('refuses at configuration an expression that never runs, an invalid one, an unknown time zone (400)', () => {
    for (const [pattern, zone] of [
      ['0 0 31 2 *', 'UTC'],
      ['nightly', 'UTC'],
      ['0 2 * * *', 'Mars/Olympus'],
    ]) {
      assert.throws(
        () => scheduleOf(pattern, zone, 'expect_cron'),
        (error: { getStatus?: () => number }) => error.getStatus?.() === 400,
        `${pattern} in ${zone}`,
      );
    }
    assert.doesNotThrow(() => scheduleOf('0 2 * * *', 'Europe/Brussels', 'expect_cron'));
  });

  it('reminders every 3x the delay in force after the alert; nextDeadline picks it when down', () => {
    assert.equal(reminderDeadline(instance(0), NOW).toISOString(), at(1800).toISOString());
    assert.equal(reminderDeadline(instance(0, { nextIn: 100 }), NOW).toISOString(), at(300).toISOString());
    const down = instance(2000, { alertState: 'down', lastAlertAt: at(-100) });
    assert.equal(nextDeadline(down, NOW).toISOString(), at(1700).toISOString());
    assert.equal(nextDeadline(instance(100), NOW).toISOString(), at(1100).toISOString());
    // Never seen: from now (an activation).
    assert.equal(nextDeadline(instance(null), NOW).toISOString(), at(1200).toISOString());
  });

  it('due at the deadline, only when active', () => {
    assert.equal(isDue(instance(1199), NOW), false);
    assert.equal(isDue(instance(1200), NOW), true);
    assert.equal(isDue(instance(5000, { state: 'suspended' }), NOW), false);
    assert.equal(isDue(instance(null, { nextDeadline: null }), NOW), false);
  });

  it('recovers on a check-in only when active and alerted down', () => {
    assert.equal(recovers({ state: 'active', alertState: 'down' }), true);
    assert.equal(recovers({ state: 'active', alertState: 'ok' }), false);
    assert.equal(recovers({ state: 'suspended', alertState: 'down' }), false);
    assert.equal(alertKind('ok'), 'down');
    assert.equal(alertKind('down'), 'reminder');
  });

  it('after a gap: a fresh 2x grace for deadlines that fell in it or come before the grace ends', () => {
    const gapStart = at(-3600);
    assert.equal(isGap(gapStart, NOW, 180), true);
    assert.equal(isGap(at(-180), NOW, 180), false);
    assert.equal(isGap(at(-181), NOW, 180), true);
    // Fell in the gap.
    assert.equal(gapGrace(instance(2000), gapStart, NOW)?.toISOString(), at(1200).toISOString());
    // Comes before the grace would end.
    assert.equal(gapGrace(instance(100), gapStart, NOW)?.toISOString(), at(1200).toISOString());
    // Passed before the gap (already alerted), or after the grace: kept.
    assert.equal(gapGrace(instance(10_000, { nextDeadline: at(-4000) }), gapStart, NOW), null);
    assert.equal(gapGrace(instance(0, { nextDeadline: at(1200) }), gapStart, NOW), null);
    assert.equal(gapGrace(instance(2000, { state: 'suspended' }), gapStart, NOW), null);
  });
});

describe('maintenance windows and the watchdog triage (pure)', () => {
  const window = (changes: Partial<MaintenanceWindow>): MaintenanceWindow => ({
    id: 1,
    instanceId: null,
    partnerId: null,
    description: null,
    startsAt: null,
    endsAt: null,
    cron: null,
    durationSeconds: null,
    timeZone: null,
    createdAt: NOW,
    ...changes,
  });

  it('a one-off window is open from its start, until its end (excluded)', () => {
    const w = window({ startsAt: at(-60), endsAt: at(60) });
    assert.equal(openUntil(w, NOW)?.toISOString(), at(60).toISOString());
    assert.equal(openUntil(w, at(60)), null);
    assert.equal(openUntil(w, at(-61)), null);
  });

  it('a recurring window is open for its duration after each occurrence, in its time zone', () => {
    const w = window({ cron: '0 10 * * *', timeZone: 'Europe/Brussels', durationSeconds: 3600 });
    // 10:00 Brussels summer time is 08:00 UTC.
    assert.equal(openUntil(w, NOW)?.toISOString(), '2025-04-01T09:00:00.000Z');
    assert.equal(openUntil(w, at(3600)), null);
    assert.equal(openUntil(w, at(-1)), null);
    // Stored before core refused it: never open, rather than a failed pass.
    assert.equal(openUntil(window({ cron: '0 0 31 2 *', timeZone: 'UTC', durationSeconds: 60 }), NOW), null);
  });

  it("covers its instance, its customer's instances or all; the latest end wins", () => {
    const open: OpenWindow[] = [
      { id: 1, instanceId: 7, partnerId: null, until: at(60) },
      { id: 2, instanceId: null, partnerId: 3, until: at(120) },
    ];
    assert.equal(coveredUntil({ id: 7, partnerId: 3 }, open)?.toISOString(), at(120).toISOString());
    assert.equal(coveredUntil({ id: 7, partnerId: null }, open)?.toISOString(), at(60).toISOString());
    assert.equal(coveredUntil({ id: 8, partnerId: null }, open), null);
    const global = [...open, { id: 3, instanceId: null, partnerId: null, until: at(30) }];
    assert.equal(coveredUntil({ id: 8, partnerId: null }, global)?.toISOString(), at(30).toISOString());
  });

  it('defers the covered due instances to the window end, alerts the others', () => {
    const open: OpenWindow[] = [{ id: 1, instanceId: null, partnerId: 3, until: at(600) }];
    const { deferred, alerting } = triage(
      [
        { id: 1, partner_id: 3 },
        { id: 2, partner_id: null },
        { id: 3, partner_id: 4 },
      ],
      open,
    );
    assert.deepEqual(deferred, [{ id: 1, partner_id: 3, until: at(600) }]);
    assert.deepEqual(
      alerting.map((d) => d.id),
      [2, 3],
    );
  });
});
