import type { CheckOutcome, CheckStatus } from '../../src/index.js';

const SEVERITY: Record<CheckStatus, number> = { ok: 0, warn: 1, fail: 2 };

/** A check whose status differs from the one last seen. */
export interface CheckChange {
  check: CheckOutcome;
  /** `ok` for a check not seen before. */
  from: CheckStatus;
  to: CheckStatus;
  /** It got worse (ok → warn, warn → fail, …) rather than better. */
  worse: boolean;
}

/** The status of each check of a report, by id. */
export function statusesOf(checks: CheckOutcome[]): Record<string, CheckStatus> {
  return Object.fromEntries(checks.map((c) => [c.id, c.status]));
}

/**
 * The checks whose status changed since `previous`. A check not seen before counts as having been `ok` (an addon
 * installed later with a failing check is news); a check that stopped running is no change.
 */
export function checkChanges(previous: Record<string, CheckStatus>, checks: CheckOutcome[]): CheckChange[] {
  return checks.flatMap((check) => {
    const from = previous[check.id] ?? 'ok';
    if (from === check.status) return [];
    return [{ check, from, to: check.status, worse: SEVERITY[check.status] > SEVERITY[from] }];
  });
}
