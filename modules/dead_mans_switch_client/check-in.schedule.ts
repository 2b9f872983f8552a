import type { CheckInState } from './check-in-state.entity.js';
import { RETRY_BASE_SECONDS } from './client-settings.js';

/** Seconds to wait after the n-th consecutive failure: 30, 60, 120… never more than the interval. */
export function backoffSeconds(failures: number, intervalSeconds: number): number {
  return Math.min(intervalSeconds, RETRY_BASE_SECONDS * 2 ** Math.max(0, failures - 1));
}

/**
 * When the next check-in is due: an interval after the last attempt, or sooner after a failure; undefined when
 * none was ever attempted (due now). Computed from the stored attempt rather than stored itself, so that a
 * changed interval applies at once. A send in progress pushes it to the end of its lease.
 */
export function nextAttemptAt(
  state: Pick<CheckInState, 'lastAttemptAt' | 'consecutiveFailures' | 'sendingUntil'>,
  intervalSeconds: number,
): Date | undefined {
  if (!state.lastAttemptAt) return undefined;
  const wait =
    state.consecutiveFailures > 0
      ? backoffSeconds(state.consecutiveFailures, intervalSeconds)
      : intervalSeconds;
  const due = state.lastAttemptAt.getTime() + wait * 1000;
  return new Date(Math.max(due, state.sendingUntil?.getTime() ?? 0));
}
