import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock, Database, SettingsService } from '../../../src/index.js';
import { DmsMetrics } from '../dms-metrics.service.js';
import { InstanceAlertsService } from '../instance-alerts.service.js';
import { DMS_SETTINGS } from '../settings.js';
import { InstanceDependenciesService } from '../dependencies/instance-dependencies.service.js';
import { isGap, triage, type OpenWindow } from '../health/instance-health.js';
import { MaintenanceWindowsService } from '../maintenance/maintenance-windows.service.js';
import { StormBreakerService } from '../storm/storm-breaker.service.js';
import { IncidentsService } from '../incidents/incidents.service.js';
import { WatchdogRepository, type DueInstance, type Transition } from './watchdog.repository.js';

/** Due instances handled per transaction: short locks, few round trips. */
export const WATCHDOG_BATCH = 250;
/** Transactions a pass runs side by side (each holds one database connection). */
export const WATCHDOG_WORKERS = 4;

/** What every worker of one pass shares, read once before any instance is claimed. */
interface Pass {
  now: Date;
  /** Followers in a storm: their e-mails of this pass's down alerts are held for one incident message. */
  storming: number[];
  /** Maintenance windows open now. */
  open: OpenWindow[];
}

export interface PassReport {
  /** Down alerts and reminders posted. */
  alerts: number;
  /** Instances given a grace period because the watchdog had not run for a while. */
  graced: number;
  /** Incident messages told by the storm breaker. */
  storms?: number;
  /** Seconds since the previous pass when it was a gap, else undefined. */
  gapSeconds?: number;
}

/**
 * Finds active instances whose deadline passed and posts their down alert, then a reminder every 3x the delay
 * while they stay down. Safe with any number of replicas and crashes: due rows are claimed with SKIP LOCKED,
 * each transition is a compare-and-set on what was read, and its alert is written in the same transaction.
 */
@Injectable()
export class WatchdogService {
  private readonly logger = new Logger('DeadMansSwitchWatchdog');
  /** A test seam: runs after the compare-and-set and the alerts, before the commit. */
  beforeCommit?: (transitions: Transition[], manager: EntityManager) => Promise<void>;

  constructor(
    @Inject(WatchdogRepository) private readonly watchdog: WatchdogRepository,
    @Inject(InstanceAlertsService) private readonly alerts: InstanceAlertsService,
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(DmsMetrics) private readonly metrics: DmsMetrics,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(StormBreakerService) private readonly storms: StormBreakerService,
    @Inject(MaintenanceWindowsService) private readonly maintenance: MaintenanceWindowsService,
    @Inject(Database) private readonly database: Database,
    @Inject(InstanceDependenciesService) private readonly dependencies: InstanceDependenciesService,
    @Inject(IncidentsService) private readonly incidents: IncidentsService,
  ) {}

  async runPass(): Promise<PassReport> {
    const started = performance.now();
    const now = this.clock.now();
    const report: PassReport = { alerts: 0, graced: 0 };
    await this.handleGap(now, report);
    // Read before any instance is claimed, so that every worker holds back the same followers' e-mails.
    const pass: Pass = {
      now,
      storming: await this.storms.stormingPartners(now),
      open: await this.maintenance.openAt(now),
    };
    // A few workers drain the due instances side by side: while one waits for the database, another posts.
    // Instances whose alert failed in this pass: skipped by every worker until the next pass.
    const failed = new Set<number>();
    const drained = await Promise.all(
      Array.from({ length: WATCHDOG_WORKERS }, () => this.drain(pass, failed)),
    );
    // This pass's storms are complete: one incident message each (and any recovery storm that is ready).
    report.storms = await this.storms.tellReady(now, now).catch((error: unknown) => {
      this.logger.error(`Storm incidents could not be told; the next pass retries: ${String(error)}`);
      return 0;
    });
    report.alerts = drained.reduce((sum, d) => sum + d.alerts, 0);
    const lag = Math.max(0, ...drained.map((d) => d.lag));
    this.metrics.watchdogLag.set(lag);
    this.metrics.watchdogPassSeconds.set((performance.now() - started) / 1000);
    return report;
  }

  private async drain(pass: Pass, failed: Set<number>): Promise<{ alerts: number; lag: number }> {
    const now = pass.now;
    const result = { alerts: 0, lag: 0 };
    for (;;) {
      const batch = await this.database
        .transaction(async (manager) => {
          const due = await this.watchdog.claimDue(now, WATCHDOG_BATCH, [...failed], manager);
          return { due, transitions: await this.alert(due, pass, manager) };
        })
        .catch((error: unknown) => {
          // One instance that cannot be alerted must not hold back the others: retry the batch one by one.
          this.logger.error(`Watchdog batch failed, retrying instance by instance: ${String(error)}`);
          return this.oneByOne(pass, failed);
        });
      result.alerts += batch.transitions.length;
      const overdue = new Map(batch.due.map((d) => [d.id, d.overdue_seconds]));
      for (const t of batch.transitions) {
        const kind = t.kind;
        this.metrics.alerts.inc({ kind });
        this.metrics.alertLatency.observe({ kind }, overdue.get(t.id) ?? 0);
      }
      for (const d of batch.due) result.lag = Math.max(result.lag, d.overdue_seconds);
      if (batch.due.length < WATCHDOG_BATCH) return result;
    }
  }

