import { Schedule, ScheduleError, badRequest } from '../../../src/index.js';
import type { AlertState, Health, InstanceState } from '../instance.entity.js';
import type { MaintenanceWindow } from '../maintenance-window.entity.js';

/**
 * When an instance is up, late or down, when the watchdog looks at it next and when it recovers: each rule
 * once. Each is a pure function; where the database applies it set-based (a check-in, the watchdog's
 * batches, the health filter of the API), its SQL twin sits right below it, over the instance table (alias
 * `i.` or none).
 * `health-sql.test.ts` runs both on one table of cases against PostgreSQL: they must agree.
 */

/** The deadline after a check-in: down once this many delays pass without another. */
export const DOWN_AFTER_DELAYS = 2;
/** A down instance's reminders: one every this many delays. */
export const REMIND_EVERY_DELAYS = 3;

/** What the rules read of an instance (the entity's fields, or a row mapped to them). */
export interface HealthFacts {
  state: InstanceState;
  alertState: AlertState;
  aliveMaxDelay: number;
  /** The delay the last check-in announced, in force instead of `aliveMaxDelay`. */
  nextIn: number | null;
  lastSeen: Date | null;
  nextDeadline: Date | null;
  lastAlertAt: Date | null;
  expectCron: string | null;
  expectTimeZone: string | null;
  /** Seconds after an expected occurrence before the instance counts as down. */
  expectGrace: number;
}

const ms = (seconds: number) => seconds * 1000;
const plus = (at: Date, seconds: number) => new Date(at.getTime() + ms(seconds));
/** SQL: `at` plus `factor` times `seconds`. */
const plusSql = (at: string, factor: number, seconds: string) =>
  `${at} + make_interval(secs => ${factor} * ${seconds})`;

// The delay in force.

/** `next_in` of the last check-in, else `alive_max_delay`. */
export const delayInForce = (i: Pick<HealthFacts, 'nextIn' | 'aliveMaxDelay'>) => i.nextIn ?? i.aliveMaxDelay;

/** SQL twin of `delayInForce`; `nextIn`: a check-in's parameter in place of the stored column. */
export const delayInForceSql = (alias = '', nextIn = `${alias}next_in`) =>
  `coalesce(${nextIn}, ${alias}alive_max_delay)`;

// The deadline after a check-in (or an activation, or a change of the timing).

/** A cron expectation or a maintenance window's schedule; a 400 naming `field` when it cannot be used. */
export function scheduleOf(pattern: string, timeZone: string, field: string): Schedule {
  try {
    // Core refuses an expression that never runs again: it could never be met, nor a window open.
    return new Schedule(pattern, timeZone);
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    throw badRequest('dead_mans_switch_server.errors.bad_cron', {
      field,
      pattern,
      time_zone: timeZone,
      reason: error.message,
    });
  }
}

/** A schedule stored before it was checked, or that ran out: none, rather than a failed check-in or pass. */
function storedSchedule(pattern: string, timeZone: string): Schedule | null {
  try {
    return new Schedule(pattern, timeZone);
  } catch (error) {
    if (error instanceof ScheduleError) return null;
    throw error;
  }
}

/** Whether the cron expectation decides the deadline: there is one, and the check-in sent no `next_in`. */
export const cronDecides = (i: Pick<HealthFacts, 'expectCron' | 'expectTimeZone' | 'nextIn'>) =>
  i.expectCron !== null && i.expectTimeZone !== null && i.nextIn === null;

/**
 * SQL: the delay decides the deadline (the negation of `cronDecides`; `expect_time_zone` is set whenever
 * `expect_cron` is). Such check-ins take the one-statement path; the others need croner, in TypeScript.
 */
export const delayDecidesSql = (alias = '', nextIn = `${alias}next_in`) =>
  `(${alias}expect_cron IS NULL OR ${nextIn} IS NOT NULL)`;

/** The cron expectation's deadline after `at`: next occurrence + the grace; null when the delay decides. */
export function cronDeadline(
  i: Pick<HealthFacts, 'expectCron' | 'expectTimeZone' | 'nextIn' | 'expectGrace'>,
  at: Date,
): Date | null {
  if (!cronDecides(i)) return null;
  const schedule = storedSchedule(i.expectCron!, i.expectTimeZone!);
  try {
    return schedule && plus(schedule.next(at), i.expectGrace);
  } catch (error) {
    // No occurrence left: the delay decides.
    if (error instanceof ScheduleError) return null;
    throw error;
  }
}

