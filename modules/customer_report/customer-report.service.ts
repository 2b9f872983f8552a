import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  badRequest,
  ChatterService,
  Clock,
  Database,
  I18nService,
  notFound,
  PartnersService,
  SettingsService,
  systemContext,
  type RequestContext,
} from '../../src/index.js';
import { AvailabilityService } from '../dead_mans_switch_server/availability/availability.service.js';
import { BackupSummaryService, type BackupSummary } from '../backup/backup-summary.service.js';
import { CustomerReportRepository } from './customer-report.repository.js';
import {
  availability,
  dayOf,
  incidentFigures,
  monthOf,
  MONTH_PATTERN,
  periodOf,
  previousMonth,
  type Availability,
  type IncidentSummary,
  type Period,
  type ReportIncident,
} from './report.js';
import { reportView, type ReportView } from './report-view.js';
import { CATCH_UP_DAYS, REPORT_MODEL, REPORT_SETTINGS, SUBTYPE_MONTHLY_REPORT } from './settings.js';

/** When no time zone is set for a customer, its months are read in UTC. */
export const DEFAULT_TIME_ZONE = 'UTC';

export interface CustomerReport {
  customer: { id: number; name: string };
  period: Period;
  availability: Availability;
  /** The incidents of the customer's instances in the period, as they stood at its end. */
  incidents: ReportIncident[];
  incidentSummary: IncidentSummary;
  backups: BackupSummary[];
}

export interface ReportSettings {
  partner_id: number;
  /** Null: UTC. */
  time_zone: string | null;
  backup_config_ids: number[];
}

const iso = (date: Date | null) => date?.toISOString() ?? null;
const seconds = (ms: number) => Math.round(ms / 1000);
const nullableSeconds = (ms: number | null) => (ms === null ? null : seconds(ms));

/** The report as the API returns it: times in ISO 8601 (UTC), durations in seconds, sizes in bytes. */
export function reportJson(report: CustomerReport) {
  const a = report.availability;
  return {
    partner_id: report.customer.id,
    customer: report.customer.name,
    month: report.period.month,
    time_zone: report.period.timeZone,
    from: report.period.from.toISOString(),
    to: report.period.to.toISOString(),
    until: a.until.toISOString(),
    complete: a.complete,
    uptime_percent: a.uptimePercent,
    monitored_seconds: seconds(a.monitoredMs),
    downtime_seconds: seconds(a.downtimeMs),
    maintenance_downtime_seconds: seconds(a.maintenanceDowntimeMs),
    instances: a.instances.map((i) => ({
      id: i.id,
      name: i.name,
      state: i.state,
      monitored_from: i.monitoredFrom.toISOString(),
      monitored_to: i.monitoredTo.toISOString(),
      monitored_seconds: seconds(i.monitoredMs),
      downtime_seconds: seconds(i.downtimeMs),
      maintenance_downtime_seconds: seconds(i.maintenanceDowntimeMs),
      outages: i.outages,
      uptime_percent: i.uptimePercent,
    })),
    outages: a.outages.map((o) => ({
      instance_id: o.instanceId,
      instance: o.instance,
      started_at: o.start.toISOString(),
      ended_at: iso(o.end),
      duration_seconds: seconds(o.durationMs),
      counted_seconds: seconds(o.countedMs),
      maintenance_seconds: seconds(o.maintenanceMs),
    })),
    incident_summary: {
      incidents: report.incidentSummary.count,
      ongoing: report.incidentSummary.ongoing,
      acknowledged: report.incidentSummary.acknowledged,
      mtta_seconds: nullableSeconds(report.incidentSummary.mttaMs),
      resolved: report.incidentSummary.resolved,
      mttr_seconds: nullableSeconds(report.incidentSummary.mttrMs),
    },
    incidents: report.incidents.map((i) => ({
      id: i.id,
      instances: i.instances.map((m) => ({ id: m.id, name: m.name })),
      started_at: i.start.toISOString(),
      resolved_at: iso(i.end),
      ongoing: i.end === null,
      duration_seconds: seconds(i.durationMs),
      acknowledged_at: iso(i.acknowledgedAt),
      acknowledged_by: i.acknowledgedBy,
      time_to_acknowledge_seconds: nullableSeconds(i.timeToAcknowledgeMs),
      in_maintenance: i.inMaintenance,
    })),
    maintenance: a.maintenance.map((w) => ({
      window_id: w.windowId,
      description: w.description,
      instance_id: w.instanceId,
      partner_id: w.partnerId,
      starts_at: w.start.toISOString(),
      ends_at: w.end.toISOString(),
    })),
    backups: report.backups.map((b) => ({
      config_id: b.configId,
      name: b.name,
      taken: b.taken,
      failed: b.failed,
      last_success_at: iso(b.lastSuccessAt),
      total_size: b.totalSize,
      drills_passed: b.drillsPassed,
      drills_failed: b.drillsFailed,
      last_drill_at: iso(b.lastDrillAt),
    })),
  };
}

