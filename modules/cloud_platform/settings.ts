import { defineSetting } from '../../src/index.js';

/** The thread model of environments and the external ids of its subtypes. */
export const ENVIRONMENT_MODEL = 'cloud_platform.environment';
export const SUBTYPE_CHECK_FAILED = 'cloud_platform.mt_check_failed';
export const SUBTYPE_CHECK_RECOVERED = 'cloud_platform.mt_check_recovered';

/**
 * The scheduled task wakes this often and runs the checks when `check_interval` has passed since the last
 * report: the interval is a setting, a task's period is not.
 */
export const CHECK_TASK_SECONDS = 60;

/** Seconds between two runs of the checks by the scheduler; not under the task's period. */
export const CHECK_INTERVAL = defineSetting.integer({
  key: 'cloud_platform.check_interval',
  default: 900,
  min: CHECK_TASK_SECONDS,
  max: 7 * 86_400,
  unit: 'core.settings.units.seconds',
  description: 'cloud_platform.settings.check_interval',
});

export const SETTINGS = { checkInterval: CHECK_INTERVAL.key } as const;

/**
 * Whether the scheduled re-check runs now. The task wakes once per `CHECK_TASK_SECONDS` at no fixed offset from the
 * last report (start-up, a manual run, the time the checks took), so an exact `>= interval` comparison misses the
 * wake that falls a moment short of it and runs one period late (60 s ran every 120 s). The checks run at the wake
 * nearest to their due time: at most half a period early, never a period late.
 */
export function checkIsDue(last: Date | undefined, now: Date, intervalSeconds: number): boolean {
  if (!last) return true;
  return now.getTime() - last.getTime() >= (intervalSeconds - CHECK_TASK_SECONDS / 2) * 1000;
}
