import { Inject, Query, Req } from '@nestjs/common';
import {
  Ctx,
  hasRole,
  I18nService,
  RequireRole,
  WebChatterService,
  WebController,
  WebForm,
  WebPage,
  WebPageService,
  type RequestContext,
  type WebRedirect,
  type WebRequest,
} from '../../../src/index.js';
import { CloudPlatformService } from '../cloud-platform.service.js';
import { PlatformEnvironmentService } from '../platform-environment.service.js';
import type { ReportResponse } from '../reports.dto.js';
import { ENVIRONMENT_MODEL } from '../settings.js';
import { EnvironmentPageQueryDto } from './environment-web.dto.js';

/** Past reports per page of the history. */
const HISTORY_PAGE = 20;

/** What changed in a report since the one before it: each check whose status differs. */
function changesSince(report: ReportResponse, previous: ReportResponse | undefined) {
  if (!previous) return [];
  const before = new Map(previous.checks.map((c) => [c.id, c.status]));
  return report.checks
    .filter((c) => (before.get(c.id) ?? 'ok') !== c.status)
    .map((c) => ({ id: c.id, from: before.get(c.id) ?? 'ok', to: c.status, message: c.message }));
}

/** The environment report page (ops, admin) and, for administrators, running the checks again. */
@WebController('web/environment')
@RequireRole('ops')
export class EnvironmentWebController {
  constructor(
    @Inject(CloudPlatformService) private readonly platform: CloudPlatformService,
    @Inject(PlatformEnvironmentService) private readonly environments: PlatformEnvironmentService,
    @Inject(WebChatterService) private readonly chatter: WebChatterService,
    @Inject(WebPageService) private readonly pages: WebPageService,
    @Inject(I18nService) private readonly i18n: I18nService,
  ) {}

  @WebPage()
  async page(
    @Ctx() ctx: RequestContext,
    @Req() request: WebRequest,
    @Query() query: EnvironmentPageQueryDto,
  ) {
    const environmentId = await this.environments.currentId();
    const offset = query.offset ?? 0;
    // One more than shown: the last row's changes are counted against the report before it.
    const history = await this.platform.list(ctx, {
      limit: HISTORY_PAGE + 1,
      offset,
      status: query.status,
    });
    const shown = history.items.slice(0, HISTORY_PAGE);
    // The query string of another page of the history, keeping the filter.
    const pageLink = (pageOffset: number) =>
      new URLSearchParams({
        ...(query.status ? { status: query.status } : {}),
        offset: String(pageOffset),
      }).toString();
    return this.pages.render(request, ctx, 'cloud_platform/environment', {
      title: this.i18n.t('cloud_platform.web.title', ctx.lang),
      report: await this.platform.status(ctx),
      // The environment is a thread that ops follow: its status changes are posted there.
      chatter: environmentId
        ? await this.chatter.load(ctx, { model: ENVIRONMENT_MODEL, id: environmentId })
        : undefined,
      canCheck: hasRole(ctx.user, 'admin'),
      history: shown.map((report, index) => ({
        ...report,
        counts: {
          fail: report.checks.filter((c) => c.status === 'fail').length,
          warn: report.checks.filter((c) => c.status === 'warn').length,
          total: report.checks.length,
        },
        problems: report.checks.filter((c) => c.status !== 'ok'),
        // Against the next older report of the list; with a status filter, the one before it in that list.
        changes: query.status ? [] : changesSince(report, history.items[index + 1]),
      })),
      historyTotal: history.total,
      historyFrom: history.total ? offset + 1 : 0,
      historyTo: offset + shown.length,
      statusFilter: query.status ?? '',
      statuses: ['ok', 'warn', 'fail'],
      newerLink: offset > 0 ? pageLink(Math.max(0, offset - HISTORY_PAGE)) : undefined,
      olderLink: offset + HISTORY_PAGE < history.total ? pageLink(offset + HISTORY_PAGE) : undefined,
    });
  }

  @WebForm('check')
  @RequireRole('admin')
  async check(@Ctx() ctx: RequestContext): Promise<WebRedirect> {
    await this.platform.check(ctx);
    return { url: '/web/environment' };
  }
}
