import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { InstanceEventsRepository } from '../events/instance-events.repository.js';
import { InstanceAlertsService } from '../instance-alerts.service.js';
import { EVENT_LEVELS } from '../instance-event.entity.js';
import { MaintenanceWindowsService } from '../maintenance/maintenance-windows.service.js';
import { JobRunsRepository } from './job-runs.repository.js';

/** A finished run's duration against the instance's bounds: too fast, too slow, or null when within them. */
export function runVerdict(
  seconds: number,
  min: number | null,
  max: number | null,
): { kind: 'fast' | 'slow'; bound: number } | null {
  if (min !== null && seconds < min) return { kind: 'fast', bound: min };
  if (max !== null && seconds > max) return { kind: 'slow', bound: max };
  return null;
}

/**
 * The end of a job run (job-run timing): the check-in after `POST /dead_mans_switch/start` records the run's
 * duration; outside `run_min_seconds`..`run_max_seconds`, an alert event ("run too fast/too slow: took X s"), told to
 * no one when a maintenance window covers the run (as down alerts).
 */
@Injectable()
export class RunTimingService {
  constructor(
    @Inject(JobRunsRepository) private readonly runs: JobRunsRepository,
    @Inject(InstanceEventsRepository) private readonly events: InstanceEventsRepository,
    @Inject(InstanceAlertsService) private readonly alerts: InstanceAlertsService,
    @Inject(MaintenanceWindowsService) private readonly maintenance: MaintenanceWindowsService,
  ) {}

  /**
   * In the check-in's transaction, the instance locked: the run in progress ends now. Its duration is recorded;
   * outside the bounds, an event is stored and posted to the followers.
   */
  async finish(instanceId: number, at: Date, manager: EntityManager): Promise<void> {
    const run = await this.runs.finish(instanceId, at, manager);
    if (!run) return;
    const verdict = runVerdict(run.seconds, run.min, run.max);
    if (!verdict) return;
    const seconds = Math.round(run.seconds);
    // Like a down alert, no one is told during maintenance: a window covered the instance when the run started or
    // ended (a restore or an upgrade makes runs fast or slow). The event keeps the fact.
    const inMaintenance = await this.maintenance.coveredAtAny({ id: instanceId, partnerId: run.partnerId }, [
      run.startedAt,
      at,
    ]);
    await this.events.insert(
      {
        instanceId,
        receivedAt: at,
        level: EVENT_LEVELS.warning,
        // The events API shows stored text; the chatter message below is translated.
        message:
          `run too ${verdict.kind}: took ${seconds} s (${verdict.kind === 'fast' ? 'at least' : 'at most'} ${verdict.bound} s expected)` +
          (inMaintenance ? '; in a maintenance window, not alerted' : ''),
      },
      manager,
    );
    if (!inMaintenance) await this.alerts.runDuration(instanceId, { ...verdict, seconds }, manager);
  }
}
