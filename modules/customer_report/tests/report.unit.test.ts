import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MaintenanceWindow } from '../../dead_mans_switch_server/maintenance-window.entity.js';
import {
  occurrences,
  type AvailabilityHistory,
  type AvailabilityIncident,
} from '../../dead_mans_switch_server/availability/availability.service.js';
import {
  availability,
  dayOf,
  incidentFigures,
  monthOf,
  periodOf,
  previousMonth,
  uptimePercent,
} from '../report.js';

const HOUR = 3_600_000;
const at = (iso: string) => new Date(iso);

const window = (fields: Partial<MaintenanceWindow>): MaintenanceWindow => ({
  id: 1,
  instanceId: null,
  partnerId: null,
  description: null,
  startsAt: null,
  endsAt: null,
  cron: null,
  durationSeconds: null,
  timeZone: null,
  createdAt: at('2026-01-01T00:00:00Z'),
  ...fields,
});

const instance = (fields: Partial<AvailabilityHistory['instances'][number]> = {}) => ({
  id: 1,
  name: 'ERP',
  description: null,
  state: 'active' as const,
  createdAt: at('2026-01-01T00:00:00Z'),
  lastSeen: null,
  ...fields,
});

describe('monthly report figures', () => {
  it('reads months in a time zone, DST-correct', () => {
    const march = periodOf('2026-03', 'Europe/Brussels');
    assert.equal(march.from.toISOString(), '2026-02-28T23:00:00.000Z');
    assert.equal(march.to.toISOString(), '2026-03-31T22:00:00.000Z');
    assert.equal((march.to.getTime() - march.from.getTime()) / HOUR, 743, 'CET to CEST: an hour less');
    const utc = periodOf('2026-12', 'UTC');
    assert.equal(utc.from.toISOString(), '2026-12-01T00:00:00.000Z');
    assert.equal(utc.to.toISOString(), '2027-01-01T00:00:00.000Z');
    const tokyo = periodOf('2026-01', 'Asia/Tokyo');
    assert.equal(tokyo.from.toISOString(), '2025-12-31T15:00:00.000Z');
    assert.equal(monthOf(at('2026-10-31T23:30:00Z'), 'Europe/Brussels'), '2026-11');
    assert.equal(monthOf(at('2026-10-31T23:30:00Z'), 'UTC'), '2026-10');
    assert.equal(dayOf(at('2026-10-31T23:30:00Z'), 'Europe/Brussels'), 1);
    assert.equal(previousMonth('2026-01'), '2025-12');
    assert.equal(previousMonth('2026-11'), '2026-10');
  });

  it('rounds the uptime down to hundredths: a second of downtime never reads 100 %', () => {
    assert.equal(uptimePercent(31 * 86_400_000, 1000), 99.99);
    assert.equal(uptimePercent(1000, 0), 100);
    assert.equal(uptimePercent(0, 0), null);
    assert.equal(uptimePercent(2_678_400_000, 16_200_000 - 3_600_000), 99.52);
  });

  it('opens a recurring window at each run of its schedule in the month, across the change of hour', () => {
    const weekly = window({ cron: '0 2 * * 0', timeZone: 'Europe/Brussels', durationSeconds: 3600 });
    const october = periodOf('2026-10', 'Europe/Brussels');
    const runs = occurrences(weekly, october.from, october.to).map((o) => o.start.toISOString());
    assert.equal(runs.length, 4, runs.join());
    assert.deepEqual(runs.slice(0, 3), [
      '2026-10-04T00:00:00.000Z',
      '2026-10-11T00:00:00.000Z',
      '2026-10-18T00:00:00.000Z',
    ]);
    // 25 October: 02:00 happens twice in Brussels (CEST, then CET).
    assert.ok(['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z'].includes(runs[3]), runs[3]);
    // A one-off window overlapping the month's start counts; one before does not.
    const oneOff = window({ startsAt: at('2026-09-30T21:00:00Z'), endsAt: at('2026-09-30T23:00:00Z') });
    assert.equal(occurrences(oneOff, october.from, october.to).length, 1);
    const before = window({ startsAt: at('2026-09-30T20:00:00Z'), endsAt: at('2026-09-30T22:00:00Z') });
    assert.equal(occurrences(before, october.from, october.to).length, 0);
  });

  it("keeps downtime inside another instance's window, and in its own or the customer's windows apart", () => {
    const period = periodOf('2026-10', 'UTC');
    const history: AvailabilityHistory = {
      instances: [instance({ id: 1 }), instance({ id: 2, name: 'Staging' })],
      transitions: [
        { instanceId: 1, kind: 'down', at: at('2026-10-05T01:00:00Z') },
        { instanceId: 1, kind: 'up', at: at('2026-10-05T03:00:00Z') },
        { instanceId: 2, kind: 'down', at: at('2026-10-05T01:00:00Z') },
        { instanceId: 2, kind: 'up', at: at('2026-10-05T03:00:00Z') },
      ],
      windows: [
        // Instance 1's own window covers 02:00–04:00: half of its outage.
        {
          windowId: 1,
          description: null,
          instanceId: 1,
          partnerId: null,
          start: at('2026-10-05T02:00:00Z'),
          end: at('2026-10-05T04:00:00Z'),
        },
      ],
    };
    const figures = availability(history, period, at('2026-11-02T00:00:00Z'));
    const [one, two] = figures.instances;
    assert.deepEqual([one.downtimeMs, one.maintenanceDowntimeMs], [HOUR, HOUR]);
    assert.deepEqual([two.downtimeMs, two.maintenanceDowntimeMs], [2 * HOUR, 0], 'not its window');
    // A customer-wide window covers both.
    history.windows.push({
      windowId: 2,
      description: null,
      instanceId: null,
      partnerId: 7,
      start: at('2026-10-05T00:00:00Z'),
      end: at('2026-10-05T01:30:00Z'),
    });
    const again = availability(history, period, at('2026-11-02T00:00:00Z'));
    assert.deepEqual(
      [again.instances[0].downtimeMs, again.instances[0].maintenanceDowntimeMs],
      [HOUR / 2, 1.5 * HOUR],
    );
    assert.deepEqual(
      [again.instances[1].downtimeMs, again.instances[1].maintenanceDowntimeMs],
      [1.5 * HOUR, HOUR / 2],
    );
  });

  it('counts the current month to now, an unrecovered outage to now, and a suspended instance to its last check-in', () => {
    const period = periodOf('2026-10', 'UTC');
    const now = at('2026-10-11T00:00:00Z');
    const figures = availability(
      {
        instances: [
          instance({ id: 1 }),
          instance({ id: 2, state: 'suspended', lastSeen: at('2026-10-06T00:00:00Z') }),
          instance({ id: 3, createdAt: at('2026-10-12T00:00:00Z') }),
        ],
        transitions: [
          { instanceId: 1, kind: 'down', at: at('2026-10-10T00:00:00Z') },
          { instanceId: 1, kind: 'down', at: at('2026-10-10T06:00:00Z') },
        ],
        windows: [],
      },
      period,
      now,
    );
    assert.equal(figures.complete, false);
    assert.equal(figures.until.toISOString(), now.toISOString());
    assert.deepEqual(
      figures.instances.map((i) => [i.id, i.monitoredMs / HOUR, i.downtimeMs / HOUR]),
      [
        [1, 240, 24],
        [2, 120, 0],
      ],
      'instance 3 registered after now: not in the report',
    );
    assert.equal(
      figures.outages.length,
      1,
      'a second down alert without recovery between opens no second outage',
    );
    assert.equal(figures.outages[0].end, null);
    assert.equal(figures.outages[0].durationMs, 24 * HOUR);
  });

  it('tells incidents as they stood at the end of the period, counting each recovery and acknowledgement once', () => {
    const period = periodOf('2026-10', 'UTC');
    const incident = (
      id: number,
      startedAt: string,
      endedAt: string | null,
      acknowledgedAt: string | null = null,
    ): AvailabilityIncident => ({
      id,
      cause: 'heartbeat',
      startedAt: at(startedAt),
      endedAt: endedAt ? at(endedAt) : null,
      acknowledgedAt: acknowledgedAt ? at(acknowledgedAt) : null,
      acknowledgedBy: acknowledgedAt ? 'Ops' : null,
      instances: [{ instanceId: 1, startedAt: at(startedAt), endedAt: endedAt ? at(endedAt) : null }],
    });
    const history: AvailabilityHistory = {
      instances: [instance({ id: 1, description: 'ERP production' })],
      transitions: [],
      windows: [
        {
          windowId: 1,
          description: null,
          instanceId: null,
          partnerId: null,
          start: at('2026-10-12T00:00:00Z'),
          end: at('2026-10-12T01:00:00Z'),
        },
      ],
    };
    const { incidents, summary } = incidentFigures(
      [
        // Closed at the month's first instant: September's.
        incident(1, '2026-09-30T22:00:00Z', '2026-10-01T00:00:00Z', '2026-09-30T22:05:00Z'),
        // Began in September, acknowledged then, resolved in October: in October's MTTR, not its MTTA.
        incident(2, '2026-09-30T23:00:00Z', '2026-10-01T01:00:00Z', '2026-09-30T23:30:00Z'),
        // Inside a global window for its first hour.
        incident(3, '2026-10-12T00:30:00Z', '2026-10-12T02:30:00Z', '2026-10-12T00:40:00Z'),
        // Open at the month's end: resolved and acknowledged in November, ongoing in October.
        incident(4, '2026-10-31T23:00:00Z', '2026-11-01T02:00:00Z', '2026-11-01T00:10:00Z'),
        // November's.
        incident(5, '2026-11-01T00:00:00Z', null),
      ],
      history,
      period,
      period.to,
    );
    assert.deepEqual(
      incidents.map((i) => [
        i.id,
        i.instances.map((m) => m.name),
        i.end?.toISOString() ?? null,
        i.durationMs / 60_000,
        i.acknowledgedBy,
        i.timeToAcknowledgeMs === null ? null : i.timeToAcknowledgeMs / 60_000,
        i.inMaintenance,
      ]),
      [
        [2, ['ERP production'], '2026-10-01T01:00:00.000Z', 120, 'Ops', 30, false],
        [3, ['ERP production'], '2026-10-12T02:30:00.000Z', 120, 'Ops', 10, true],
        [4, ['ERP production'], null, 60, null, null, false],
      ],
    );
    assert.deepEqual(summary, {
      count: 3,
      ongoing: 1,
      acknowledged: 1,
      mttaMs: 10 * 60_000,
      resolved: 2,
      mttrMs: 120 * 60_000,
    });
  });
});
