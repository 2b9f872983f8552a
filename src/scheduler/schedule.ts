import { Cron } from 'croner';

/** A cron expression read in a time zone: next run times, DST-correct (croner does the calendar work). */
export class Schedule {
  private readonly cron: Cron;

  /** Throws a `ScheduleError` naming the problem when the expression or the time zone is not valid. */
  constructor(expression: string, timeZone: string) {
    if (!isTimeZone(timeZone)) throw new ScheduleError(`unknown time zone "${timeZone}"`);
    try {
      this.cron = new Cron(expression, { timezone: timeZone, paused: true });
    } catch (error) {
      throw new ScheduleError(error instanceof Error ? error.message : String(error));
    }
    if (!this.cron.nextRun(new Date())) throw new ScheduleError(`"${expression}" never runs`);
  }

  /** The first run strictly after `after`. */
  next(after: Date): Date {
    const next = this.cron.nextRun(after);
    if (!next) throw new ScheduleError('the schedule has no run left');
    return next;
  }

  /** The latest run at or before `at`, if any. */
  latest(at: Date): Date | undefined {
    // croner's previous runs are strictly before their reference: a millisecond later includes `at` itself.
    return this.cron.previousRuns(1, new Date(at.getTime() + 1))[0];
  }

  /** The time between the two runs that follow `after`: the schedule's interval there, in milliseconds. */
  intervalMs(after: Date): number {
    const first = this.next(after);
    return this.next(first).getTime() - first.getTime();
  }
}

export class ScheduleError extends Error {}

function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}
