/** The thread model of environments and the external ids of its subtypes. */
export const ENVIRONMENT_MODEL = 'cloud_platform.environment';
export const SUBTYPE_CHECK_FAILED = 'cloud_platform.mt_check_failed';
export const SUBTYPE_CHECK_RECOVERED = 'cloud_platform.mt_check_recovered';

export const SETTINGS = {
  /** Seconds between two runs of the checks by the scheduler. */
  checkInterval: 'cloud_platform.check_interval',
} as const;

export const SETTING_DEFAULTS: Record<string, string> = {
  [SETTINGS.checkInterval]: '900',
};

/**
 * The scheduled task wakes this often and runs the checks when `check_interval` has passed since the last
 * report: the interval is a setting, a task's period is not. Intervals shorter than this act as this.
 */
export const CHECK_TASK_SECONDS = 60;

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

/** The interval setting in seconds; the default when unset, malformed or not positive. */
export function checkIntervalSeconds(value: string | undefined): number {
  const parsed = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(parsed) && parsed > 0
    ? parsed
    : Number(SETTING_DEFAULTS[SETTINGS.checkInterval]);
}