/**
 * A customer's monthly report: availability of its instances (AvailabilityService of dead_mans_switch_server),
 * its backups and restore drills (BackupSummaryService of backup), and its sending to the customer's followers
 * (a chatter message on the customer with the report's own subtype and e-mail template).
 */
@Injectable()
export class CustomerReportService {
  private readonly logger = new Logger(CustomerReportService.name);

  constructor(
    @Inject(CustomerReportRepository) private readonly repository: CustomerReportRepository,
    @Inject(AvailabilityService) private readonly availability: AvailabilityService,
    @Inject(BackupSummaryService) private readonly backups: BackupSummaryService,
    @Inject(PartnersService) private readonly partners: PartnersService,
    @Inject(ChatterService) private readonly chatter: ChatterService,
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(Database) private readonly database: Database,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /** A customer (a company, not a contact); 404 otherwise. */
  private async customer(ctx: RequestContext, partnerId: number) {
    const partner = await this.partners.get(ctx, partnerId).catch(() => undefined);
    if (!partner || !partner.is_company || partner.parent_id !== null) throw notFound('partner', partnerId);
    return partner;
  }

  /** The month asked for, or by default the last complete one; a month that has not begun is refused. */
  private async period(partnerId: number, month: string | undefined): Promise<Period> {
    const timeZone = (await this.repository.timeZone(partnerId)) ?? DEFAULT_TIME_ZONE;
    const current = monthOf(this.clock.now(), timeZone);
    const wanted = month ?? previousMonth(current);
    if (!MONTH_PATTERN.test(wanted)) throw badRequest('customer_report.errors.bad_month', { month: wanted });
    if (wanted > current) throw badRequest('customer_report.errors.future_month', { month: wanted });
    return periodOf(wanted, timeZone);
  }

  async report(ctx: RequestContext, partnerId: number, month?: string): Promise<CustomerReport> {
    const customer = await this.customer(ctx, partnerId);
    return this.build({ id: customer.id, name: customer.name }, await this.period(partnerId, month));
  }

  private async build(customer: { id: number; name: string }, period: Period): Promise<CustomerReport> {
    const now = this.clock.now();
    const [history, configIds] = await Promise.all([
      this.availability.history(customer.id, period.from, period.to, now),
      this.repository.configIds(customer.id),
    ]);
    const figures = availability(history, period, now);
    const records = await this.availability.incidents(
      history.instances.map((i) => i.id),
      period.from,
      figures.until,
    );
    const { incidents, summary } = incidentFigures(records, history, period, figures.until);
    return {
      customer,
      period,
      availability: figures,
      incidents,
      incidentSummary: summary,
      backups: await this.backups.summaries(configIds, period.from, period.to),
    };
  }

  view(report: CustomerReport, lang: string): ReportView {
    return reportView(report, lang, this.i18n);
  }

  /** When the month's report was sent, if it was. */
  async sent(partnerId: number, month: string) {
    return this.repository.sent(partnerId, month);
  }

  // Settings (managers).

  async getSettings(ctx: RequestContext, partnerId: number): Promise<ReportSettings> {
    await this.customer(ctx, partnerId);
    return {
      partner_id: partnerId,
      time_zone: await this.repository.timeZone(partnerId),
      backup_config_ids: await this.repository.configIds(partnerId),
    };
  }

  async updateSettings(
    ctx: RequestContext,
    partnerId: number,
    changes: { time_zone?: string | null; backup_config_ids?: number[] },
  ): Promise<ReportSettings> {
    await this.customer(ctx, partnerId);
    if (changes.backup_config_ids) {
      const known = new Set((await this.backups.names()).map((c) => c.id));
      const unknown = changes.backup_config_ids.filter((id) => !known.has(id));
      if (unknown.length) throw notFound('backup.config', unknown[0]);
    }
    await this.database.transaction(async (manager) => {
      if (changes.time_zone !== undefined)
        await this.repository.setTimeZone(partnerId, changes.time_zone || null, manager);
      if (changes.backup_config_ids)
        await this.repository.setConfigIds(partnerId, [...new Set(changes.backup_config_ids)], manager);
    });
    return this.getSettings(ctx, partnerId);
  }

  /** Every backup configuration, to pick a customer's from. */
  backupConfigs() {
    return this.backups.names();
  }

  // Sending.

  /** Sends (again) a month's report to the customer's followers, on demand. */
  async send(ctx: RequestContext, partnerId: number, month?: string) {
    const customer = await this.customer(ctx, partnerId);
    const report = await this.build(
      { id: customer.id, name: customer.name },
      await this.period(partnerId, month),
    );
    const messageId = await this.database.transaction(async (manager) => {
      await this.repository.recordResend(partnerId, report.period.month, this.clock.now(), manager);
      return this.post(ctx, report, manager);
    });
    return { partner_id: partnerId, month: report.period.month, message_id: messageId };
  }

  /**
   * The scheduled task: for each customer whose send day (in its time zone) has come, or came at most
   * CATCH_UP_DAYS ago, the previous month's report unless it was sent already. The claim row and the message are
   * written in one transaction: whatever the number of replicas or overlapping runs, a month goes out once.
   * Returns how many reports this run sent.
   */
  async sendDue(now: Date): Promise<number> {
    if (!(await this.settings.get(REPORT_SETTINGS.monthlyEnabled))) return 0;
    const sendDay = await this.settings.get(REPORT_SETTINGS.sendDay);
    let sent = 0;
    for (const customer of await this.repository.customers()) {
      const timeZone = customer.time_zone ?? DEFAULT_TIME_ZONE;
      const day = dayOf(now, timeZone);
      if (day < sendDay || day > sendDay + CATCH_UP_DAYS) continue;
      const month = previousMonth(monthOf(now, timeZone));
      if (await this.repository.sent(customer.id, month)) continue;
      try {
        const report = await this.build({ id: customer.id, name: customer.name }, periodOf(month, timeZone));
        // Nothing to tell a customer with no monitored instance and no backup: no empty report in its mailbox.
        if (!report.availability.instances.length && !report.backups.length) continue;
        const posted = await this.database.transaction(async (manager) => {
          if (!(await this.repository.claim(customer.id, month, now, manager))) return false;
          await this.post(systemContext(), report, manager);
          return true;
        });
        if (posted) sent++;
      } catch (error) {
        // One customer's failure does not keep the others' reports back; the next run tries it again.
        this.logger.error(`Monthly report of customer ${customer.id} for ${month} failed: ${String(error)}`);
      }
    }
    return sent;
  }

  /** Posts the report on the customer: its followers get it by e-mail, rendered in each one's language. */
  private async post(ctx: RequestContext, report: CustomerReport, manager: EntityManager): Promise<number> {
    const [year, month] = report.period.month.split('-').map(Number);
    const args = {
      customer: report.customer.name,
      month: { key: `customer_report.months.${month}` },
      year: String(year),
    };
    const views = Object.fromEntries(this.i18n.languages.map((lang) => [lang, this.view(report, lang)]));
    const { id } = await this.chatter.post(
      ctx,
      { model: REPORT_MODEL, id: report.customer.id },
      {
        subtype: SUBTYPE_MONTHLY_REPORT,
        type: 'notification',
        subject: { key: 'customer_report.email.subject', args },
        body: { key: 'customer_report.email.body', args },
        template: 'customer_report/monthly_report',
        templateValues: { month: report.period.month, views },
      },
      manager,
    );
    await this.repository.setMessage(report.customer.id, report.period.month, id, manager);
    return id;
  }
}
