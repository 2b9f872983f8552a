import type { Type } from '@nestjs/common';

/** A job that core runs once per tick across every replica. */
export interface ScheduledTask {
  run(now: Date): Promise<void>;
}

export interface TaskDeclaration {
  /** Unique id, `<addon>.<task>`. */
  id: string;
  /** Period in seconds; ticks are aligned on multiples of it since the epoch. Either this or `cron`. */
  everySeconds?: number;
  /** A cron expression (5 or 6 fields) read in `timeZone`: the task runs at those times, DST-correct. */
  cron?: string;
  /** IANA time zone of `cron`, e.g. `Europe/Brussels`; default UTC. */
  timeZone?: string;
  /** The provider class that runs it: the loader adds it to the addon's Nest module. */
  provider: Type<ScheduledTask>;
}
