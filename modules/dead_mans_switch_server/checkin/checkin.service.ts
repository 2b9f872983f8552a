import { isIP } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { Clock, Database, I18nService, SettingsService, type RequestContext } from '../../../src/index.js';
import { DmsMetrics } from '../dms-metrics.service.js';
import { cronDeadline } from '../health/instance-health.js';
import { InstanceAlertsService } from '../instance-alerts.service.js';
import type { InstanceState } from '../instance.entity.js';
import { StormBreakerService } from '../storm/storm-breaker.service.js';
import { CHECKINS_PER_UUID_PER_MINUTE, DMS_SETTINGS } from '../settings.js';
import { emptyCheckIn, parseCheckIn, readEnvelope, type CheckIn } from './alive-payload.js';
import { CheckInRepository, type CheckedIn } from './checkin.repository.js';
import { IgnoredStatisticsService } from './ignored-statistics.service.js';
import { RateLimitedException } from './rate-limited.exception.js';
import { TokenBuckets } from './token-buckets.js';
import { replyError, replyOk, type InstanceReply, type JsonRpcReply } from './wire-reply.js';

/** What a successful check-in answers, in both wire forms. */
export interface CheckInResult extends InstanceReply {
  instance_state: InstanceState;
  /** The statistics not stored as sent, and why (absent when all were): the check-in counted all the same. */
  ignored?: { field: string; message: string }[];
}

const HOUR_MS = 3_600_000;
// A registration that loses a race to another request for the same uuid retries as a known instance.
const ATTEMPTS = 3;

/** Receives check-ins: validates them, registers unknown uuids, stores one log row each, notices recoveries. */
@Injectable()
export class CheckInService {
  private readonly perUuid = new TokenBuckets(CHECKINS_PER_UUID_PER_MINUTE, CHECKINS_PER_UUID_PER_MINUTE);

  constructor(
    @Inject(CheckInRepository) private readonly checkIns: CheckInRepository,
    @Inject(InstanceAlertsService) private readonly alerts: InstanceAlertsService,
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(DmsMetrics) private readonly metrics: DmsMetrics,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(StormBreakerService) private readonly storms: StormBreakerService,
    @Inject(Database) private readonly database: Database,
    @Inject(IgnoredStatisticsService) private readonly ignoredStatistics: IgnoredStatisticsService,
  ) {}

  /**
   * Handles one POSTed body from `source`. JSON-RPC application errors are replies (HTTP 200, as Odoo does);
   * plain JSON errors are thrown as 400s. Returns only after the check-in committed.
   */
  async receive(
    ctx: RequestContext,
    body: unknown,
    source: string,
  ): Promise<JsonRpcReply<CheckInResult> | CheckInResult> {
    const request = readEnvelope(body);
    const parsed = parseCheckIn(request.params);
    if ('error' in parsed) {
      this.metrics.checkIns.inc({ form: request.form, result: 'invalid' });
      return replyError(request, parsed.error, ctx, this.i18n);
    }
    if (parsed.checkIn.nextIn !== null) parsed.checkIn.nextIn = await this.boundNextIn(parsed.checkIn.nextIn);
    const now = this.clock.now();
    const wait = this.perUuid.take(parsed.checkIn.databaseUuid, now);
    if (wait > 0) {
      this.metrics.checkIns.inc({ form: request.form, result: 'rate_limited' });
      throw new RateLimitedException('dead_mans_switch_server.errors.too_many_checkins', wait);
    }
    const stored = await this.store(parsed.checkIn, now, source).catch((error: unknown) => {
      if (error instanceof RateLimitedException)
        this.metrics.checkIns.inc({ form: request.form, result: 'registration_capped' });
      throw error;
    });
    this.metrics.checkIns.inc({ form: request.form, result: stored.registered ? 'registered' : 'ok' });
    if (stored.registered) this.metrics.registrations.inc();
    if (stored.recovered) this.metrics.alerts.inc({ kind: 'up' });
    const { ignored } = parsed.checkIn;
    await this.ignoredStatistics.flag(stored.id, ignored, now);
    return replyOk<CheckInResult>(request, {
      status: 'ok',
      instance_state: stored.state,
      ...(ignored.length ? { ignored: this.ignoredStatistics.describe(ignored, ctx.lang) } : {}),
    });
  }

  /**
   * Registers an unknown uuid as a check-in without statistics would (same cap per source address), or finds
   * it: for the endpoints other than alive. Returns the instance.
   */
  async findOrRegister(databaseUuid: string, now: Date, source: string): Promise<CheckedIn> {
    const known = await this.checkIns.findByUuid(databaseUuid);
    if (known) return known;
    const stored = await this.store(emptyCheckIn(databaseUuid), now, source);
    if (stored.registered) this.metrics.registrations.inc();
    return stored;
  }

  /** `next_in` within the bounds the settings give (a minute to 31 days by default). */
  private async boundNextIn(nextIn: number): Promise<number> {
    // Read on every check-in: from the cache, not the database.
    const min = await this.settings.cached(DMS_SETTINGS.nextInMinSeconds);
    const max = await this.settings.cached(DMS_SETTINGS.nextInMaxSeconds);
    return Math.max(1, Math.min(Math.max(nextIn, min), max));
  }

  private async store(
    checkIn: CheckIn,
    now: Date,
    source: string,
  ): Promise<CheckedIn & { registered?: boolean; recovered?: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const quick = await this.checkIns.quickCheckIn(checkIn, now);
      if (quick) return quick;
      const outcome = await this.database.transaction(async (manager) => {
        const locked = await this.checkIns.lockByUuid(checkIn.databaseUuid, manager);
        if (locked) {
          // The cron expectation's deadline, when it decides (else the statement computes the delay's).
          const deadline = cronDeadline(
            {
              expectCron: locked.expect_cron,
              expectTimeZone: locked.expect_time_zone,
              expectGrace: locked.expect_grace,
              nextIn: checkIn.nextIn,
            },
            now,
          );
          const recovered = await this.checkIns.checkInLocked(checkIn, now, locked, deadline, manager);
          if (recovered) {
            const messageId = await this.alerts.alert('up', locked.id, now, manager);
            // Followers told of the outage in a storm hear of the recoveries the same way.
            await this.storms.holdRecovery(locked.id, messageId, now, manager);
          }
          return { id: locked.id, state: locked.state, recovered };
        }
        const address = isIP(source) ? source : null;
        await this.checkIns.lockSource(source, address, manager);
        const cap = await this.settings.get(DMS_SETTINGS.maxRegistrationsPerHour);
        const since = new Date(now.getTime() - HOUR_MS);
        if ((await this.checkIns.registrationsSince(address, since, manager)) >= cap) {
          throw new RateLimitedException('dead_mans_switch_server.errors.too_many_registrations', 3600);
        }
        const registered = await this.checkIns.register(checkIn, now, address, manager);
        return registered && { ...registered, registered: true };
      });
      if (outcome) return outcome;
      if (attempt >= ATTEMPTS)
        throw new Error(`Check-in of ${checkIn.databaseUuid} kept racing its registration`);
    }
  }
}