  private async alert(due: DueInstance[], pass: Pass, manager: EntityManager): Promise<Transition[]> {
    const { now, storming } = pass;
    // In a maintenance window: no alert now; the deadline moves to the window's end.
    const { deferred, alerting } = triage(due, pass.open);
    await this.watchdog.defer(deferred, manager);
    // An ancestor down (a host, a VPN): down all the same, but silent, and listed on the ancestor.
    const blocked = await this.dependencies.downAncestors(
      alerting.map((d) => d.id),
      now,
      manager,
    );
    await this.dependencies.suppress(
      alerting.filter((d) => blocked.has(d.id)).map((d) => ({ ...d, ancestor: blocked.get(d.id)! })),
      now,
      manager,
    );
    const moved = await this.watchdog.transition(
      alerting.filter((d) => !blocked.has(d.id)),
      now,
      manager,
    );
    // Each down opens its incident with its alert; an acknowledged incident gets no more reminders (its deadline
    // still moves on, so the watchdog does not come back to it at every pass).
    const incidents = await this.incidents.forWatchdog(moved, storming, now, manager);
    const transitions = moved.filter((t) => t.kind === 'down' || !incidents.get(t.id)?.acknowledged);
    const posted = await this.alerts.alertMany(
      transitions.map((t) => {
        const incidentId = incidents.get(t.id)?.incidentId;
        return { kind: t.kind, instanceId: t.id, ...(incidentId ? { incidentId } : {}) };
      }),
      now,
      manager,
    );
    await this.storms.holdDown(storming, posted, now, manager);
    if (this.beforeCommit) await this.beforeCommit(transitions, manager);
    return transitions;
  }

  /**
   * Alerts the due instances one transaction each. An instance whose alert fails is rolled back, reported and
   * left out of the rest of this pass (it stays due, so the next pass retries it); the others go on.
   */
  private async oneByOne(
    pass: Pass,
    failed: Set<number>,
  ): Promise<{ due: DueInstance[]; transitions: Transition[] }> {
    const result = { due: [] as DueInstance[], transitions: [] as Transition[] };
    for (;;) {
      let claimed: DueInstance | undefined;
      try {
        const done = await this.database.transaction(async (manager) => {
          const due = await this.watchdog.claimDue(pass.now, 1, [...failed], manager);
          claimed = due[0];
          return { due, transitions: await this.alert(due, pass, manager) };
        });
        if (done.due.length === 0) return result;
        result.due.push(...done.due);
        result.transitions.push(...done.transitions);
      } catch (error) {
        // Without a claimed row the database itself failed: nothing more can be done in this pass.
        if (!claimed) {
          this.logger.error(`Watchdog could not claim due instances; next pass retries: ${String(error)}`);
          return result;
        }
        failed.add(claimed.id);
        this.metrics.watchdogFailures.inc();
        this.logger.error(
          `Watchdog could not alert instance ${claimed.id}; it stays due and the next pass retries: ${String(error)}`,
        );
      }
    }
  }

  /**
   * When the previous pass is older than the gap threshold, the server (or its database) was away: deadlines
   * that passed meanwhile say nothing about the instances, so they get a fresh grace period instead of alerts.
   */
  private async handleGap(now: Date, report: PassReport): Promise<void> {
    const threshold = await this.settings.get(DMS_SETTINGS.watchdogGapSeconds);
    await this.database.transaction(async (manager) => {
      const previous = await this.watchdog.recordPass(now, manager);
      // Dependents whose ancestor is back are due now: this pass alerts those still down (one statement, in the
      // pass's first transaction rather than one of its own).
      await this.dependencies.wakeReleased(now, manager);
      if (!previous) return;
      if (!isGap(previous, now, threshold)) return;
      const gap = (now.getTime() - previous.getTime()) / 1000;
      report.gapSeconds = gap;
      report.graced = await this.watchdog.grantGrace(previous, now, manager);
      this.metrics.watchdogGaps.inc();
      this.logger.warn(
        `The watchdog did not run for ${Math.round(gap)} s (last pass ${previous.toISOString()}): ` +
          `${report.graced} instance(s) whose deadline passed meanwhile get a fresh grace period instead of an alert`,
      );
    });
  }
}
