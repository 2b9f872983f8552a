import type { I18nService } from '../../src/index.js';
import type { CustomerReport } from './customer-report.service.js';

/** The texts of a report in one language: what the page and the e-mail show (numbers, dates and sizes formatted). */
export interface ReportView {
  customer: string;
  month: string;
  timeZone: string;
  from: string;
  until: string;
  complete: boolean;
  uptime: string;
  downtime: string;
  maintenanceDowntime: string;
  monitored: boolean;
  instances: {
    name: string;
    uptime: string;
    downtime: string;
    maintenanceDowntime: string;
    outages: number;
    monitoredFrom: string;
    monitoredTo: string;
    partial: boolean;
  }[];
  incidentSummary: { count: number; ongoing: number; mtta: string; mttr: string };
  incidents: {
    instances: string;
    start: string;
    end: string;
    ongoing: boolean;
    duration: string;
    acknowledged: boolean;
    acknowledgedBy: string;
    acknowledgedAt: string;
    timeToAcknowledge: string;
    inMaintenance: boolean;
  }[];
  maintenance: { description: string; start: string; end: string; scope: string }[];
  backups: {
    name: string;
    taken: number;
    failed: number;
    lastSuccess: string;
    totalSize: string;
    drillsPassed: number;
    drillsFailed: number;
    healthy: boolean;
  }[];
}

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;

/** Bytes as people read them (1 000-based units, as disks are sold), in a language. */
export function formatSize(bytes: number, lang: string): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return new Intl.NumberFormat(lang, {
    style: 'unit',
    unit: UNITS[unit],
    unitDisplay: 'short',
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}

/** The report's texts in `lang`: times in the report's time zone, percentages with two decimals. */
export function reportView(report: CustomerReport, lang: string, i18n: I18nService): ReportView {
  const t = (key: string, args = {}) => i18n.t(`customer_report.${key}`, lang, args);
  const timeZone = report.period.timeZone;
  const at = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone });
  const day = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone });
  const percent = (value: number | null) =>
    value === null
      ? t('no_data')
      : new Intl.NumberFormat(lang, {
          style: 'percent',
          minimumFractionDigits: 2,
          maximumFractionDigits: 2,
        }).format(value / 100);
  const duration = (ms: number) =>
    i18n.t('customer_report.duration', lang, { seconds: Math.round(ms / 1000) });
  const a = report.availability;
  const [year, month] = report.period.month.split('-').map(Number);
  const names = new Map(a.instances.map((i) => [i.id, i.name]));
  return {
    customer: report.customer.name,
    month: new Intl.DateTimeFormat(lang, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
      new Date(Date.UTC(year, month - 1, 15)),
    ),
    timeZone,
    from: at.format(report.period.from),
    until: at.format(a.until),
    complete: a.complete,
    uptime: percent(a.uptimePercent),
    downtime: duration(a.downtimeMs),
    maintenanceDowntime: duration(a.maintenanceDowntimeMs),
    monitored: a.instances.length > 0,
    instances: a.instances.map((i) => ({
      name: i.name,
      uptime: percent(i.uptimePercent),
      downtime: duration(i.downtimeMs),
      maintenanceDowntime: duration(i.maintenanceDowntimeMs),
      outages: i.outages,
      monitoredFrom: day.format(i.monitoredFrom),
      monitoredTo: day.format(new Date(i.monitoredTo.getTime() - 1)),
      partial: i.monitoredMs < a.until.getTime() - report.period.from.getTime(),
    })),
    incidentSummary: {
      count: report.incidentSummary.count,
      ongoing: report.incidentSummary.ongoing,
      mtta: report.incidentSummary.mttaMs === null ? t('no_data') : duration(report.incidentSummary.mttaMs),
      mttr: report.incidentSummary.mttrMs === null ? t('no_data') : duration(report.incidentSummary.mttrMs),
    },
    incidents: report.incidents.map((i) => ({
      instances: i.instances.map((m) => m.name).join(', '),
      start: at.format(i.start),
      end: i.end ? at.format(i.end) : t('incident_ongoing'),
      ongoing: i.end === null,
      duration: duration(i.durationMs),
      acknowledged: i.acknowledgedAt !== null,
      acknowledgedBy: i.acknowledgedBy ?? '',
      acknowledgedAt: i.acknowledgedAt ? at.format(i.acknowledgedAt) : '',
      timeToAcknowledge: i.timeToAcknowledgeMs === null ? '' : duration(i.timeToAcknowledgeMs),
      inMaintenance: i.inMaintenance,
    })),
    maintenance: a.maintenance.map((w) => ({
      description: w.description ?? t('maintenance_default'),
      start: at.format(w.start),
      end: at.format(w.end),
      scope:
        w.instanceId !== null
          ? (names.get(w.instanceId) ?? t('instance_number', { id: w.instanceId }))
          : w.partnerId !== null
            ? t('scope_customer')
            : t('scope_global'),
    })),
    backups: report.backups.map((b) => ({
      name: b.name,
      taken: b.taken,
      failed: b.failed,
      lastSuccess: b.lastSuccessAt ? at.format(b.lastSuccessAt) : t('never'),
      totalSize: formatSize(b.totalSize, lang),
      drillsPassed: b.drillsPassed,
      drillsFailed: b.drillsFailed,
      healthy: b.failed === 0 && b.drillsFailed === 0 && b.taken > 0,
    })),
  };
}
