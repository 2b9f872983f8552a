import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { CheckStatus, EnvironmentReport, ReportTrigger } from '../../src/index.js';
import { PlatformReport } from './platform-report.entity.js';

export interface ReportFilter {
  from?: Date;
  to?: Date;
  /** The report's worst check status. */
  status?: CheckStatus;
  trigger?: ReportTrigger;
  limit: number;
  offset: number;
}

/** The worst status among a report's checks, in SQL over `cloud_platform_report r`. */
const REPORT_STATUS_SQL = `CASE
  WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(r.checks) c WHERE c->>'status' = 'fail') THEN 'fail'
  WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(r.checks) c WHERE c->>'status' = 'warn') THEN 'warn'
  ELSE 'ok' END`;

@Injectable()
export class PlatformReportRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async insert(report: EnvironmentReport, environmentId: number): Promise<number> {
    const result = await this.db.getRepository(PlatformReport).insert({
      checkedAt: report.checkedAt,
      environment: report.environment,
      environmentRaw: report.environmentRaw,
      version: report.version,
      trigger: report.trigger,
      ok: report.ok,
      unsafe: report.unsafe,
      checks: report.checks,
      environmentId,
    });
    return (result.identifiers[0] as { id: number }).id;
  }

  /** The newest report, from any replica or the CLI. */
  async latest(): Promise<EnvironmentReport | undefined> {
    const [row] = await this.db.getRepository(PlatformReport).find({
      order: { checkedAt: 'DESC', id: 'DESC' },
      take: 1,
    });
    return row ?? undefined;
  }

  /** When the environment's newest report was made, whatever made it. */
  async lastCheckedAt(environmentName: string): Promise<Date | undefined> {
    const rows = await this.db.query<{ checked_at: Date | null }[]>(
      `SELECT max(r.checked_at) AS checked_at FROM cloud_platform_report r
       JOIN cloud_platform_environment e ON e.id = r.environment_id WHERE e.name = $1`,
      [environmentName],
    );
    return rows[0]?.checked_at ?? undefined;
  }

  /** Reports, newest first, with their worst status. */
  async list(filter: ReportFilter): Promise<[(PlatformReport & { status: CheckStatus })[], number]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.from) add('r.checked_at >= ?', filter.from);
    if (filter.to) add('r.checked_at < ?', filter.to);
    if (filter.trigger) add('r.trigger = ?', filter.trigger);
    if (filter.status) add(`(${REPORT_STATUS_SQL}) = ?`, filter.status);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ total }] = await this.db.query<{ total: number }[]>(
      `SELECT count(*)::int AS total FROM cloud_platform_report r ${clause}`,
      params,
    );
    const rows = await this.db.query<
      {
        id: number;
        checked_at: Date;
        environment: PlatformReport['environment'];
        environment_raw: string;
        version: string;
        trigger: ReportTrigger;
        ok: boolean;
        unsafe: boolean;
        checks: PlatformReport['checks'];
        environment_id: number | null;
        status: CheckStatus;
      }[]
    >(
      `SELECT r.*, ${REPORT_STATUS_SQL} AS status FROM cloud_platform_report r ${clause}
       ORDER BY r.checked_at DESC, r.id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, filter.limit, filter.offset],
    );
    return [
      rows.map((r) => ({
        id: r.id,
        checkedAt: r.checked_at,
        environment: r.environment,
        environmentRaw: r.environment_raw,
        version: r.version,
        trigger: r.trigger,
        ok: r.ok,
        unsafe: r.unsafe,
        checks: r.checks,
        environmentId: r.environment_id,
        status: r.status,
      })),
      total,
    ];
  }
}
