import { Injectable, type OnModuleInit } from '@nestjs/common';
import { EnvironmentService, notFound, type RenderedReport, type RequestContext } from '../../src/index.js';
import { PlatformReportRepository } from './platform-report.repository.js';

/** Keeps every environment report core makes, and shows the last one to ops. */
@Injectable()
export class CloudPlatformService implements OnModuleInit {
  constructor(
    private readonly environment: EnvironmentService,
    private readonly reports: PlatformReportRepository,
  ) {}

  onModuleInit(): void {
    // Registered before the start-up checks run, so the start-up report is kept too.
    this.environment.onReport((report) => this.reports.insert(report));
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
}
