/**
 * Uptime from the hourly roll-up of check-ins (`dead_mans_switch_log_hourly`): it has a row for each instance and
 * hour with at least one check-in, so an hour is **up** when it has a row. A day's uptime is its up hours over the
 * hours of that day that are known: from the instance's first rolled-up hour to the roll-up's progress
 * (`rolled_up_until`). A day with no such hour is "no data" (null), never 0 % nor 100 %.
 * Limit: an instance told to check in less often than hourly shows the hours between its check-ins as down.
 */

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Days the bars show, today (UTC) included. */
export const UPTIME_DAYS = 90;

export interface UptimeDay {
  /** Midnight UTC. */
  day: Date;
  /** 0-100, or null: no data. */
  percent: number | null;
  upHours: number;
  knownHours: number;
}

/** Midnight UTC of the first bar of the window ending today. */
export function windowStart(now: Date, days = UPTIME_DAYS): Date {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return new Date(today - (days - 1) * DAY_MS);
}

/**
 * The bars of one instance: `upByDay` maps midnight UTC (ms) to up hours, `first` is its first rolled-up hour,
 * `until` the roll-up's progress.
 */
export function uptimeDays(
  upByDay: Map<number, number>,
  first: Date | undefined,
  until: Date | null,
  now: Date,
  days = UPTIME_DAYS,
): UptimeDay[] {
  const start = windowStart(now, days).getTime();
  return Array.from({ length: days }, (_, index) => {
    const dayStart = start + index * DAY_MS;
    const from = Math.max(dayStart, first?.getTime() ?? Infinity);
    const to = Math.min(dayStart + DAY_MS, until?.getTime() ?? -Infinity);
    const knownHours = Math.max(0, Math.floor((to - from) / HOUR_MS));
    const upHours = Math.min(upByDay.get(dayStart) ?? 0, knownHours);
    return {
      day: new Date(dayStart),
      percent: knownHours > 0 ? (100 * upHours) / knownHours : null,
      upHours,
      knownHours,
    };
  });
}

/** Up hours over known hours of many days (of one or many instances), or null when none is known. */
export function overallPercent(days: UptimeDay[]): number | null {
  const known = days.reduce((sum, d) => sum + d.knownHours, 0);
  return known > 0 ? (100 * days.reduce((sum, d) => sum + d.upHours, 0)) / known : null;
}
