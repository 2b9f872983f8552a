import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Body, Get, Header, Inject, Param, ParseIntPipe, Query, Req } from '@nestjs/common';
import {
  Ctx,
  hasRole,
  I18nService,
  PROJECT_ROOT,
  RequireRole,
  WebController,
  WebForm,
  WebPage,
  WebPageService,
  type RequestContext,
  type WebRedirect,
  type WebRequest,
} from '../../src/index.js';
import { CustomerReportService } from './customer-report.service.js';
import { ReportMonthQueryDto, ReportSettingsFormDto, SendFormDto } from './customer-report.dto.js';
import { previousMonth } from './report.js';

const STYLESHEET = join(PROJECT_ROOT, 'modules', 'customer_report', 'web', 'assets', 'customer-report.css');

/** The month after `month` (`YYYY-MM`). */
function nextMonth(month: string): string {
  const [year, m] = month.split('-').map(Number);
  return m === 12 ? `${year + 1}-01` : `${year}-${String(m + 1).padStart(2, '0')}`;
}

/** The report page of a customer (viewers), printable, and its managers' forms: send now, settings. */
@WebController('web/customers')
export class CustomerReportWebController {
  private stylesheet?: string;

  constructor(
    @Inject(CustomerReportService) private readonly reports: CustomerReportService,
    @Inject(WebPageService) private readonly pages: WebPageService,
    @Inject(I18nService) private readonly i18n: I18nService,
  ) {}

  @Get('report/customer-report.css')
  @RequireRole('viewer')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'private, max-age=3600')
  css(): string {
    this.stylesheet ??= readFileSync(STYLESHEET, 'utf8');
    return this.stylesheet;
  }

  @WebPage(':id/report')
  @RequireRole('viewer')
  async page(
    @Ctx() ctx: RequestContext,
    @Req() request: WebRequest,
    @Param('id', ParseIntPipe) id: number,
    @Query() query: ReportMonthQueryDto,
  ) {
    const report = await this.reports.report(ctx, id, query.month);
    const lang = request.lang ?? 'en';
    const view = this.reports.view(report, lang);
    const month = report.period.month;
    const manager = hasRole(ctx.user, 'manager');
    const [sent, settings, configs] = await Promise.all([
      this.reports.sent(id, month),
      manager ? this.reports.getSettings(ctx, id) : undefined,
      manager ? this.reports.backupConfigs() : [],
    ]);
    return this.pages.render(request, ctx, 'customer_report/report', {
      title: this.i18n.t('customer_report.title', lang, { customer: view.customer, month: view.month }),
      customerId: id,
      month,
      previous: previousMonth(month),
      next: report.availability.complete ? nextMonth(month) : null,
      report: view,
      sent: sent && {
        at: new Intl.DateTimeFormat(lang, {
          dateStyle: 'medium',
          timeStyle: 'short',
          timeZone: report.period.timeZone,
        }).format(new Date(sent.last_sent_at)),
        sends: sent.sends,
      },
      settings: settings && {
        timeZone: settings.time_zone ?? '',
        configs: configs.map((c) => ({ ...c, checked: settings.backup_config_ids.includes(c.id) })),
      },
    });
  }

  @WebForm(':id/report/send')
  @RequireRole('manager')
  async send(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: SendFormDto,
  ): Promise<WebRedirect> {
    await this.reports.send(ctx, id, form.month);
    return { url: `/web/customers/${id}/report?month=${form.month}` };
  }

  @WebForm(':id/report/settings')
  @RequireRole('manager')
  async settings(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: ReportSettingsFormDto,
    @Query() query: ReportMonthQueryDto,
  ): Promise<WebRedirect> {
    await this.reports.updateSettings(ctx, id, {
      time_zone: form.time_zone ?? null,
      backup_config_ids: form.backup_config_ids ?? [],
    });
    return { url: `/web/customers/${id}/report${query.month ? `?month=${query.month}` : ''}` };
  }
}
