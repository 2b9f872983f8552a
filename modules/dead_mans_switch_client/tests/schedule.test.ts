import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffSeconds, nextAttemptAt } from '../check-in.schedule.js';

describe('dead_mans_switch_client: schedule rules', () => {
  const at = new Date('2025-03-03T10:00:00Z');
  const plus = (seconds: number) => new Date(at.getTime() + seconds * 1000).toISOString();

  it('is due at once when nothing was ever attempted', () => {
    assert.equal(
      nextAttemptAt({ lastAttemptAt: null, consecutiveFailures: 0, sendingUntil: null }, 300),
      undefined,
    );
  });

  it('waits an interval after a success and backs off after failures', () => {
    const state = { lastAttemptAt: at, sendingUntil: null };
    assert.equal(nextAttemptAt({ ...state, consecutiveFailures: 0 }, 300)?.toISOString(), plus(300));
    assert.equal(nextAttemptAt({ ...state, consecutiveFailures: 1 }, 300)?.toISOString(), plus(30));
    assert.equal(nextAttemptAt({ ...state, consecutiveFailures: 3 }, 300)?.toISOString(), plus(120));
    assert.equal(nextAttemptAt({ ...state, consecutiveFailures: 9 }, 300)?.toISOString(), plus(300));
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoffSeconds(n, 100)),
      [30, 60, 100, 100, 100],
    );
  });

  it('waits for a send in progress', () => {
    const state = { lastAttemptAt: at, consecutiveFailures: 1, sendingUntil: new Date(plus(90)) };
    assert.equal(nextAttemptAt(state, 300)?.toISOString(), plus(90));
  });
});
