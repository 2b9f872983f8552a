import { Body, Inject, Param, ParseIntPipe, Query, Req } from '@nestjs/common';
import {
  Clock,
  Ctx,
  hasRole,
  I18nService,
  PartnersService,
  RequireRole,
  timeZoneOf,
  UsersService,
  WebChatterService,
  WebController,
  WebForm,
  WebPage,
  WebPageService,
  type RequestContext,
  type WebRedirect,
  type WebRequest,
} from '../../../src/index.js';
import { statusOf } from '../health/instance-health.js';
import { HEALTHS, INSTANCE_STATES } from '../instance.entity.js';
import { InstancesService } from '../instances/instances.service.js';
import { ProbeFormDto, probeFromForm } from '../probes/probe-form.dto.js';
import { ProbesService } from '../probes/probes.service.js';
import { INSTANCE_MODEL } from '../settings.js';
import {
  DashboardQueryDto,
  InstanceFormDto,
  InstancePageQueryDto,
  RANGES,
  type ChartRange,
} from './instance-web.dto.js';

const DAY_MS = 86_400_000;
const RANGE: Record<ChartRange, { ms: number; interval: 'hour' | 'day' }> = {
  '24h': { ms: DAY_MS, interval: 'hour' },
  '7d': { ms: 7 * DAY_MS, interval: 'hour' },
  '30d': { ms: 30 * DAY_MS, interval: 'day' },
};
/** The dashboard shows at most this many instances; the filters narrow it down. */
const DASHBOARD_LIMIT = 200;

