import { Schedule } from '../../src/index.js';
import type {
  AvailabilityHistory,
  AvailabilityIncident,
  AvailabilityInstance,
  WindowOccurrence,
} from '../dead_mans_switch_server/availability/availability.service.js';

/**
 * The figures of a monthly report, from the down/up alerts and maintenance windows of a customer's instances:
 * pure functions of what the services read, so that the rules sit in one place and read as such.
 *
 * - An instance is monitored from its registration (its first check-in) to the end of the month, or to now for
 *   the current month, or to its last check-in when it is suspended now.
 * - It is down from its down alert (posted once it stayed silent twice its delay) to the first check-in after it
 *   (the recovery alert); only the part inside the month counts for the month.
 * - Downtime inside a maintenance window that covers the instance (its own, its customer's, a global one) is
 *   maintenance downtime: shown apart, and neither up nor down (left out of the uptime's base).
 * - Uptime = (monitored − maintenance downtime − downtime) / (monitored − maintenance downtime), rounded down to
 *   hundredths of a percent (never shows 100.00 % after a second of downtime).
 * - Incidents (one per down, one per storm of a customer) are told as they stood at the end of the period: one
 *   still open then is ongoing; an acknowledgement after it is not told. Each recovery and acknowledgement counts in
 *   the month it happened in: MTTR is the mean duration of the incidents resolved in the month, MTTA the mean time
 *   to acknowledge of those acknowledged in the month.
 */

export const MONTH_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

export interface Period {
  /** `YYYY-MM`. */
  month: string;
  timeZone: string;
  /** Local midnight of the 1st, and of the 1st of the next month. */
  from: Date;
  to: Date;
}

