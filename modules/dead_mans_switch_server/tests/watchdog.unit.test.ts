import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EntityManager } from 'typeorm';
import { ManualClock, type Database, type SettingsService } from '../../../src/index.js';
import type { DmsMetrics } from '../dms-metrics.service.js';
import type { OpenWindow } from '../health/instance-health.js';
import type { InstanceAlertsService } from '../instance-alerts.service.js';
import type { MaintenanceWindowsService } from '../maintenance/maintenance-windows.service.js';
import type { StormBreakerService } from '../storm/storm-breaker.service.js';
import type { InstanceDependenciesService } from '../dependencies/instance-dependencies.service.js';
import type { DueInstance, Transition, WatchdogRepository } from '../watchdog/watchdog.repository.js';
import { WatchdogService } from '../watchdog/watchdog.service.js';
import type { IncidentsService } from '../incidents/incidents.service.js';

const NOW = new Date('2025-04-01T08:00:00.000Z');
const MANAGER = {} as EntityManager;

/** A strict mock: the methods given, and any other call fails the test. */
function strict<T extends object>(name: string, methods: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(methods, {
    get(target, property) {
      if (property in target) return target[property as keyof typeof target];
      if (property === 'then') return undefined;
      return () => assert.fail(`unexpected call ${name}.${String(property)}`);
    },
  }) as unknown as T;
}

const noop = { set: () => undefined, inc: () => undefined, observe: () => undefined };
const metrics = strict<DmsMetrics>('metrics', {
  alerts: noop,
  alertLatency: noop,
  watchdogLag: noop,
  watchdogPassSeconds: noop,
  watchdogGaps: noop,
  watchdogFailures: noop,
});

const due = (id: number, alert_state: 'ok' | 'down', partner_id: number | null = null): DueInstance => ({
  id,
  partner_id,
  alert_state,
  last_seen: '2025-04-01 07:40:00+00',
  next_deadline: '2025-04-01 08:00:00+00',
  overdue_seconds: 0,
  suppressed_by_id: null,
});

/** The service with typed mocks around it; `claimable`: what the first claim returns (the others get none). */
function watchdog(options: { claimable?: DueInstance[]; open?: OpenWindow[]; previousPass?: Date }) {
  const calls = {
    deferred: [] as (DueInstance & { until: Date })[],
    transitioned: [] as DueInstance[],
    posted: [] as { kind: string; instanceId: number }[],
    graced: [] as [Date, Date][],
  };
  let claimable = options.claimable ?? [];
  const repository = strict<WatchdogRepository>('watchdog', {
    recordPass: () => Promise.resolve(options.previousPass),
    grantGrace: (gapStart: Date, now: Date) => {
      calls.graced.push([gapStart, now]);
      return Promise.resolve(7);
    },
    claimDue: () => {
      const claimed = claimable;
      claimable = [];
      return Promise.resolve(claimed);
    },
    defer: (deferred: (DueInstance & { until: Date })[]) => {
      calls.deferred.push(...deferred);
      return Promise.resolve(deferred.map((d) => d.id));
    },
    transition: (alerting: DueInstance[]): Promise<Transition[]> => {
      calls.transitioned.push(...alerting);
      return Promise.resolve(
        alerting.map((d) => ({
          id: d.id,
          previous: d.alert_state,
          kind: d.alert_state === 'ok' ? ('down' as const) : ('reminder' as const),
        })),
      );
    },
  });
  const alerts = strict<InstanceAlertsService>('alerts', {
    alertMany: (list: { kind: string; instanceId: number }[]) => {
      calls.posted.push(...list);
      return Promise.resolve(list.map((a, index) => ({ ...a, messageId: index + 1 })));
    },
  });
  const settings = strict<SettingsService>('settings', { get: () => Promise.resolve(180) });
  const storms = strict<StormBreakerService>('storms', {
    stormingPartners: () => Promise.resolve([]),
    holdDown: () => Promise.resolve(),
    tellReady: () => Promise.resolve(0),
  });
  const maintenance = strict<MaintenanceWindowsService>('maintenance', {
    openAt: () => Promise.resolve(options.open ?? []),
  });
  const database = strict<Database>('database', {
    transaction: (work: (manager: EntityManager) => Promise<unknown>) => work(MANAGER),
  });
  // No dependencies in these cases: nothing is suppressed.
  const dependencies = strict<InstanceDependenciesService>('dependencies', {
    downAncestors: () => Promise.resolve(new Map<number, number>()),
    suppress: () => Promise.resolve([]),
    wakeReleased: () => Promise.resolve(0),
  });
  // No incident is open in these cases: every reminder is posted.
  const incidents = strict<IncidentsService>('incidents', { forWatchdog: () => Promise.resolve(new Map()) });
  const service = new WatchdogService(
    repository,
    alerts,
    settings,
    metrics,
    new ManualClock(NOW),
    storms,
    maintenance,
    database,
    dependencies,
    incidents,
  );
  return { service, calls };
}

describe('watchdog decisions (unit, typed mocks of its collaborators)', () => {
  it('alerts the due instances: down when they were ok, a reminder when already down', async () => {
    const { service, calls } = watchdog({ claimable: [due(1, 'ok'), due(2, 'down')] });
    const report = await service.runPass();
    assert.deepEqual(calls.posted, [
      { kind: 'down', instanceId: 1 },
      { kind: 'reminder', instanceId: 2 },
    ]);
    assert.equal(report.alerts, 2);
    assert.deepEqual(calls.deferred, []);
  });

  it('defers a due instance a maintenance window covers to its end, with no alert', async () => {
    const until = new Date(NOW.getTime() + 600_000);
    const { service, calls } = watchdog({
      claimable: [due(1, 'ok', 3), due(2, 'ok', 4)],
      open: [{ id: 9, instanceId: null, partnerId: 3, until }],
    });
    const report = await service.runPass();
    assert.deepEqual(
      calls.deferred.map((d) => [d.id, d.until.toISOString()]),
      [[1, until.toISOString()]],
    );
    assert.deepEqual(
      calls.transitioned.map((d) => d.id),
      [2],
    );
    assert.deepEqual(calls.posted, [{ kind: 'down', instanceId: 2 }]);
    assert.equal(report.alerts, 1);
  });

  it('after a gap longer than the threshold, grants the grace from the previous pass; not after a normal one', async () => {
    const previousPass = new Date(NOW.getTime() - 181_000);
    const gap = watchdog({ previousPass });
    const report = await gap.service.runPass();
    assert.deepEqual(gap.calls.graced, [[previousPass, NOW]]);
    assert.equal(report.graced, 7);
    assert.equal(report.gapSeconds, 181);

    const normal = watchdog({ previousPass: new Date(NOW.getTime() - 180_000) });
    const quiet = await normal.service.runPass();
    assert.deepEqual(normal.calls.graced, []);
    assert.equal(quiet.graced, 0);
    assert.equal(quiet.gapSeconds, undefined);
  });
});