/** The instances dashboard (home of the web UI) and the instance form. Rules live in InstancesService. */
@WebController('web/instances')
export class InstancesWebController {
  constructor(
    @Inject(InstancesService) private readonly instances: InstancesService,
    @Inject(PartnersService) private readonly partners: PartnersService,
    @Inject(UsersService) private readonly users: UsersService,
    @Inject(WebChatterService) private readonly chatter: WebChatterService,
    @Inject(WebPageService) private readonly pages: WebPageService,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ProbesService) private readonly probes: ProbesService,
  ) {}

  @WebPage()
  async dashboard(@Ctx() ctx: RequestContext, @Req() request: WebRequest, @Query() query: DashboardQueryDto) {
    const [page, counts, customers, users] = await Promise.all([
      this.instances.list(ctx, { ...query, limit: DASHBOARD_LIMIT, offset: 0 }),
      this.instances.countByHealth(ctx),
      this.partners.list(ctx, { is_company: true, limit: 200, offset: 0 }),
      this.users.list(ctx, 200, 0),
    ]);
    const sparklines = await this.instances.hourlyCpu(
      ctx,
      page.items.map((i) => i.id),
    );
    const names = new Map(users.items.map((u) => [u.id, u.name]));
    return this.pages.render(request, ctx, 'dead_mans_switch_server/dashboard', {
      title: this.i18n.t('dead_mans_switch_server.web.dashboard.title', ctx.lang),
      instances: page.items.map((instance) => ({
        ...instance,
        status: statusOf(instance),
        responsible: instance.user_id ? names.get(instance.user_id) : undefined,
        sparkline: sparklines.get(instance.id),
      })),
      total: page.total,
      truncated: page.total > page.items.length,
      counts: [...HEALTHS, 'new', 'suspended'].map((key) => ({ key, count: counts[key] ?? 0 })),
      filter: query,
      listView: query.view === 'list',
      healths: HEALTHS,
      states: INSTANCE_STATES,
      customers: customers.items,
      users: users.items.filter((u) => u.active),
      query: new URLSearchParams(
        Object.entries(query)
          .filter((e): e is [string, string] => e[1] !== undefined && e[0] !== 'view')
          .map(([k, v]): [string, string] => [k, String(v)]),
      ).toString(),
    });
  }

  @WebPage(':id')
  async form(
    @Ctx() ctx: RequestContext,
    @Req() request: WebRequest,
    @Param('id', ParseIntPipe) id: number,
    @Query() query: InstancePageQueryDto,
  ) {
    const instance = await this.instances.get(ctx, id);
    const range = query.range ?? '24h';
    const timeZone = timeZoneOf(request);
    const manager = hasRole(ctx.user, 'manager');
    const now = this.clock.now();
    const [logs, chatter, customers, users, responsible] = await Promise.all([
      this.instances.logs(ctx, id, {
        interval: RANGE[range].interval,
        from: new Date(now.getTime() - RANGE[range].ms).toISOString(),
        to: now.toISOString(),
        tz: timeZone,
      }),
      this.chatter.load(ctx, { model: INSTANCE_MODEL, id }),
      manager ? this.partners.list(ctx, { is_company: true, limit: 200, offset: 0 }) : undefined,
      manager ? this.users.list(ctx, 200, 0) : undefined,
      instance.user_id ? this.users.get(ctx, instance.user_id).catch(() => undefined) : undefined,
    ]);
    const probes = await this.probes.list(ctx, id);
    const buckets = logs.items as {
      start: Date | string;
      cpu_avg: number | null;
      ram_avg: number | null;
      user_count_avg: number | null;
    }[];
    const labels = {
      cpu: this.i18n.t('dead_mans_switch_server.web.instance.cpu', ctx.lang),
      ram: this.i18n.t('dead_mans_switch_server.web.instance.ram', ctx.lang),
      users: this.i18n.t('dead_mans_switch_server.web.instance.users', ctx.lang),
    };
    return this.pages.render(request, ctx, 'dead_mans_switch_server/instance', {
      title: instance.display_name,
      charts: true,
      instance: { ...instance, status: statusOf(instance) },
      responsible,
      probes,
      customers: customers?.items ?? [],
      users: users?.items.filter((u) => u.active) ?? [],
      chatter,
      ranges: RANGES.map((r) => ({ range: r, current: r === range })),
      range,
      chartData: {
        times: buckets.map((b) => Math.floor(new Date(b.start).getTime() / 1000)),
        timeZone,
        series: [
          { id: 'chart-cpu', label: labels.cpu, values: buckets.map((b) => b.cpu_avg) },
          { id: 'chart-ram', label: labels.ram, values: buckets.map((b) => b.ram_avg) },
          { id: 'chart-users', label: labels.users, values: buckets.map((b) => b.user_count_avg) },
        ],
      },
      labels,
      empty: buckets.length === 0,
      canActivate: manager && instance.state !== 'active',
      canSuspend: manager && instance.state === 'active',
    });
  }

  @WebForm(':id')
  @RequireRole('manager')
  async update(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: InstanceFormDto,
  ): Promise<WebRedirect> {
    // The form sends every field; one left as it was is not a change (a new customer then brings its account
    // manager as responsible, as through the API).
    const before = await this.instances.get(ctx, id);
    await this.instances.update(ctx, id, {
      partner_id: form.partner_id === before.partner_id ? undefined : form.partner_id,
      user_id: form.user_id === before.user_id ? undefined : form.user_id,
      description: form.description,
      alive_max_delay: form.alive_max_delay,
    });
    return { url: `/web/instances/${id}` };
  }

  @WebForm(':id/activate')
  @RequireRole('manager')
  async activate(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number): Promise<WebRedirect> {
    await this.instances.activate(ctx, id);
    return { url: `/web/instances/${id}` };
  }

  @WebForm(':id/suspend')
  @RequireRole('manager')
  async suspend(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number): Promise<WebRedirect> {
    await this.instances.suspend(ctx, id);
    return { url: `/web/instances/${id}` };
  }

  @WebForm(':id/probes')
  @RequireRole('manager')
  async addProbe(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: ProbeFormDto,
  ): Promise<WebRedirect> {
    await this.probes.create(ctx, id, probeFromForm(form));
    return { url: `/web/instances/${id}#instance-probes` };
  }

  @WebForm(':id/probes/:probeId/delete')
  @RequireRole('manager')
  async deleteProbe(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Param('probeId', ParseIntPipe) probeId: number,
  ): Promise<WebRedirect> {
    await this.probes.deleteFromInstance(ctx, id, probeId);
    return { url: `/web/instances/${id}#instance-probes` };
  }
}
