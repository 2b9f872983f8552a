import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import {
  APP_CONFIG,
  AppException,
  Clock,
  DATABASE_UUID_SETTING,
  I18nService,
  MetricsService,
  SettingsService,
  StatisticsService,
  UsersService,
  type AppConfig,
  type RequestContext,
} from '../../src/index.js';
import { CheckInStateRepository } from './check-in-state.repository.js';
import { CheckInError } from './check-in.error.js';
import { backoffSeconds, nextAttemptAt } from './check-in.schedule.js';
import { CLIENT_SETTINGS, URL_ENV } from './client-settings.js';
import { HostRepository, type CpuSample } from './host.repository.js';
import {
  redactUrl,
  startUrl,
  SwitchServerRepository,
  type CheckInParams,
} from './switch-server.repository.js';

/** "Active users" are those seen within this window, as Odoo's bus presence counts them. */
const ACTIVE_USER_WINDOW_MS = 5 * 60_000;
/** Extra time a sender holds its claim beyond the send timeout (measuring, writing the outcome). */
const CLAIM_MARGIN_SECONDS = 30;
/** Keys the check-in computes itself: statistics providers cannot override them. */
const RESERVED_KEYS = ['database_uuid', 'cpu', 'ram', 'user_count'];
const NO_URL = 'dead_mans_switch_client.errors.no_url';

export interface ClientConfiguration {
  url?: string;
  urlSource?: 'env' | 'setting';
  intervalSeconds: number;
  sendTimeoutSeconds: number;
  /** The check-in token to send (`X-Vigil-Token`); never shown in the status. */
  token?: string;
}

export interface CheckInOutcome {
  /** The server's URL, credentials masked. */
  url: string;
  /** The `params` of the JSON-RPC envelope that was sent. */
  sent: CheckInParams;
  /** What the server answered (for an Odoo server: `{jsonrpc, id, result}`). */
  answer: unknown;
}

export type ClientState = 'not_configured' | 'pending' | 'ok' | 'failing';

export interface ClientStatusResponse {
  url: string | null;
  url_source: 'env' | 'setting' | null;
  interval: number;
  send_timeout: number;
  state: ClientState;
  state_label: string;
  last_attempt_at: string | null;
  last_success_at: string | null;
  last_error: string | null;
  last_error_key: string | null;
  last_error_at: string | null;
  consecutive_failures: number;
  next_attempt_at: string;
  last_response: unknown;
}

const round2 = (value: number) => Math.round(value * 100) / 100;
const iso = (date: Date | null | undefined) => date?.toISOString() ?? null;

/**
 * Checks in with a dead man's switch server: decides when a check-in is due (shared state, compare-and-set, so
 * one replica sends per interval), measures this process and backend, sends, and records how it went.
 */
@Injectable()
export class DeadMansSwitchClientService {
  private readonly logger = new Logger('DeadMansSwitchClient');
  private warnedNoUrl = false;
  private readonly checkIns: Counter<'result'>;
  /** CPU is measured between two check-ins sent by this process (or since it started). */
  private cpuBaseline: CpuSample;

  constructor(
    private readonly states: CheckInStateRepository,
    private readonly server: SwitchServerRepository,
    private readonly host: HostRepository,
    private readonly settings: SettingsService,
    private readonly users: UsersService,
    private readonly statistics: StatisticsService,
    private readonly i18n: I18nService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    this.cpuBaseline = host.cpuSample();
    this.checkIns = metrics.counter(
      'vigil_dead_mans_switch_client_checkins_total',
      'Check-ins sent to the dead man\'s switch server by this replica, by result ("success" or "failure")',
      ['result'],
    );
  }

