import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  APP_CONFIG,
  ChatterService,
  Database,
  EnvironmentService,
  SettingsService,
  systemContext,
  type AppConfig,
  type EnvironmentReport,
  type PostMessage,
  type Translatable,
} from '../../src/index.js';
import { checkChanges, statusesOf, type CheckChange } from './check-changes.js';
import { PlatformEnvironmentRepository } from './platform-environment.repository.js';
import { PlatformReportRepository } from './platform-report.repository.js';
import {
  CHECK_INTERVAL,
  ENVIRONMENT_MODEL,
  SUBTYPE_CHECK_FAILED,
  SUBTYPE_CHECK_RECOVERED,
  checkIsDue,
} from './settings.js';

/**
 * Keeps every report in its environment's history and tells the environment's followers when a check's status
 * changes: one message per report that changed something, never for a status that stays as it was.
 */
@Injectable()
export class PlatformEnvironmentService {
  private readonly logger = new Logger('CloudPlatform');

  constructor(
    private readonly environment: EnvironmentService,
    private readonly environments: PlatformEnvironmentRepository,
    private readonly reports: PlatformReportRepository,
    private readonly chatter: ChatterService,
    private readonly settings: SettingsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Database) private readonly database: Database,
  ) {}

  /**
   * Stores the report, then compares it with the statuses last seen under the environment's row lock, so that
   * replicas reporting at once post a change once. The report is kept even when posting fails; the statuses are
   * then left as they were and the next report posts the change.
   */
  /** The id of this backend's environment record (its chatter thread), once a report created it. */
  async currentId(): Promise<number | undefined> {
    return (await this.environments.findByName(this.config.runningEnvRaw))?.id;
  }

  async record(report: EnvironmentReport): Promise<void> {
    const environmentId = await this.environments.ensure(
      report.environmentRaw,
      report.environment,
      report.checkedAt,
    );
    const reportId = await this.reports.insert(report, environmentId);
    await this.database.transaction(async (manager) => {
      const record = await this.environments.lock(environmentId, manager);
      // A report that lost a race against a newer one says nothing new.
      if (record.lastCheckedAt && report.checkedAt < record.lastCheckedAt) return;
      // The environment's first report is where its history starts: nothing to compare with.
      const changes = record.lastReportId === null ? [] : checkChanges(record.statuses, report.checks);
      await this.environments.applyReport(
        environmentId,
        {
          id: reportId,
          checkedAt: report.checkedAt,
          environment: report.environment,
          statuses: statusesOf(report.checks),
        },
        manager,
      );
      if (changes.length === 0) return;
      await this.chatter.post(
        systemContext(),
        { model: ENVIRONMENT_MODEL, id: environmentId },
        changeMessage(record.name, changes),
        manager,
      );
    });
  }

  /**
   * The scheduled re-check: runs every check when `cloud_platform.check_interval` has passed since the
   * environment's last report (whatever made it). Returns whether it ran them.
   */
  async recheckIfDue(now: Date): Promise<boolean> {
    const interval = await this.settings.get(CHECK_INTERVAL);
    const last = await this.reports.lastCheckedAt(this.config.runningEnvRaw);
    if (!checkIsDue(last, now, interval)) return false;
    const report = await this.environment.run('schedule');
    if (!report.ok) this.logger.warn('The scheduled environment checks found failures');
    return true;
  }
}

/** One message for every check that changed: `mt_check_failed` when any got worse, else `mt_check_recovered`. */
export function changeMessage(environment: string, changes: CheckChange[]): PostMessage {
  const worse = changes.some((c) => c.worse);
  const kind = worse ? 'failed' : 'recovered';
  const status = (s: string): Translatable => ({ key: `cloud_platform.status.${s}` });
  const body: Translatable[] = [
    { key: `cloud_platform.changes.${kind}_intro`, args: { environment, count: changes.length } },
  ];
  for (const { check, from, to } of changes) {
    body.push({
      key: 'cloud_platform.changes.line',
      args: { check: check.id, from: status(from), to: status(to), message: check.message },
    });
    if (check.fix && to !== 'ok') body.push({ key: 'cloud_platform.changes.fix', args: { fix: check.fix } });
  }
  return {
    subtype: worse ? SUBTYPE_CHECK_FAILED : SUBTYPE_CHECK_RECOVERED,
    type: 'notification',
    subject: {
      key: `cloud_platform.changes.${kind}_subject`,
      args: { environment, checks: changes.map((c) => c.check.id).join(', ') },
    },
    body,
    tracking: changes.map(({ check, from, to }) => ({ field: check.id, oldValue: from, newValue: to })),
  };
}
