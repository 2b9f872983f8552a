import { Inject, Injectable } from '@nestjs/common';
import {
  badRequest,
  Clock,
  Database,
  I18nService,
  type Page,
  type RequestContext,
  SettingsService,
} from '../../../src/index.js';
import { readEnvelope } from '../checkin/alive-payload.js';
import { CheckInService } from '../checkin/checkin.service.js';
import { PerUuidRateLimiter } from '../checkin/per-uuid-rate-limiter.js';
import { replyError, replyOk, type InstanceReply, type JsonRpcReply } from '../checkin/wire-reply.js';
import { InstanceAlertsService } from '../instance-alerts.service.js';
import { EVENT_LEVELS, type EventLevel } from '../instance-event.entity.js';
import type { InstanceState } from '../instance.entity.js';
import { DMS_SETTINGS } from '../settings.js';
import { parseEvent } from './event-payload.js';
import { toEventResponse, type EventResponse, type ListEventsQueryDto } from './instance-event.dto.js';
import { InstanceEventsRepository } from './instance-events.repository.js';

export interface EventResult extends InstanceReply {
  instance_state: InstanceState;
}

/**
 * Events instances send (`POST /dead_mans_switch/event`): stored with the server's time; those at or above
 * `dead_mans_switch.event_alert_level` are posted in the instance's chatter, in the same transaction.
 */
@Injectable()
export class InstanceEventsService {
  constructor(
    @Inject(PerUuidRateLimiter) private readonly perUuid: PerUuidRateLimiter,
    @Inject(InstanceEventsRepository) private readonly events: InstanceEventsRepository,
    @Inject(CheckInService) private readonly checkIns: CheckInService,
    @Inject(InstanceAlertsService) private readonly alerts: InstanceAlertsService,
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(Database) private readonly database: Database,
  ) {}

  async receive(
    ctx: RequestContext,
    body: unknown,
    source: string,
    token?: string,
  ): Promise<JsonRpcReply<EventResult> | EventResult> {
    const request = readEnvelope(body);
    const parsed = parseEvent(request.params);
    if ('error' in parsed) return replyError(request, parsed.error, ctx, this.i18n);
    const { databaseUuid, level, message } = parsed.event;
    const now = this.clock.now();
    this.perUuid.take('event', databaseUuid, now);
    // An unknown uuid registers as its first check-in would (same caps); a known one's token is checked.
    const instance = await this.checkIns.findOrRegister(databaseUuid, now, source, token);
    const alertFrom = EVENT_LEVELS[await this.alertLevel()];
    await this.database.transaction(async (manager) => {
      await this.events.insert(
        { instanceId: instance.id, receivedAt: now, level: EVENT_LEVELS[level], message },
        manager,
      );
      if (EVENT_LEVELS[level] >= alertFrom)
        await this.alerts.event(instance.id, { level, message, receivedAt: now }, manager);
    });
    return replyOk<EventResult>(request, { status: 'ok', instance_state: instance.state });
  }

  async list(_ctx: RequestContext, query: ListEventsQueryDto): Promise<Page<EventResponse>> {
    const from = query.from ? new Date(query.from) : undefined;
    const to = query.to ? new Date(query.to) : undefined;
    if (from && to && from >= to) throw badRequest('dead_mans_switch_server.errors.bad_range');
    const { items, total } = await this.events.list({
      instanceId: query.instance_id,
      from,
      to,
      minLevel: query.level ? EVENT_LEVELS[query.level] : undefined,
      q: query.q,
      limit: query.limit,
      offset: query.offset,
    });
    return { items: items.map(toEventResponse), total, limit: query.limit, offset: query.offset };
  }

  /** The alert level setting (cached: read on every event); a misspelt stored value reads as the default. */
  private alertLevel(): Promise<EventLevel> {
    return this.settings.cached(DMS_SETTINGS.eventAlertLevel);
  }
}
