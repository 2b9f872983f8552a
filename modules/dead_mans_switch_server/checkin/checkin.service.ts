import { isIP } from 'node:net';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AppException,
  Clock,
  Database,
  I18nService,
  SettingsService,
  type RequestContext,
} from '../../../src/index.js';
import { DmsMetrics } from '../dms-metrics.service.js';
import { cronDeadline } from '../health/instance-health.js';
import { InstanceDependenciesService } from '../dependencies/instance-dependencies.service.js';
import { InstanceAlertsService } from '../instance-alerts.service.js';
import { RunTimingService } from '../runs/run-timing.service.js';
import { IncidentsService } from '../incidents/incidents.service.js';
import type { InstanceState } from '../instance.entity.js';
import { StormBreakerService } from '../storm/storm-breaker.service.js';
import { DMS_SETTINGS } from '../settings.js';
import { emptyCheckIn, parseCheckIn, readEnvelope, type CheckIn } from './alive-payload.js';
import { checkToken } from './checkin-token.js';
import { CheckInRepository, type CheckedIn, type LockedInstance } from './checkin.repository.js';
import { IgnoredStatisticsService } from './ignored-statistics.service.js';
import { PerUuidRateLimiter } from './per-uuid-rate-limiter.js';
import { RateLimitedException } from './rate-limited.exception.js';
import { replyError, replyOk, type InstanceReply, type JsonRpcReply } from './wire-reply.js';

/** What a successful check-in answers, in both wire forms. */
export interface CheckInResult extends InstanceReply {
  instance_state: InstanceState;
  /** The statistics not stored as sent, and why (absent when all were): the check-in counted all the same. */
  ignored?: { field: string; message: string }[];
}

const HOUR_MS = 3_600_000;
/** A check-in back from the source before the last one, this soon after the change: an interleaving. */
const INTERLEAVING_WINDOW_MS = 24 * HOUR_MS;
// A registration that loses a race to another request for the same uuid retries as a known instance.
const ATTEMPTS = 3;

/** Receives check-ins: validates them, registers unknown uuids, stores one log row each, notices recoveries. */
@Injectable()
export class CheckInService {
  private readonly logger = new Logger('DeadMansSwitchRegistrations');
  // When this process last warned of the global cap: once an hour, not once per refused request.
  private globalCapWarnedAt?: number;

  constructor(
    @Inject(CheckInRepository) private readonly checkIns: CheckInRepository,
    @Inject(InstanceAlertsService) private readonly alerts: InstanceAlertsService,
    @Inject(IncidentsService) private readonly incidents: IncidentsService,
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(DmsMetrics) private readonly metrics: DmsMetrics,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(StormBreakerService) private readonly storms: StormBreakerService,
    @Inject(Database) private readonly database: Database,
    @Inject(IgnoredStatisticsService) private readonly ignoredStatistics: IgnoredStatisticsService,
    @Inject(InstanceDependenciesService) private readonly dependencies: InstanceDependenciesService,
    @Inject(RunTimingService) private readonly runTiming: RunTimingService,
    @Inject(PerUuidRateLimiter) private readonly perUuid: PerUuidRateLimiter,
  ) {}

  /**
   * Handles one POSTed body from `source`. JSON-RPC application errors are replies (HTTP 200, as Odoo does);
   * plain JSON errors are thrown as 400s. Returns only after the check-in committed.
   */
  async receive(
    ctx: RequestContext,
    body: unknown,
    source: string,
    token?: string,
  ): Promise<JsonRpcReply<CheckInResult> | CheckInResult> {
    const request = readEnvelope(body);
    const parsed = parseCheckIn(request.params);
    if ('error' in parsed) {
      this.metrics.checkIns.inc({ form: request.form, result: 'invalid' });
      return replyError(request, parsed.error, ctx, this.i18n);
    }
    if (parsed.checkIn.nextIn !== null) parsed.checkIn.nextIn = await this.boundNextIn(parsed.checkIn.nextIn);
    const now = this.clock.now();
    try {
      this.perUuid.take('alive', parsed.checkIn.databaseUuid, now);
    } catch (error) {
      this.metrics.checkIns.inc({ form: request.form, result: 'rate_limited' });
      throw error;
    }
    const stored = await this.store(parsed.checkIn, now, source, token).catch((error: unknown) => {
      if (error instanceof RateLimitedException)
        this.metrics.checkIns.inc({ form: request.form, result: 'registration_capped' });
      else if (error instanceof AppException && error.getStatus() === 401)
        this.metrics.checkIns.inc({ form: request.form, result: 'bad_token' });
      throw error;
    });
    this.metrics.checkIns.inc({ form: request.form, result: stored.registered ? 'registered' : 'ok' });
    if (stored.registered) this.metrics.registrations.inc();
    if (stored.told) this.metrics.alerts.inc({ kind: 'up' });
    const { ignored } = parsed.checkIn;
    await this.ignoredStatistics.flag(stored.id, ignored, now);
    return replyOk<CheckInResult>(request, {
      status: 'ok',
      instance_state: stored.state,
      ...(ignored.length ? { ignored: this.ignoredStatistics.describe(ignored, ctx.lang) } : {}),
    });
  }