  async configuration(): Promise<ClientConfiguration> {
    const [url, interval, timeout, token] = await Promise.all([
      this.settings.get(CLIENT_SETTINGS.url),
      this.settings.get(CLIENT_SETTINGS.interval),
      this.settings.get(CLIENT_SETTINGS.sendTimeout),
      this.settings.get(CLIENT_SETTINGS.token),
    ]);
    const fromEnv = this.config.env[URL_ENV]?.trim();
    const fromSetting = url;
    return {
      url: fromEnv || fromSetting || undefined,
      urlSource: fromEnv ? 'env' : fromSetting ? 'setting' : undefined,
      intervalSeconds: interval,
      sendTimeoutSeconds: timeout,
      token: token?.trim() || undefined,
    };
  }

  /**
   * The scheduler's entry point: sends a check-in if one is due and this replica wins the claim. Failures are
   * logged and recorded, never thrown. Returns whether this call attempted a check-in.
   */
  async runIfDue(now: Date): Promise<boolean> {
    const configuration = await this.configuration();
    const state = await this.states.get();
    const due = nextAttemptAt(state, configuration.intervalSeconds);
    if (due && due > now) return false;
    if (!(await this.states.claim(state, now, this.claimEnd(now, configuration)))) return false;
    await this.attempt(now, configuration).catch(() => undefined);
    return true;
  }

  /** Sends one check-in now, whatever the schedule (`npx vigil dms:alive`). Throws a CheckInError on failure. */
  async sendNow(): Promise<CheckInOutcome> {
    const now = this.clock.now();
    const configuration = await this.configuration();
    await this.states.claimNow(now, this.claimEnd(now, configuration));
    return this.attempt(now, configuration);
  }

  /**
   * Tells the server a job run starts (`npx vigil dms:start`; Vigil's `POST /dead_mans_switch/start`): the next
   * check-in ends the run and the server times it. Optional and separate from the schedule: it is not a check-in.
   * Throws a CheckInError on failure.
   */
  async sendStart(): Promise<{ url: string; answer: unknown }> {
    const configuration = await this.configuration();
    if (!configuration.url) throw new CheckInError(NO_URL, { env: URL_ENV });
    const uuid = await this.settings.get(DATABASE_UUID_SETTING);
    if (!uuid) throw new CheckInError('dead_mans_switch_client.errors.no_database_uuid');
    const url = startUrl(configuration.url);
    const answer = await this.server.alive(
      url,
      { database_uuid: uuid },
      configuration.sendTimeoutSeconds,
      configuration.token,
    );
    this.logger.log(`Told ${redactUrl(url)} that a job run starts`);
    return { url: redactUrl(url), answer };
  }

  /** `sendNow` for an administrator over HTTP: a failure becomes a translated 502. */
  async sendNowFor(ctx: RequestContext): Promise<CheckInOutcome> {
    this.logger.log(`Check-in requested by user ${ctx.user?.id ?? '(system)'}`);
    try {
      return await this.sendNow();
    } catch (error) {
      if (error instanceof CheckInError)
        throw new AppException(HttpStatus.BAD_GATEWAY, error.key, error.args);
      throw error;
    }
  }

  async status(ctx: RequestContext): Promise<ClientStatusResponse> {
    const configuration = await this.configuration();
    const state = await this.states.get();
    const clientState: ClientState = !configuration.url
      ? 'not_configured'
      : state.consecutiveFailures > 0
        ? 'failing'
        : state.lastSuccessAt
          ? 'ok'
          : 'pending';
    const next = nextAttemptAt(state, configuration.intervalSeconds) ?? this.clock.now();
    return {
      url: configuration.url ? redactUrl(configuration.url) : null,
      url_source: configuration.urlSource ?? null,
      interval: configuration.intervalSeconds,
      send_timeout: configuration.sendTimeoutSeconds,
      state: clientState,
      state_label: this.i18n.t(`dead_mans_switch_client.status.${clientState}`, ctx.lang),
      last_attempt_at: iso(state.lastAttemptAt),
      last_success_at: iso(state.lastSuccessAt),
      last_error: state.lastErrorKey
        ? this.i18n.t(state.lastErrorKey, ctx.lang, state.lastErrorArgs ?? {})
        : null,
      last_error_key: state.lastErrorKey,
      last_error_at: iso(state.lastErrorAt),
      consecutive_failures: state.consecutiveFailures,
      next_attempt_at: next.toISOString(),
      last_response: state.lastResponse ?? null,
    };
  }

