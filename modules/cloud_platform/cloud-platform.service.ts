import { Injectable, type OnModuleInit } from '@nestjs/common';
import {
  EnvironmentService,
  notFound,
  type Page,
  type RenderedReport,
  type RequestContext,
} from '../../src/index.js';
import { PlatformEnvironmentService } from './platform-environment.service.js';
import { PlatformReportRepository } from './platform-report.repository.js';
import type { ListReportsQueryDto, ReportResponse } from './reports.dto.js';

/** Keeps every environment report core makes, and shows them to ops. */
@Injectable()
export class CloudPlatformService implements OnModuleInit {
  constructor(
    private readonly environment: EnvironmentService,
    private readonly environments: PlatformEnvironmentService,
    private readonly reports: PlatformReportRepository,
  ) {}

  onModuleInit(): void {
    // Registered before the start-up checks run, so the start-up report is kept too (a refused start included).
    this.environment.onReport((report) => this.environments.record(report));
  }

  /** The last report, in the caller's language. */
  async status(ctx: RequestContext): Promise<RenderedReport> {
    const report = await this.reports.latest();
    if (!report) throw notFound('cloud_platform.report', 'latest');
    return this.environment.render(report, ctx.lang);
  }

  /** Runs every check now (kept like any other report) and returns it in the caller's language. */
  async check(ctx: RequestContext): Promise<RenderedReport> {
    return this.environment.render(await this.environment.run('manual'), ctx.lang);
  }

  /** The stored reports, newest first, in the caller's language. */
  async list(ctx: RequestContext, query: ListReportsQueryDto): Promise<Page<ReportResponse>> {
    const [rows, total] = await this.reports.list({
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      status: query.status,
      trigger: query.trigger,
      limit: query.limit,
      offset: query.offset,
    });
    return {
      items: rows.map((row) => {
        const rendered = this.environment.render(row, ctx.lang);
        return {
          id: row.id,
          environment_id: row.environmentId,
          environment: row.environment,
          environment_name: row.environmentRaw,
          version: row.version,
          trigger: row.trigger,
          status: row.status,
          ok: row.ok,
          unsafe: row.unsafe,
          checked_at: rendered.checked_at,
          checks: rendered.checks,
        };
      }),
      total,
      limit: query.limit,
      offset: query.offset,
    };
  }
}