/** The deadline after a check-in at `at`: the cron expectation's, else twice the delay in force. */
export function deadlineAfter(
  i: Pick<HealthFacts, 'expectCron' | 'expectTimeZone' | 'nextIn' | 'expectGrace' | 'aliveMaxDelay'>,
  at: Date,
): Date {
  return cronDeadline(i, at) ?? plus(at, DOWN_AFTER_DELAYS * delayInForce(i));
}

/**
 * SQL twin of `deadlineAfter` when the delay decides: `at` plus twice `delay` (a `delayInForceSql`). `cron`:
 * the cron expectation's deadline computed by `cronDeadline`, used when not null.
 */
export const deadlineAfterSql = (at: string, delay: string, cron?: string) =>
  cron
    ? `coalesce(${cron}, ${plusSql(at, DOWN_AFTER_DELAYS, delay)})`
    : plusSql(at, DOWN_AFTER_DELAYS, delay);

// Down: reminders.

/** A down instance's next reminder, after its alert (or last reminder) at `alertAt`. */
export const reminderDeadline = (i: Pick<HealthFacts, 'nextIn' | 'aliveMaxDelay'>, alertAt: Date) =>
  plus(alertAt, REMIND_EVERY_DELAYS * delayInForce(i));

/** SQL twin of `reminderDeadline`. */
export const reminderDeadlineSql = (alertAt: string, alias = '') =>
  plusSql(alertAt, REMIND_EVERY_DELAYS, delayInForceSql(alias));

/** When the watchdog must look at an active instance next: its next reminder when down, else its deadline. */
export function nextDeadline(i: HealthFacts, now: Date): Date {
  if (i.alertState === 'down' && i.lastAlertAt) return reminderDeadline(i, i.lastAlertAt);
  return deadlineAfter(i, i.lastSeen ?? now);
}

// Due: the watchdog alerts (or reminds) once the deadline passed.

/** Whether the watchdog must act on the instance at `now`. */
export const isDue = (i: Pick<HealthFacts, 'state' | 'nextDeadline'>, now: Date) =>
  i.state === 'active' && i.nextDeadline !== null && i.nextDeadline <= now;

/** SQL twin of `isDue` (the partial index on `next_deadline` serves it). */
export const isDueSql = (now: string, alias = '') =>
  `${alias}state = 'active' AND ${alias}next_deadline <= ${now}`;

/** What a due instance's alert is: the down alert when it was ok, else a reminder. */
export const alertKind = (previous: AlertState): 'down' | 'reminder' =>
  previous === 'ok' ? 'down' : 'reminder';

// Recovery.

/** Whether a check-in brings the instance back (posts the recovery): it is active and was alerted down. */
export const recovers = (i: Pick<HealthFacts, 'state' | 'alertState'>) =>
  i.state === 'active' && i.alertState === 'down';

/** SQL twin of `recovers`. */
export const recoversSql = (alias = '') => `(${alias}state = 'active' AND ${alias}alert_state = 'down')`;

// Health.

/**
 * Health of an active instance at `now` (null for the others): down once the watchdog alerted or its deadline
 * passed (or it has none); with a cron expectation, late once the expected occurrence (deadline minus the
 * grace) passed; else late after one delay without check-in (or never seen); up otherwise. The deadline, not
 * the last check-in, decides `down`: after a watchdog outage or in a maintenance window, it is late, not
 * down.
 */
export function healthOf(i: HealthFacts, now: Date): Health | null {
  if (i.state !== 'active') return null;
  if (i.alertState === 'down' || i.nextDeadline === null || i.nextDeadline <= now) return 'down';
  if (i.expectCron !== null)
    return i.nextDeadline.getTime() - ms(i.expectGrace) <= now.getTime() ? 'late' : 'up';
  if (i.lastSeen === null || plus(i.lastSeen, delayInForce(i)) <= now) return 'late';
  return 'up';
}

