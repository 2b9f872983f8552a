import { Inject, Injectable } from '@nestjs/common';
import { Schedule, ScheduleError } from '../../../src/index.js';
import type { MaintenanceWindow } from '../maintenance-window.entity.js';
import { displayName } from '../instance-names.repository.js';
import {
  AvailabilityRepository,
  type AvailabilityIncidentRow,
  type TransitionRow,
} from './availability.repository.js';

/** Occurrences of one recurring window a period may hold at most (a window every minute of a month: bounded). */
const MAX_OCCURRENCES = 5000;

export interface AvailabilityInstance {
  id: number;
  name: string;
  description: string | null;
  state: 'active' | 'suspended';
  /** When it registered (its first check-in): nothing is known of it before. */
  createdAt: Date;
  lastSeen: Date | null;
}

/** A maintenance window open from `start` to `end`, and what it covers. */
export interface WindowOccurrence {
  windowId: number;
  description: string | null;
  /** Null with `partnerId` null: every instance (a global window). */
  instanceId: number | null;
  partnerId: number | null;
  start: Date;
  end: Date;
}

export interface AvailabilityHistory {
  instances: AvailabilityInstance[];
  /** Down and up alerts, oldest first; each instance's first is the last one before the period when it has one. */
  transitions: { instanceId: number; kind: 'down' | 'up'; at: Date }[];
  /** The maintenance windows concerning the customer that overlap the period, by start. */
  windows: WindowOccurrence[];
}

/** An incident of a customer's check-ins as a report reads it (see `IncidentsService` for how they open and close). */
export interface AvailabilityIncident {
  id: number;
  cause: 'heartbeat' | 'cron';
  startedAt: Date;
  /** Null: still open. */
  endedAt: Date | null;
  acknowledgedAt: Date | null;
  /** Who acknowledged it (a user's or an alert recipient's name). */
  acknowledgedBy: string | null;
  /** Its instances (of those asked for), each with its own outage: a storm's recover one by one. */
  instances: { instanceId: number; startedAt: Date; endedAt: Date | null }[];
}

/**
 * What an availability report needs of a customer's instances over a period: which were monitored, their down and
 * up alerts (the audit trail of `dead_mans_switch_alert`), the maintenance windows open in the period, and the
 * incidents of their check-ins.
 */
@Injectable()
export class AvailabilityService {
  constructor(@Inject(AvailabilityRepository) private readonly repository: AvailabilityRepository) {}

  /**
   * The period [from, to); `alertsUntil` (default `to`) reads alerts further, to know when an outage that runs past
   * the period ended.
   */
  async history(partnerId: number, from: Date, to: Date, alertsUntil = to): Promise<AvailabilityHistory> {
    const rows = await this.repository.instances(partnerId);
    const instances = rows.map((row) => ({
      id: row.id,
      name: displayName(row),
      description: row.description,
      state: row.state as 'active' | 'suspended',
      createdAt: new Date(row.created_at),
      lastSeen: row.last_seen && new Date(row.last_seen),
    }));
    const ids = instances.map((i) => i.id);
    const transitions = ids.length ? await this.repository.transitions(ids, from, alertsUntil) : [];
    const windows = (await this.repository.windows(partnerId)).flatMap((w) => occurrences(w, from, to));
    return {
      instances,
      transitions: transitions.map((t: TransitionRow) => ({
        instanceId: t.instance_id,
        kind: t.kind,
        at: new Date(t.created_at),
      })),
      windows: windows.sort((a, b) => a.start.getTime() - b.start.getTime() || a.windowId - b.windowId),
    };
  }

  /** The incidents of these instances' check-ins open at some time in [from, to), oldest first. */
  async incidents(instanceIds: number[], from: Date, to: Date): Promise<AvailabilityIncident[]> {
    if (instanceIds.length === 0) return [];
    const rows = await this.repository.incidents(instanceIds, from, to);
    const date = (value: Date | string | null) => (value === null ? null : new Date(value));
    return rows.map((row: AvailabilityIncidentRow) => ({
      id: row.id,
      cause: row.cause,
      startedAt: new Date(row.started_at),
      endedAt: date(row.ended_at),
      acknowledgedAt: date(row.acknowledged_at),
      acknowledgedBy: row.acknowledged_by_name,
      instances: row.members.map((m) => ({
        instanceId: m.instance_id,
        startedAt: new Date(m.started_at),
        endedAt: date(m.ended_at),
      })),
    }));
  }
}

/** The times a window is open that overlap [from, to): a one-off window once, a recurring one at each run. */
export function occurrences(w: MaintenanceWindow, from: Date, to: Date): WindowOccurrence[] {
  const base = {
    windowId: w.id,
    description: w.description,
    instanceId: w.instanceId,
    partnerId: w.partnerId,
  };
  if (w.startsAt && w.endsAt) {
    const [start, end] = [new Date(w.startsAt), new Date(w.endsAt)];
    return start < to && end > from ? [{ ...base, start, end }] : [];
  }
  if (!w.cron || !w.timeZone || !w.durationSeconds) return [];
  const duration = w.durationSeconds * 1000;
  let schedule: Schedule;
  try {
    schedule = new Schedule(w.cron, w.timeZone);
  } catch (error) {
    if (error instanceof ScheduleError) return [];
    throw error;
  }
  const out: WindowOccurrence[] = [];
  // A run before `from` whose opening lasts into the period counts too.
  let after = new Date(from.getTime() - duration);
  while (out.length < MAX_OCCURRENCES) {
    let start: Date;
    try {
      start = schedule.next(after);
    } catch (error) {
      if (error instanceof ScheduleError) break;
      throw error;
    }
    if (start >= to) break;
    const end = new Date(start.getTime() + duration);
    if (end > from) out.push({ ...base, start, end });
    after = start;
  }
  return out;
}
