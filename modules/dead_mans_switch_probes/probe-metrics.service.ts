import { Inject, Injectable } from '@nestjs/common';
import { MetricsService } from '../../src/index.js';
import type { ProbeKind } from './probe.types.js';

/** Seconds: probes time out at 60 s at most. */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The probes' Prometheus metrics, on the application's registry (`/metrics`). */
@Injectable()
export class ProbeMetrics {
  private readonly runs;
  private readonly duration;

  constructor(@Inject(MetricsService) metrics: MetricsService) {
    this.runs = metrics.counter(
      'vigil_dms_probe_runs_total',
      'Probe runs, by kind and outcome (ok, failed)',
      ['kind', 'outcome'] as const,
    );
    this.duration = metrics.histogram(
      'vigil_dms_probe_duration_seconds',
      'How long probe runs took, by kind (up to their timeout)',
      DURATION_BUCKETS,
      ['kind'] as const,
    );
  }

  /** One recorded run. */
  ran(kind: ProbeKind, ok: boolean, latencyMs: number): void {
    this.runs.inc({ kind, outcome: ok ? 'ok' : 'failed' });
    this.duration.observe({ kind }, latencyMs / 1000);
  }
}