/** `YYYY-MM` of the month `at` falls in, read in a time zone. */
export function monthOf(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
  }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}`;
}

/** The day of the month `at` falls on, in a time zone. */
export function dayOf(at: Date, timeZone: string): number {
  return Number(new Intl.DateTimeFormat('en-CA', { timeZone, day: 'numeric' }).format(at));
}

/** The month before `month` (`YYYY-MM`). */
export function previousMonth(month: string): string {
  const [year, m] = month.split('-').map(Number);
  return m === 1 ? `${year - 1}-12` : `${year}-${String(m - 1).padStart(2, '0')}`;
}

/** A month's bounds in a time zone, DST-correct: from local midnight of the 1st to that of the next month. */
export function periodOf(month: string, timeZone: string): Period {
  const match = MONTH_PATTERN.exec(month);
  if (!match) throw new Error(`Not a month: ${month}`);
  const firstOfMonth = new Schedule('0 0 1 * *', timeZone);
  // A day before the 1st at midnight UTC: every time zone's midnight of the 1st comes after it, none of the
  // previous month's.
  const from = firstOfMonth.next(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1) - 86_400_000));
  return { month, timeZone, from, to: firstOfMonth.next(from) };
}

export interface Outage {
  instanceId: number;
  instance: string;
  start: Date;
  /** When it came back, maybe after the month; null: still down now. */
  end: Date | null;
  /** From start to end (or to now). */
  durationMs: number;
  /** Inside the month and outside maintenance: what counts against the uptime. */
  countedMs: number;
  /** Inside the month and inside a maintenance window. */
  maintenanceMs: number;
}

export interface InstanceFigures {
  id: number;
  name: string;
  state: 'active' | 'suspended';
  monitoredFrom: Date;
  monitoredTo: Date;
  monitoredMs: number;
  downtimeMs: number;
  maintenanceDowntimeMs: number;
  outages: number;
  /** Null: not monitored in the month. */
  uptimePercent: number | null;
}

export interface Availability {
  /** The end of what is known: the month's end, or now for the current month. */
  until: Date;
  complete: boolean;
  instances: InstanceFigures[];
  outages: Outage[];
  maintenance: WindowOccurrence[];
  monitoredMs: number;
  downtimeMs: number;
  maintenanceDowntimeMs: number;
  uptimePercent: number | null;
}

type Span = [start: number, end: number];

/** Up time over the base, in percent rounded down to hundredths; null without a base. */
export function uptimePercent(baseMs: number, downMs: number): number | null {
  if (baseMs <= 0) return null;
  return Math.floor(((baseMs - downMs) * 10_000) / baseMs) / 100;
}

/** Sorted, non-overlapping spans covering the same time. */
function merge(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  const out: Span[] = [];
  for (const [start, end] of sorted) {
    const last = out[out.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

/** How long `span` and the merged `spans` overlap. */
function overlap([start, end]: Span, spans: Span[]): number {
  let total = 0;
  for (const [s, e] of spans) total += Math.max(0, Math.min(end, e) - Math.max(start, s));
  return total;
}

const covers = (w: WindowOccurrence, instanceId: number) =>
  w.instanceId === instanceId || w.instanceId === null;

/** The monitored span of an instance in [from, until), or null when it was not monitored then. */
function monitored(instance: AvailabilityInstance, from: Date, until: Date): Span | null {
  const start = Math.max(from.getTime(), instance.createdAt.getTime());
  let end = until.getTime();
  if (instance.state === 'suspended')
    end = Math.min(end, (instance.lastSeen ?? instance.createdAt).getTime());
  return end > start ? [start, end] : null;
}

/** The figures of a period from the history of the customer's instances. */
export function availability(history: AvailabilityHistory, period: Period, now: Date): Availability {
  const until = new Date(Math.min(period.to.getTime(), now.getTime()));
  const instances: InstanceFigures[] = [];
  const outages: Outage[] = [];
  for (const instance of history.instances) {
    const span = monitored(instance, period.from, until);
    if (!span) continue;
    // The report is the customer's: its instances by their description (the display name starts with its name).
    const name = instance.description ?? instance.name;
    const windows = merge(
      history.windows
        .filter((w) => covers(w, instance.id))
        .map((w): Span => [w.start.getTime(), w.end.getTime()]),
    );
    // Down spans from the alerts: a down opens one, the next up closes it.
    const downs: { start: Date; end: Date | null }[] = [];
    let open: Date | null = null;
    for (const t of history.transitions.filter((x) => x.instanceId === instance.id)) {
      if (t.kind === 'down' && !open) open = t.at;
      else if (t.kind === 'up' && open) {
        downs.push({ start: open, end: t.at });
        open = null;
      }
    }
    if (open) downs.push({ start: open, end: null });
    let downtimeMs = 0;
    let maintenanceDowntimeMs = 0;
    let count = 0;
    for (const down of downs) {
      const end = down.end ? down.end.getTime() : until.getTime();
      const inPeriod: Span = [Math.max(down.start.getTime(), span[0]), Math.min(end, span[1])];
      if (inPeriod[1] <= inPeriod[0]) continue;
      const maintenanceMs = overlap(inPeriod, windows);
      const countedMs = inPeriod[1] - inPeriod[0] - maintenanceMs;
      downtimeMs += countedMs;
      maintenanceDowntimeMs += maintenanceMs;
      count++;
      outages.push({
        instanceId: instance.id,
        instance: name,
        start: down.start,
        end: down.end,
        durationMs: (down.end ?? until).getTime() - down.start.getTime(),
        countedMs,
        maintenanceMs,
      });
    }
    const monitoredMs = span[1] - span[0];
    instances.push({
      id: instance.id,
      name,
      state: instance.state,
      monitoredFrom: new Date(span[0]),
      monitoredTo: new Date(span[1]),
      monitoredMs,
      downtimeMs,
      maintenanceDowntimeMs,
      outages: count,
      uptimePercent: uptimePercent(monitoredMs - maintenanceDowntimeMs, downtimeMs),
    });
  }
  const sum = (pick: (i: InstanceFigures) => number) => instances.reduce((total, i) => total + pick(i), 0);
  const [monitoredMs, downtimeMs, maintenanceDowntimeMs] = [
    sum((i) => i.monitoredMs),
    sum((i) => i.downtimeMs),
    sum((i) => i.maintenanceDowntimeMs),
  ];
  return {
    until,
    complete: until.getTime() === period.to.getTime(),
    instances,
    outages: outages.sort((a, b) => a.start.getTime() - b.start.getTime() || a.instanceId - b.instanceId),
    maintenance: history.windows.filter((w) => w.start < until),
    monitoredMs,
    downtimeMs,
    maintenanceDowntimeMs,
    uptimePercent: uptimePercent(monitoredMs - maintenanceDowntimeMs, downtimeMs),
  };
}

export interface ReportIncident {
  id: number;
  /** The customer's instances it took down, by their description. */
  instances: { id: number; name: string }[];
  start: Date;
  /** When it was resolved; null: still open at the end of the period (ongoing). */
  end: Date | null;
  /** From its start to its end, or to the end of the period while ongoing. */
  durationMs: number;
  /** Null: not acknowledged by the end of the period. */
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  timeToAcknowledgeMs: number | null;
  /** Whether some of its downtime in the period fell in a maintenance window covering the instance. */
  inMaintenance: boolean;
}

export interface IncidentSummary {
  /** Incidents open at some time in the period. */
  count: number;
  /** Of them, still open at its end. */
  ongoing: number;
  /** Acknowledged in the period, and their mean time to acknowledge; null when none was. */
  acknowledged: number;
  mttaMs: number | null;
  /** Resolved in the period, and their mean time to recovery; null when none was. */
  resolved: number;
  mttrMs: number | null;
}

const mean = (values: number[]) =>
  values.length ? Math.round(values.reduce((a, b) => a + b, 0) / values.length) : null;

/** The incidents of a period as they stood at `until` (the period's end, or now), and the month's figures. */
export function incidentFigures(
  records: AvailabilityIncident[],
  history: AvailabilityHistory,
  period: Period,
  until: Date,
): { incidents: ReportIncident[]; summary: IncidentSummary } {
  const [from, end] = [period.from.getTime(), until.getTime()];
  const names = new Map(history.instances.map((i) => [i.id, i.description ?? i.name]));
  const incidents = records
    .filter((r) => r.startedAt.getTime() < end && (r.endedAt === null || r.endedAt.getTime() > from))
    .map((r): ReportIncident => {
      const resolved = r.endedAt !== null && r.endedAt.getTime() <= end ? r.endedAt : null;
      const acked = r.acknowledgedAt !== null && r.acknowledgedAt.getTime() <= end ? r.acknowledgedAt : null;
      const inMaintenance = r.instances.some((m) => {
        const span: Span = [
          Math.max(m.startedAt.getTime(), from),
          Math.min(m.endedAt?.getTime() ?? end, end),
        ];
        const windows = history.windows
          .filter((w) => covers(w, m.instanceId))
          .map((w): Span => [w.start.getTime(), w.end.getTime()]);
        return span[1] > span[0] && overlap(span, merge(windows)) > 0;
      });
      return {
        id: r.id,
        instances: r.instances.map((m) => ({
          id: m.instanceId,
          name: names.get(m.instanceId) ?? `#${m.instanceId}`,
        })),
        start: r.startedAt,
        end: resolved,
        durationMs: (resolved ?? until).getTime() - r.startedAt.getTime(),
        acknowledgedAt: acked,
        acknowledgedBy: acked ? r.acknowledgedBy : null,
        timeToAcknowledgeMs: acked ? acked.getTime() - r.startedAt.getTime() : null,
        inMaintenance,
      };
    });
  const ackedInPeriod = incidents.filter((i) => i.acknowledgedAt && i.acknowledgedAt.getTime() >= from);
  const resolvedInPeriod = incidents.filter((i) => i.end !== null);
  return {
    incidents,
    summary: {
      count: incidents.length,
      ongoing: incidents.length - resolvedInPeriod.length,
      acknowledged: ackedInPeriod.length,
      mttaMs: mean(ackedInPeriod.map((i) => i.timeToAcknowledgeMs!)),
      resolved: resolvedInPeriod.length,
      mttrMs: mean(resolvedInPeriod.map((i) => i.durationMs)),
    },
  };
}