  /** What a check-in reports, really measured. */
  async measure(now: Date): Promise<CheckInParams> {
    const [uuid, userCount, extras] = await Promise.all([
      this.settings.get(DATABASE_UUID_SETTING),
      this.users.countActiveSince(new Date(now.getTime() - ACTIVE_USER_WINDOW_MS)),
      this.statistics.collect(),
    ]);
    if (!uuid) throw new CheckInError('dead_mans_switch_client.errors.no_database_uuid');
    const params: CheckInParams = {
      database_uuid: uuid,
      cpu: round2(this.cpuPercent()),
      ram: round2(this.host.ramPercent()),
      user_count: userCount,
    };
    for (const [key, value] of Object.entries(extras)) {
      if (value !== null && !RESERVED_KEYS.includes(key)) params[key] = value;
    }
    return params;
  }

  /**
   * This process's CPU use since the previous measurement, in percent of one core (as psutil's cpu_percent,
   * which the OCA client uses: several busy cores make more than 100). Wall time is the real monotonic clock,
   * not the injected Clock, because CPU time is real too.
   */
  private cpuPercent(): number {
    const sample = this.host.cpuSample();
    const wall = sample.wallMicros - this.cpuBaseline.wallMicros;
    const busy = sample.cpuMicros - this.cpuBaseline.cpuMicros;
    this.cpuBaseline = sample;
    return wall > 0 ? (busy / wall) * 100 : 0;
  }

  private claimEnd(now: Date, configuration: ClientConfiguration): Date {
    return new Date(now.getTime() + (configuration.sendTimeoutSeconds + CLAIM_MARGIN_SECONDS) * 1000);
  }

  private async attempt(now: Date, configuration: ClientConfiguration): Promise<CheckInOutcome> {
    try {
      if (!configuration.url) throw new CheckInError(NO_URL, { env: URL_ENV });
      const sent = await this.measure(now);
      const answer = await this.server.alive(
        configuration.url,
        sent,
        configuration.sendTimeoutSeconds,
        configuration.token,
      );
      await this.states.recordSuccess(now, answer);
      this.checkIns.inc({ result: 'success' });
      const next = new Date(now.getTime() + configuration.intervalSeconds * 1000);
      this.logger.log(
        `Checked in with ${redactUrl(configuration.url)} (cpu ${sent.cpu}%, ram ${sent.ram}%, ` +
          `${sent.user_count} active users); next check-in at ${next.toISOString()}`,
      );
      return { url: redactUrl(configuration.url), sent, answer };
    } catch (error) {
      const failure =
        error instanceof CheckInError
          ? error
          : new CheckInError('dead_mans_switch_client.errors.internal', {
              reason: error instanceof Error ? error.message : String(error),
            });
      failure.message = this.i18n.t(failure.key, 'en', failure.args);
      this.checkIns.inc({ result: 'failure' });
      try {
        const failures = await this.states.recordFailure(now, failure.key, failure.args);
        const retry = new Date(
          now.getTime() + backoffSeconds(failures, configuration.intervalSeconds) * 1000,
        );
        if (failure.key !== NO_URL) {
          this.logger.error(
            `Check-in failed: ${failure.message}; retry at ${retry.toISOString()} (failure ${failures} in a row)`,
          );
        } else if (!this.warnedNoUrl) {
          // Not configured is a state, not an incident: said once per process; the status API keeps showing it.
          this.warnedNoUrl = true;
          this.logger.warn(`${failure.message}; no check-in is sent until it is set`);
        }
      } catch (recordError) {
        const reason = recordError instanceof Error ? recordError.message : String(recordError);
        this.logger.error(
          `Check-in failed: ${failure.message}; the failure could not be recorded: ${reason}`,
        );
      }
      throw failure;
    }
  }
}
