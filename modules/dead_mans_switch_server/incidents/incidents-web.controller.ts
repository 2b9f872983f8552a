import { Body, Inject, Param, ParseIntPipe, Query, Req } from '@nestjs/common';
import {
  badRequest,
  Ctx,
  I18nService,
  RequireRole,
  WebController,
  WebForm,
  WebPage,
  WebPageService,
  type RequestContext,
  type WebRedirect,
  type WebRequest,
} from '../../../src/index.js';
import { humanDuration } from '../web/instances-web.controller.js';
import { escalationFromForm, ListIncidentsQueryDto, type IncidentResponse } from './incident.dto.js';
import { EscalationService } from './escalation.service.js';
import { canAcknowledge, IncidentsService } from './incidents.service.js';

/** The incidents pages: the list (open first) and one incident with its Acknowledge button. */
@WebController('web/incidents')
export class IncidentsWebController {
  constructor(
    @Inject(IncidentsService) private readonly incidents: IncidentsService,
    @Inject(WebPageService) private readonly pages: WebPageService,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(EscalationService) private readonly escalation: EscalationService,
  ) {}

  @WebPage()
  async list(@Ctx() ctx: RequestContext, @Req() request: WebRequest, @Query() query: ListIncidentsQueryDto) {
    const page = await this.incidents.list(ctx, query);
    return this.pages.render(request, ctx, 'dead_mans_switch_server/incidents', {
      title: this.i18n.t('dead_mans_switch_server.incidents.web.title', ctx.lang),
      incidents: page.items.map((i) => this.view(ctx, i)),
      total: page.total,
      filter: query,
      states: ['open', 'closed'],
      next: page.offset + page.items.length < page.total ? page.offset + page.limit : undefined,
      previous: page.offset > 0 ? Math.max(0, page.offset - page.limit) : undefined,
      stateQuery: query.state ? `&state=${query.state}` : '',
    });
  }

  @WebPage(':id')
  async detail(
    @Ctx() ctx: RequestContext,
    @Req() request: WebRequest,
    @Param('id', ParseIntPipe) id: number,
  ) {
    const incident = await this.incidents.get(ctx, id);
    return this.pages.render(request, ctx, 'dead_mans_switch_server/incident', {
      title: this.i18n.t('dead_mans_switch_server.incidents.web.incident_title', ctx.lang, { id }),
      incident: this.view(ctx, incident),
    });
  }

  @WebForm(':id/acknowledge')
  async acknowledge(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number): Promise<WebRedirect> {
    await this.incidents.acknowledge(ctx, id);
    return { url: `/web/incidents/${id}` };
  }

  /** The instance page's escalation form: its own policy (no row: it follows its customer's). */
  @WebForm('instance/:id/escalation')
  @RequireRole('manager')
  async setEscalation(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: Record<string, unknown>,
  ): Promise<WebRedirect> {
    await this.escalation.setPolicy(ctx, { instanceId: id }, checkedPolicy(form));
    return { url: `/web/instances/${id}#escalation` };
  }

  /** The customer page's escalation panel: the policy of its instances without one of their own. */
  @WebForm('customer/:id/escalation')
  @RequireRole('manager')
  async setCustomerEscalation(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: Record<string, unknown>,
  ): Promise<WebRedirect> {
    await this.escalation.setPolicy(ctx, { partnerId: id }, checkedPolicy(form));
    return { url: `/web/customers/${id}#customer-escalation` };
  }

  private view(ctx: RequestContext, incident: IncidentResponse) {
    return {
      ...incident,
      open: incident.state === 'open',
      duration: humanDuration(incident.duration_seconds, ctx.lang),
      canAcknowledge: incident.state === 'open' && !incident.acknowledged_at && canAcknowledge(ctx),
    };
  }
}

/** An escalation form's policy; minutes that are not a whole number of at least 1 are refused. */
function checkedPolicy(form: Record<string, unknown> | undefined) {
  const policy = escalationFromForm(form ?? {});
  if (policy.steps.some((s) => !Number.isInteger(s.after_minutes) || s.after_minutes < 1))
    throw badRequest('dead_mans_switch_server.incidents.errors.bad_minutes');
  return policy;
}
