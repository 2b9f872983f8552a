import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Clock, Database, I18nService, type RequestContext } from '../../../src/index.js';
import { InstanceAlertsService } from '../instance-alerts.service.js';
import type { InstanceState } from '../instance.entity.js';
import { InstancesRepository } from '../instances/instances.repository.js';
import { parseDatabaseUuid, readEnvelope } from './alive-payload.js';
import { checkToken } from './checkin-token.js';
import { CheckInRepository } from './checkin.repository.js';
import { PerUuidRateLimiter } from './per-uuid-rate-limiter.js';
import { replyError, replyOk, type InstanceReply, type JsonRpcReply } from './wire-reply.js';

export interface CancelResult extends InstanceReply {
  instance_state: InstanceState;
}

const UNKNOWN = {
  status: HttpStatus.NOT_FOUND,
  name: 'odoo.exceptions.MissingError',
  type: 'missing_error',
};

/**
 * `POST /dead_mans_switch/cancel`: a retired instance tells the server, so that its silence alerts no one. It
 * is suspended and marked cancelled; its check-ins are still logged but do not reactivate it, only a manager
 * does.
 */
@Injectable()
export class InstanceCancelService {
  constructor(
    @Inject(PerUuidRateLimiter) private readonly perUuid: PerUuidRateLimiter,
    @Inject(CheckInRepository) private readonly checkIns: CheckInRepository,
    @Inject(InstancesRepository) private readonly instances: InstancesRepository,
    @Inject(InstanceAlertsService) private readonly alerts: InstanceAlertsService,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(Database) private readonly database: Database,
  ) {}

  async cancel(
    ctx: RequestContext,
    body: unknown,
    token?: string,
  ): Promise<JsonRpcReply<CancelResult> | CancelResult> {
    const request = readEnvelope(body);
    const parsed = parseDatabaseUuid(request.params);
    if ('error' in parsed) return replyError(request, parsed.error, ctx, this.i18n);
    const now = this.clock.now();
    this.perUuid.take('cancel', parsed.databaseUuid, now);
    const state = await this.database.transaction(async (manager) => {
      const locked = await this.checkIns.lockByUuid(parsed.databaseUuid, manager);
      if (!locked) return undefined;
      checkToken(locked.checkin_token_hash, token);
      const before = (await this.instances.findForUpdate(locked.id, manager))!;
      // Cancelling twice changes nothing and tells no one again.
      if (before.cancelledAt) return before.state;
      const after = { ...before, state: 'suspended' as const, alertState: 'ok' as const, cancelledAt: now };
      if (!(await this.instances.compareAndSet(before, after, now, manager)))
        throw new Error(`Instance ${before.id} changed under its lock`);
      await this.alerts.cancelled(before, now, manager);
      return after.state;
    });
    if (!state)
      return replyError(
        request,
        { key: 'dead_mans_switch_server.errors.unknown_instance', args: { uuid: parsed.databaseUuid } },
        ctx,
        this.i18n,
        UNKNOWN,
      );
    return replyOk<CancelResult>(request, { status: 'ok', instance_state: state });
  }
}