/** SQL twin of `healthOf`, over alias `i` (required). */
export const healthSql = (i: string, now: string) => `CASE
    WHEN ${i}.state <> 'active' THEN NULL
    WHEN ${i}.alert_state = 'down' OR ${i}.next_deadline IS NULL OR ${i}.next_deadline <= ${now} THEN 'down'
    WHEN ${i}.expect_cron IS NOT NULL THEN CASE
      WHEN ${i}.next_deadline - make_interval(secs => ${i}.expect_grace) <= ${now} THEN 'late' ELSE 'up' END
    WHEN ${i}.last_seen IS NULL
      OR ${i}.last_seen + make_interval(secs => ${delayInForceSql(`${i}.`)}) <= ${now} THEN 'late'
    ELSE 'up' END`;

/** What the dashboard shows of an instance (its dot, its counts): its health when active, else its state. */
export const statusOf = (i: { health: Health | null; state: InstanceState }) => i.health ?? i.state;

/** SQL twin of `statusOf`. */
export const statusSql = (i: string, now: string) => `coalesce(${healthSql(i, now)}, ${i}.state)`;

// After a watchdog outage.

/** Whether the previous pass is so old that the watchdog (or its database) was away: a gap. */
export const isGap = (previousPass: Date, now: Date, thresholdSeconds: number) =>
  now.getTime() - previousPass.getTime() > ms(thresholdSeconds);

/**
 * After a gap from `gapStart` to `now`, an active instance whose deadline fell in it (or comes before the
 * grace would end) gets a fresh grace: twice its delay from now, as if it had just checked in (it could
 * not reach a server that was not listening). Returns the new deadline, or null when it keeps its own.
 */
export function gapGrace(i: HealthFacts, gapStart: Date, now: Date): Date | null {
  const grace = plus(now, DOWN_AFTER_DELAYS * delayInForce(i));
  const deadline = i.nextDeadline;
  return i.state === 'active' && deadline !== null && deadline > gapStart && deadline < grace ? grace : null;
}

/** SQL twin of `gapGrace`: the grace deadline, and the condition under which an instance gets it. */
export const gapGraceSql = (gapStart: string, now: string, alias = '') => {
  const grace = plusSql(now, DOWN_AFTER_DELAYS, delayInForceSql(alias));
  return {
    deadline: grace,
    where: `${alias}state = 'active' AND ${alias}next_deadline > ${gapStart}
      AND ${alias}next_deadline < ${grace}`,
  };
};

// Maintenance windows.

/** A window open at some time, and what it covers. */
export interface OpenWindow {
  id: number;
  instanceId: number | null;
  partnerId: number | null;
  until: Date;
}

/** When `window` closes if it is open at `now`, else null. */
export function openUntil(window: MaintenanceWindow, now: Date): Date | null {
  if (window.startsAt && window.endsAt)
    return window.startsAt <= now && now < window.endsAt ? window.endsAt : null;
  if (!window.cron || !window.timeZone || !window.durationSeconds) return null;
  const start = storedSchedule(window.cron, window.timeZone)?.latest(now);
  const end = start && plus(start, window.durationSeconds);
  return end && now < end ? end : null;
}

/** The latest end of the open windows that cover an instance (its own, its customer's, global), or null. */
export function coveredUntil(
  instance: { id: number; partnerId: number | null },
  open: OpenWindow[],
): Date | null {
  let until: Date | null = null;
  for (const w of open) {
    const covers =
      w.instanceId === instance.id ||
      (w.partnerId !== null && w.partnerId === instance.partnerId) ||
      (w.instanceId === null && w.partnerId === null);
    if (covers && (!until || w.until > until)) until = w.until;
  }
  return until;
}

/**
 * The watchdog's decision on due instances: those a maintenance window covers are deferred to its end (no
 * alert; still silent then, they alert then), the others alert.
 */
export function triage<T extends { id: number; partner_id: number | null }>(
  due: T[],
  open: OpenWindow[],
): { deferred: (T & { until: Date })[]; alerting: T[] } {
  const deferred: (T & { until: Date })[] = [];
  const alerting: T[] = [];
  for (const d of due) {
    const until = coveredUntil({ id: d.id, partnerId: d.partner_id }, open);
    if (until) deferred.push({ ...d, until });
    else alerting.push(d);
  }
  return { deferred, alerting };
}
