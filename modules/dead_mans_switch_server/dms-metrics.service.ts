import { Inject, Injectable } from '@nestjs/common';
import { Clock, MetricsService } from '../../src/index.js';
import { HEALTHS } from './instance.entity.js';
import { InstancesRepository } from './instances/instances.repository.js';

/** The addon's Prometheus metrics, on the application's registry (`/metrics`). */
@Injectable()
export class DmsMetrics {
  readonly checkIns;
  readonly registrations;
  readonly alerts;
  readonly watchdogLag;
  readonly watchdogPassSeconds;
  readonly watchdogGaps;
  readonly watchdogFailures;
  readonly alertLatency;

  constructor(
    metrics: MetricsService,
    @Inject(InstancesRepository) instances: InstancesRepository,
    @Inject(Clock) clock: Clock,
  ) {
    this.checkIns = metrics.counter(
      'vigil_dms_checkins_total',
      'Check-ins received on /dead_mans_switch/alive, by wire form and outcome',
      ['form', 'result'] as const,
    );
    this.registrations = metrics.counter(
      'vigil_dms_registrations_total',
      'Instances registered by their first check-in',
    );
    this.alerts = metrics.counter('vigil_dms_alerts_total', 'Alerts posted, by kind (down, reminder, up)', [
      'kind',
    ] as const);
    this.watchdogLag = metrics.gauge(
      'vigil_dms_watchdog_lag_seconds',
      'How long after its deadline the last watchdog pass handled the most overdue instance',
    );
    this.watchdogPassSeconds = metrics.gauge(
      'vigil_dms_watchdog_pass_seconds',
      'Duration of the last watchdog pass',
    );
    this.watchdogGaps = metrics.counter(
      'vigil_dms_watchdog_gaps_total',
      'Times the watchdog found it had not run for longer than the gap threshold',
    );
    this.alertLatency = metrics.histogram(
      'vigil_dms_alert_latency_seconds',
      "Time from an instance's deadline (down, or next reminder) to its alert message being committed",
      [1, 5, 10, 30, 60, 120, 300, 600],
      ['kind'] as const,
    );
    this.watchdogFailures = metrics.counter(
      'vigil_dms_watchdog_failures_total',
      'Instances whose alert could not be written in a watchdog pass (each is retried by the next pass)',
    );
    metrics.gauge(
      'vigil_dms_instances',
      'Instances by health (active ones) or state',
      ['health'],
      async function () {
        const counts = await instances.countByHealth(clock.now());
        this.reset();
        for (const health of [...HEALTHS, 'new', 'suspended'] as const)
          this.set({ health }, counts[health] ?? 0);
      },
    );
  }
}