  /**
   * Registers an unknown uuid as a check-in without statistics would (same caps), or finds it: for the endpoints
   * other than alive. A known instance with a check-in token requires it (401 otherwise). Returns the instance.
   */
  async findOrRegister(databaseUuid: string, now: Date, source: string, token?: string): Promise<CheckedIn> {
    const known = await this.checkIns.findByUuid(databaseUuid);
    if (known) {
      checkToken(known.checkin_token_hash, token);
      return { id: known.id, state: known.state };
    }
    const stored = await this.store(emptyCheckIn(databaseUuid), now, source, token);
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
    token: string | undefined,
  ): Promise<CheckedIn & { registered?: boolean; recovered?: boolean; told?: boolean }> {
    const address = isIP(source) ? source : null;
    for (let attempt = 1; ; attempt++) {
      const quick = await this.checkIns.quickCheckIn(checkIn, now, address);
      if (quick) return quick;
      const known = await this.database.transaction(async (manager) => {
        const locked = await this.checkIns.lockByUuid(checkIn.databaseUuid, manager, address);
        if (!locked) return undefined;
        // Before anything is written: a refused check-in records nothing.
        checkToken(locked.checkin_token_hash, token);
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
        await this.compareSource(locked, now, manager);
        // A job run in progress ends with this check-in: its duration is recorded and held to its bounds.
        if (locked.run_started_at) await this.runTiming.finish(locked.id, now, manager);
        // An outage suppressed by a down ancestor was never told: its end is a note, not a recovery alert.
        const told = recovered && locked.suppressed_by_id === null;
        if (recovered && !told)
          await this.dependencies.recoveredSilently(locked.id, locked.suppressed_by_id!, manager);
        // The incident closes with the recovery (its note before the recovery message); a suppressed outage had none.
        if (recovered) await this.incidents.recovered(locked.id, now, manager);
        if (told) {
          const messageId = await this.alerts.alert('up', locked.id, now, manager);
          // Followers told of the outage in a storm hear of the recoveries the same way.
          await this.storms.holdRecovery(locked.id, messageId, now, manager);
        }
        return { id: locked.id, state: locked.state, recovered, told };
      });
      if (known) return known;
      const registered = await this.register(checkIn, now, source);
      if (registered) return { ...registered, registered: true };
      if (attempt >= ATTEMPTS)
        throw new Error(`Check-in of ${checkIn.databaseUuid} kept racing its registration`);
    }
  }

  /**
   * Clone detection, only when the source changed: back from the source before the last one within a day (A, B,
   * A) is an interleaving — two databases with one uuid — flagged once, with one message to the followers, until a
   * manager clears it. A single move (A, B) is a migration, not a copy.
   */
  private async compareSource(locked: LockedInstance, now: Date, manager: EntityManager): Promise<void> {
    const key = locked.source_key;
    if (key === null || key === locked.last_source) return;
    const interleaved =
      locked.last_source !== null &&
      locked.previous_source === key &&
      locked.source_changed_at !== null &&
      now.getTime() - new Date(locked.source_changed_at).getTime() <= INTERLEAVING_WINDOW_MS;
    const copy: [string, string] | null =
      interleaved && locked.possible_copy_since === null ? [key, locked.last_source!] : null;
    await this.checkIns.moveSource(locked.id, key, now, copy, manager);
    if (copy) await this.alerts.possibleCopy(locked.id, copy, manager);
  }

  /**
   * Registers an unknown uuid within the caps: per source block (an IPv4 address, an IPv6 /64) and all sources
   * together, per hour, both counted in the database under advisory locks so that replicas share them. Undefined
   * when another request registered the uuid meanwhile.
   */
  private async register(checkIn: CheckIn, now: Date, source: string): Promise<CheckedIn | undefined> {
    // The caps are read before the transaction: settings come through another connection of the pool, which
    // the registrations queued on a lock could all hold.
    const perSource = await this.settings.get(DMS_SETTINGS.maxRegistrationsPerHour);
    const global = await this.settings.get(DMS_SETTINGS.maxRegistrationsGlobalPerHour);
    const since = new Date(now.getTime() - HOUR_MS);
    const address = isIP(source) ? source : null;
    return this.database.transaction(async (manager) => {
      await this.checkIns.lockSource(source, address, manager);
      if ((await this.checkIns.registrationsSince(address, since, manager)) >= perSource)
        throw new RateLimitedException('dead_mans_switch_server.errors.too_many_registrations', 3600);
      // Always after the source's lock (one order: no deadlock).
      await this.checkIns.lockAllSources(manager);
      const registered = await this.checkIns.allRegistrationsSince(since, manager);
      if (registered >= global) {
        this.warnGlobalCap(now, registered, global);
        throw new RateLimitedException('dead_mans_switch_server.errors.too_many_registrations_global', 3600);
      }
      return this.checkIns.register(checkIn, now, address, manager);
    });
  }

  /** Once an hour per process while the global cap refuses registrations: a warning, not one per request. */
  private warnGlobalCap(now: Date, registered: number, cap: number): void {
    if (this.globalCapWarnedAt !== undefined && now.getTime() - this.globalCapWarnedAt < HOUR_MS) return;
    this.globalCapWarnedAt = now.getTime();
    this.logger.warn(
      `${registered} instances registered in the last hour, the global cap ` +
        `(${DMS_SETTINGS.maxRegistrationsGlobalPerHour.key} = ${cap}): new uuids are refused until the hour's ` +
        'registrations age out. A flood from many addresses? Else raise the setting.',
    );
  }
}
