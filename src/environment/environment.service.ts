import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { CheckResult, EnvironmentCheck, EnvironmentCheckContext } from './environment-check.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.tokens.js';
import { I18nService } from '../i18n/i18n.service.js';
import { StartupState } from '../monitoring/startup-state.js';
import { Clock } from '../scheduler/clock.js';
import type { CheckOutcome, EnvironmentReport, RenderedReport, ReportTrigger } from './environment-report.js';
import { VIGIL_VERSION } from './version.js';

/** Every check of core and of the loaded addons, with who contributed it. */
export const ENVIRONMENT_CHECKS = Symbol('ENVIRONMENT_CHECKS');
export interface RegisteredCheck {
  addon: string;
  check: EnvironmentCheck;
}

/** Is the database embedded? Given by the bootstrap, which knows. */
export const EMBEDDED_DATABASE = Symbol('EMBEDDED_DATABASE');

export const DEFAULT_CHECK_TIMEOUT_MS = 5000;

/** Receives every report when it is made (an addon stores them). */
export type ReportListener = (report: EnvironmentReport) => Promise<void>;

const COLORS = { ok: '\x1b[32m', warn: '\x1b[33m', fail: '\x1b[31m' } as const;
const RESET = '\x1b[0m';

/**
 * Runs the environment checks that core and the addons declare (manifest `checks`): every check that applies to
 * the running environment, side by side, each within its time limit. Keeps the last report for readiness.
 */
@Injectable()
export class EnvironmentService {
  private readonly logger = new Logger('Environment');
  private readonly listeners: ReportListener[] = [];
  private lastReport?: EnvironmentReport;

  constructor(
    @Inject(ENVIRONMENT_CHECKS) private readonly checks: RegisteredCheck[],
    @Inject(EMBEDDED_DATABASE) private readonly embeddedDatabase: boolean,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Clock) private readonly clock: Clock,
    private readonly i18n: I18nService,
    private readonly startup: StartupState,
    private readonly moduleRef: ModuleRef,
  ) {
    const seen = new Set<string>();
    for (const { addon, check } of checks) {
      if (seen.has(check.id)) throw new Error(`Environment check "${check.id}" (${addon}) is declared twice`);
      seen.add(check.id);
    }
  }

  /** The last report this process made, if any. */
  get last(): EnvironmentReport | undefined {
    return this.lastReport;
  }

  onReport(listener: ReportListener): void {
    this.listeners.push(listener);
  }

  /** Runs every applicable check now; the report goes to the listeners and decides readiness. */
  async run(trigger: ReportTrigger): Promise<EnvironmentReport> {
    const environment = this.config.runningEnv;
    const applicable = this.checks.filter(({ check }) => check.environments.includes(environment));
    const checks = await Promise.all(applicable.map((registered) => this.runOne(registered)));
    const report: EnvironmentReport = {
      environment,
      environmentRaw: this.config.runningEnvRaw,
      ok: checks.every((c) => c.status !== 'fail'),
      unsafe: this.config.cloudPlatformUnsafe,
      checkedAt: this.clock.now(),
      version: VIGIL_VERSION,
      trigger,
      checks,
    };
    this.lastReport = report;
    this.startup.environmentFailing = !report.ok && !report.unsafe;
    const rendered = this.render(report, 'en');
    if (report.ok) this.logger.log({ report: rendered }, 'Environment checks passed');
    else this.logger.warn({ report: rendered }, 'Environment checks failed');
    for (const listener of this.listeners) {
      await listener(report).catch((error: unknown) =>
        this.logger.error(`Could not keep the environment report: ${String(error)}`),
      );
    }
    return report;
  }

  /** The report in a reader's language, in the shape of the API and `env:check --json`. */
  render(report: EnvironmentReport, lang: string): RenderedReport {
    return {
      environment: report.environment,
      ok: report.ok,
      unsafe: report.unsafe,
      checked_at: report.checkedAt.toISOString(),
      checks: report.checks.map((c) => ({
        addon: c.addon,
        id: c.id,
        status: c.status,
        message: this.i18n.t(c.message.key, lang, c.message.args),
        fix: c.fix ? this.i18n.t(c.fix.key, lang, c.fix.args) : null,
      })),
    };
  }

  /** The report as a readable table with a headline; a colour per status when `color`. */
  formatTable(report: EnvironmentReport, lang: string, color: boolean): string {
    const rendered = this.render(report, lang);
    const t = (key: string, args = {}) => this.i18n.t(`environment.table.${key}`, lang, args);
    const width = Math.max(...rendered.checks.map((c) => c.id.length), t('check').length);
    const statusWidth = Math.max(...(['ok', 'warn', 'fail'] as const).map((s) => t(s).length), 6);
    const paint = (status: 'ok' | 'warn' | 'fail', text: string) =>
      color ? `${COLORS[status]}${text}${RESET}` : text;
    const lines = [
      t('headline', {
        environment: report.environment,
        raw: report.environmentRaw,
        version: report.version,
        time: rendered.checked_at,
      }),
      '',
      `${t('status').padEnd(statusWidth)}  ${t('check').padEnd(width)}  ${t('message')}`,
    ];
    for (const check of rendered.checks) {
      lines.push(
        `${paint(check.status, t(check.status).padEnd(statusWidth))}  ${check.id.padEnd(width)}  ${check.message}`,
      );
      if (check.fix && check.status !== 'ok') {
        lines.push(`${' '.repeat(statusWidth + width + 4)}${t('fix')}: ${check.fix}`);
      }
    }
    const failed = rendered.checks.filter((c) => c.status === 'fail').length;
    const warned = rendered.checks.filter((c) => c.status === 'warn').length;
    lines.push(
      '',
      t(failed ? 'summary_failed' : 'summary_ok', { failed, warned, total: rendered.checks.length }),
    );
    return lines.join('\n');
  }

  private async runOne({ addon, check }: RegisteredCheck): Promise<CheckOutcome> {
    const controller = new AbortController();
    const timeoutMs = check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
    const context: EnvironmentCheckContext = {
      runningEnv: this.config.runningEnv,
      runningEnvRaw: this.config.runningEnvRaw,
      env: this.config.env,
      config: this.config,
      embeddedDatabase: this.embeddedDatabase,
      get: (token) => this.moduleRef.get(token, { strict: false }),
      signal: controller.signal,
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve({
          status: 'fail',
          message: { key: 'environment.timed_out', args: { seconds: timeoutMs / 1000 } },
          fix: { key: 'environment.timed_out_fix' },
        });
      }, timeoutMs);
    });
    let result: CheckResult;
    try {
      result = await Promise.race([Promise.resolve().then(() => check.check(context)), timedOut]);
    } catch (error) {
      result = {
        status: 'fail',
        message: { key: 'environment.crashed', args: { reason: String(error) } },
        fix: { key: 'environment.crashed_fix' },
      };
    } finally {
      clearTimeout(timer);
    }
    const status =
      result.status === 'fail' && check.warnOnlyIn?.includes(this.config.runningEnv) ? 'warn' : result.status;
    return { addon, id: check.id, status, message: result.message, fix: result.fix ?? null };
  }
}
