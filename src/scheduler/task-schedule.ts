import { Schedule, ScheduleError } from './schedule.js';
import type { TaskDeclaration } from './scheduled-task.js';

/** Cron tasks are looked at this often: a run starts at most this late after its time. */
export const CRON_POLL_MS = 15_000;
/** Longest wait between two polls of a periodic task: a task every day still notices its tick within a minute. */
const MAX_POLL_MS = 60_000;

/**
 * When a manifest task's ticks fall: every `everySeconds` since the epoch, or at the times of a cron expression read
 * in `timeZone` (DST-correct). A tick is named by the epoch second it starts at, so ticks only grow, whichever kind.
 */
export class TaskSchedule {
  private readonly cron?: Schedule;

  /** Throws a `ScheduleError` naming the task when its declaration is not valid. */
  constructor(private readonly task: Pick<TaskDeclaration, 'id' | 'everySeconds' | 'cron' | 'timeZone'>) {
    const { id, everySeconds, cron, timeZone } = task;
    if ((everySeconds === undefined) === (cron === undefined))
      throw new ScheduleError(`task ${id}: declare either everySeconds or cron`);
    if (everySeconds !== undefined && !(Number.isInteger(everySeconds) && everySeconds > 0))
      throw new ScheduleError(`task ${id}: everySeconds must be a whole number of seconds above 0`);
    if (cron !== undefined) {
      try {
        this.cron = new Schedule(cron, timeZone ?? 'UTC');
      } catch (error) {
        throw new ScheduleError(`task ${id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  get isCron(): boolean {
    return this.cron !== undefined;
  }

  /** The tick `now` falls in (the epoch second it started at), or undefined before a cron task's first time. */
  tick(now: Date): number | undefined {
    if (this.cron) {
      const latest = this.cron.latest(now);
      return latest && Math.floor(latest.getTime() / 1000);
    }
    const period = this.task.everySeconds!;
    return Math.floor(now.getTime() / 1000 / period) * period;
  }

  /** How often a replica looks whether a new tick has come. */
  get pollMs(): number {
    return this.cron ? CRON_POLL_MS : Math.min(this.task.everySeconds! * 1000, MAX_POLL_MS);
  }
}
