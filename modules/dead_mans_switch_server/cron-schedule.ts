import { Cron } from 'croner';
import { badRequest } from '../../src/index.js';

/**
 * A cron expression read in a time zone, through croner (DST-correct: a time that does not exist on the night the
 * clocks go forward runs at the first one that does, and one that exists twice runs once).
 */
export class CronSchedule {
  private readonly cron: Cron;

  private constructor(pattern: string, timeZone: string) {
    // Without a function and paused: croner only evaluates, it never schedules anything.
    this.cron = new Cron(pattern, { timezone: timeZone, paused: true });
    // An unknown time zone is only noticed when a date is computed.
    this.cron.nextRun(new Date(0));
  }

  /** Parses `pattern` in `timeZone`; a 400 naming the field when either is invalid. */
  static parse(pattern: string, timeZone: string, field = 'cron'): CronSchedule {
    try {
      return new CronSchedule(pattern, timeZone);
    } catch (error) {
      throw badRequest('dead_mans_switch_server.errors.bad_cron', {
        field,
        pattern,
        time_zone: timeZone,
        reason: (error as Error).message,
      });
    }
  }

  /** The first occurrence strictly after `after`. */
  next(after: Date): Date | null {
    return this.cron.nextRun(after);
  }

  /** The last occurrence at or before `at`. */
  previous(at: Date): Date | null {
    return this.cron.previousRuns(1, new Date(at.getTime() + 1))[0] ?? null;
  }
}

/** An instance's cron expectation. */
export interface CronExpectation {
  cron: string;
  timeZone: string;
  /** Seconds after an occurrence before the instance counts as down. */
  grace: number;
}

/** The deadline after a check-in at `at`: the next occurrence, plus the grace. */
export function cronDeadline(expectation: CronExpectation, at: Date): Date | null {
  const next = CronSchedule.parse(expectation.cron, expectation.timeZone, 'expect_cron').next(at);
  return next && new Date(next.getTime() + expectation.grace * 1000);
}
