import { Inject, Injectable } from '@nestjs/common';
import { Clock, Database, I18nService, type RequestContext } from '../../../src/index.js';
import { parseDatabaseUuid, readEnvelope } from '../checkin/alive-payload.js';
import { CheckInService } from '../checkin/checkin.service.js';
import { PerUuidRateLimiter } from '../checkin/per-uuid-rate-limiter.js';
import { replyError, replyOk, type InstanceReply, type JsonRpcReply } from '../checkin/wire-reply.js';
import { nextDeadline } from '../health/instance-health.js';
import type { InstanceState } from '../instance.entity.js';
import { InstancesRepository } from '../instances/instances.repository.js';
import { JobRunsRepository, type JobRun } from './job-runs.repository.js';

export interface StartResult extends InstanceReply {
  instance_state: InstanceState;
}

/**
 * Job-run timing, healthchecks.io-style. `POST /dead_mans_switch/start` says a run began; the next check-in
 * (`alive`) ends it. A run that does not end within `run_timeout` makes the instance down (the watchdog decides,
 * from the deadline `start` moved); a finished run outside `run_min_seconds`..`run_max_seconds` posts an alert
 * event ("too fast", "too slow"). Each finished run's duration is recorded. Clients that never send `start`
 * (the OCA client) are not affected.
 */
@Injectable()
export class JobRunsService {
  constructor(
    @Inject(PerUuidRateLimiter) private readonly perUuid: PerUuidRateLimiter,
    @Inject(JobRunsRepository) private readonly runs: JobRunsRepository,
    @Inject(InstancesRepository) private readonly instances: InstancesRepository,
    @Inject(CheckInService) private readonly checkIns: CheckInService,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(Database) private readonly database: Database,
  ) {}

  /** `POST /dead_mans_switch/start`: both wire forms, the same hardening as alive. */
  async start(
    ctx: RequestContext,
    body: unknown,
    source: string,
    token?: string,
  ): Promise<JsonRpcReply<StartResult> | StartResult> {
    const request = readEnvelope(body);
    const parsed = parseDatabaseUuid(request.params);
    if ('error' in parsed) return replyError(request, parsed.error, ctx, this.i18n);
    const now = this.clock.now();
    this.perUuid.take('start', parsed.databaseUuid, now);
    // An unknown uuid registers as its first check-in would (same caps); a known one's token is checked.
    const found = await this.checkIns.findOrRegister(parsed.databaseUuid, now, source, token);
    const state = await this.database.transaction(async (manager) => {
      const instance = await this.instances.findForUpdate(found.id, manager);
      if (!instance) return found.state;
      // With a timeout, the watchdog looks at the instance when the run should have ended (or earlier, when its
      // own deadline comes first); a down instance keeps its reminder time.
      const deadline =
        instance.state === 'active' && instance.alertState === 'ok' && instance.runTimeout !== null
          ? new Date(
              Math.min(nextDeadline(instance, now).getTime(), now.getTime() + instance.runTimeout * 1000),
            )
          : null;
      await this.runs.start(instance.id, now, deadline, manager);
      return instance.state;
    });
    return replyOk<StartResult>(request, { status: 'ok', instance_state: state });
  }

  /** The newest finished runs of an instance. */
  recent(_ctx: RequestContext, instanceId: number, limit = 10): Promise<JobRun[]> {
    return this.runs.recent(instanceId, limit);
  }
}
