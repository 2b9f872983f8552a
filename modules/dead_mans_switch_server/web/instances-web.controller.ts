import { Body, Header, HttpCode, Inject, Param, ParseIntPipe, Post, Query, Req } from '@nestjs/common';
import {
  AppException,
  Clock,
  FieldException,
  notFound,
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
  WebRecordPanels,
  type RequestContext,
  type WebRedirect,
  type WebRequest,
} from '../../../src/index.js';
import { CHECKIN_TOKEN_HEADER } from '../checkin/checkin-token.js';
import { statusOf } from '../health/instance-health.js';
import { HEALTHS, INSTANCE_STATES } from '../instance.entity.js';
import { InstancesService } from '../instances/instances.service.js';
import { MaintenanceWindowsService } from '../maintenance/maintenance-windows.service.js';
import { canAcknowledge, IncidentsService } from '../incidents/incidents.service.js';
import { EscalationService } from '../incidents/escalation.service.js';
import { escalationRows } from '../incidents/incident.dto.js';
import { INSTANCE_MODEL } from '../settings.js';
import { InstanceDependenciesService } from '../dependencies/instance-dependencies.service.js';
import {
  DashboardQueryDto,
  DependencyFormDto,
  ExpectationFormDto,
  InstanceFormDto,
  InstancePageQueryDto,
  RANGES,
  WindowFormDto,
  type ChartRange,
} from './instance-web.dto.js';
import { zonedTimeToUtc } from './zoned-time.js';

const DAY_MS = 86_400_000;
const RANGE: Record<ChartRange, { ms: number; interval: 'raw' | 'hour' | 'day' }> = {
  '24h': { ms: DAY_MS, interval: 'raw' },
  '7d': { ms: 7 * DAY_MS, interval: 'hour' },
  '30d': { ms: 30 * DAY_MS, interval: 'day' },
};
/** Enough raw points for a day of check-ins every minute. */
const RAW_LIMIT = 2000;
/** Dashboard order: what needs someone first. */
const TRIAGE: Record<string, number> = { down: 0, late: 1 };

interface ChartPoint {
  at: number;
  cpu: number | null;
  ram: number | null;
  users: number | null;
}

/** "12 min", "3 h", "2 days" in the reader's language (Intl units, rounded to the largest unit that fits). */
export function humanDuration(seconds: number, lang: string): string {
  const [unit, size] =
    seconds >= 2 * 86_400
      ? (['day', 86_400] as const)
      : seconds >= 2 * 3600
        ? (['hour', 3600] as const)
        : seconds >= 60
          ? (['minute', 60] as const)
          : (['second', 1] as const);
  return new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay: 'short' }).format(
    Math.round(seconds / size),
  );
}

/**
 * Chart points in time order with a null point wherever two neighbours are further apart than `maxGapMs`
 * (no check-in for longer than expected, or a missing bucket): uPlot draws a gap there, not a line.
 */
function withGaps(points: ChartPoint[], maxGapMs: number, stepMs: number): ChartPoint[] {
  const out: ChartPoint[] = [];
  points.forEach((point, index) => {
    const previous = points[index - 1];
    if (previous && point.at - previous.at > maxGapMs)
      out.push({ at: previous.at + stepMs, cpu: null, ram: null, users: null });
    out.push(point);
  });
  return out;
}

/** Runs a change that takes a cron expression; a refused expression is that field's error. */
async function cronFieldError<T>(field: string, change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (error) {
    if (error instanceof AppException && error.key === 'dead_mans_switch_server.errors.bad_cron')
      throw new FieldException(field, error.key, error.args, error.getStatus());
    throw error;
  }
}

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
    @Inject(WebRecordPanels) private readonly panels: WebRecordPanels,
    @Inject(MaintenanceWindowsService) private readonly windows: MaintenanceWindowsService,
    @Inject(InstanceDependenciesService) private readonly dependencies: InstanceDependenciesService,
    @Inject(IncidentsService) private readonly incidents: IncidentsService,
    @Inject(EscalationService) private readonly escalation: EscalationService,
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
    const now = this.clock.now().getTime();
    // Down, then late, then the rest in the list's own order (Array.prototype.sort is stable).
    const triaged = page.items
      .map((instance) => ({ instance, status: statusOf(instance) }))
      .sort((a, b) => (TRIAGE[a.status] ?? 2) - (TRIAGE[b.status] ?? 2));
    return this.pages.render(request, ctx, 'dead_mans_switch_server/dashboard', {
      title: this.i18n.t('dead_mans_switch_server.web.dashboard.title', ctx.lang),
      instances: triaged.map(({ instance, status }) => ({
        ...instance,
        status,
        // How long it has been quiet beyond what is expected: "down since 12 min", "late by 3 min".
        overdue:
          status === 'down' || status === 'late' ? this.overdue(instance, status, now, ctx.lang) : undefined,
        expectedEvery: humanDuration(instance.alive_max_delay, ctx.lang),
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
  form(
    @Ctx() ctx: RequestContext,
    @Req() request: WebRequest,
    @Param('id', ParseIntPipe) id: number,
    @Query() query: InstancePageQueryDto,
  ) {
    return this.render(ctx, request, id, query);
  }

  /** A new check-in token is shown once, on the page this answer is (no redirect: the token is kept nowhere). */
  @Post(':id/token')
  @HttpCode(200)
  @RequireRole('manager')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async createToken(
    @Ctx() ctx: RequestContext,
    @Req() request: WebRequest,
    @Param('id', ParseIntPipe) id: number,
  ) {
    const { token } = await this.instances.createCheckInToken(ctx, id);
    return this.render(ctx, request, id, {}, token);
  }

  @WebForm(':id/token/delete')
  @RequireRole('manager')
  async removeToken(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number): Promise<WebRedirect> {
    await this.instances.removeCheckInToken(ctx, id);
    return { url: `/web/instances/${id}#instance-token` };
  }

  private async render(
    ctx: RequestContext,
    request: WebRequest,
    id: number,
    query: InstancePageQueryDto,
    newToken?: string,
  ) {
    const instance = await this.instances.get(ctx, id);
    const range = query.range ?? '24h';
    const timeZone = timeZoneOf(request);
    const manager = hasRole(ctx.user, 'manager');
    const now = this.clock.now();
    const [logs, chatter, customers, users, responsible] = await Promise.all([
      this.instances.logs(ctx, id, {
        interval: RANGE[range].interval,
        limit: RAW_LIMIT,
        from: new Date(now.getTime() - RANGE[range].ms).toISOString(),
        to: now.toISOString(),
        tz: timeZone,
      }),
      this.chatter.load(ctx, { model: INSTANCE_MODEL, id }),
      manager ? this.partners.list(ctx, { is_company: true, limit: 200, offset: 0 }) : undefined,
      manager ? this.users.list(ctx, 200, 0) : undefined,
      instance.user_id ? this.users.get(ctx, instance.user_id).catch(() => undefined) : undefined,
    ]);
    const [panels, windows, choices, openIncidents, escalation] = await Promise.all([
      this.panels.load(ctx, INSTANCE_MODEL, id),
      this.windows.list(ctx, { instance_id: id, limit: 100, offset: 0 }),
      this.dependencies.choices(),
      this.incidents.openOfInstance(ctx, id),
      this.escalation.instancePolicy(ctx, id),
    ]);
    const named = (ref: number | null) =>
      ref === null ? undefined : { id: ref, name: choices.find((c) => c.id === ref)?.name ?? `#${ref}` };
    const points = this.chartPoints(
      logs.items as unknown as Record<string, unknown>[],
      range,
      instance.alive_max_delay,
    );
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
      // What other addons show on the page (e.g. the instance's probes), each drawn by its own partial.
      panels,
      // The escalation policy in force, and three rows to edit the instance's own (one more than it has, at least).
      escalation,
      escalationRows: escalationRows(escalation.source === 'instance' ? escalation.steps : []),
      openIncidents: openIncidents.map((i) => ({
        ...i,
        canAcknowledge: !i.acknowledged_at && canAcknowledge(ctx),
      })),
      customers: customers?.items ?? [],
      users: users?.items.filter((u) => u.active) ?? [],
      chatter,
      ranges: RANGES.map((r) => ({ range: r, current: r === range })),
      range,
      chartData: {
        from: Math.floor((now.getTime() - RANGE[range].ms) / 1000),
        to: Math.floor(now.getTime() / 1000),
        times: points.map((p) => Math.floor(p.at / 1000)),
        timeZone,
        locale: ctx.lang,
        // The legend's name for the x values (uPlot's own is "Time", in English).
        timeLabel: this.i18n.t('dead_mans_switch_server.web.instance.chart_time', ctx.lang),
        series: [
          { id: 'chart-cpu', label: labels.cpu, values: points.map((p) => p.cpu) },
          { id: 'chart-ram', label: labels.ram, values: points.map((p) => p.ram) },
          { id: 'chart-users', label: labels.users, values: points.map((p) => p.users) },
        ],
      },
      labels,
      empty: points.length === 0,
      windows: windows.items.map((w) => ({
        ...w,
        own: w.instance_id === id,
        duration: w.duration_seconds ? humanDuration(w.duration_seconds, ctx.lang) : undefined,
      })),
      expectation: instance.expect_cron
        ? { grace: humanDuration(instance.expect_grace, ctx.lang), next: instance.next_deadline }
        : undefined,
      timeZone,
      expectTimeZone: instance.expect_time_zone ?? timeZone,
      timeZones: manager ? Intl.supportedValuesOf('timeZone') : [],
      canActivate: manager && instance.state !== 'active',
      canSuspend: manager && instance.state === 'active',
      newToken,
      tokenHeader: CHECKIN_TOKEN_HEADER,
      dependencyChoices: choices
        .filter((c) => c.id !== id)
        .map((c) => ({ ...c, selected: c.id === instance.depends_on_id })),
      dependsOn: named(instance.depends_on_id),
      suppressedBy: named(instance.suppressed_by_id),
      lastRun:
        instance.last_run_seconds === null ? undefined : humanDuration(instance.last_run_seconds, ctx.lang),
      runs: (instance.runs ?? []).map((r) => ({ ...r, duration: humanDuration(r.seconds, ctx.lang) })),
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

  /** The dependency and the job-run timing; a cycle or crossed bounds are the field's error. */
  @WebForm(':id/dependency')
  @RequireRole('manager')
  async setDependency(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: DependencyFormDto,
  ): Promise<WebRedirect> {
    try {
      await this.instances.update(ctx, id, {
        depends_on_id: form.depends_on_id ?? null,
        run_timeout: form.run_timeout ?? null,
        run_min_seconds: form.run_min_seconds ?? null,
        run_max_seconds: form.run_max_seconds ?? null,
      });
    } catch (error) {
      if (
        error instanceof AppException &&
        !(error instanceof FieldException) &&
        typeof error.args.field === 'string'
      )
        throw new FieldException(error.args.field, error.key, error.args, error.getStatus());
      throw error;
    }
    return { url: `/web/instances/${id}#instance-dependency-card` };
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

  @WebForm(':id/clear_copy')
  @RequireRole('manager')
  async clearCopy(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number): Promise<WebRedirect> {
    await this.instances.clearPossibleCopy(ctx, id);
    return { url: `/web/instances/${id}` };
  }

  @WebForm(':id/windows')
  @RequireRole('manager')
  async addWindow(
    @Ctx() ctx: RequestContext,
    @Req() request: WebRequest,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: WindowFormDto,
  ): Promise<WebRedirect> {
    const description = form.description || undefined;
    if (form.kind === 'once') {
      const required = (['starts_at', 'ends_at'] as const).find((field) => !form[field]);
      if (required) throw new FieldException(required, 'dead_mans_switch_server.web.required', {}, 400);
      // The reader typed wall-clock times in the time zone the page shows dates in.
      const zone = timeZoneOf(request);
      const starts = zonedTimeToUtc(form.starts_at!, zone);
      const ends = zonedTimeToUtc(form.ends_at!, zone);
      if (ends <= starts)
        throw new FieldException('ends_at', 'dead_mans_switch_server.web.windows.ends_before', {}, 400);
      await this.windows.create(ctx, {
        instance_id: id,
        description,
        starts_at: starts.toISOString(),
        ends_at: ends.toISOString(),
      });
    } else {
      const required = (['cron', 'duration_minutes'] as const).find((field) => !form[field]);
      if (required) throw new FieldException(required, 'dead_mans_switch_server.web.required', {}, 400);
      await cronFieldError('cron', () =>
        this.windows.create(ctx, {
          instance_id: id,
          description,
          cron: form.cron,
          duration_seconds: form.duration_minutes! * 60,
          time_zone: form.time_zone ?? 'UTC',
        }),
      );
    }
    return { url: `/web/instances/${id}#instance-windows` };
  }

  @WebForm(':id/windows/:windowId/delete')
  @RequireRole('manager')
  async deleteWindow(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Param('windowId', ParseIntPipe) windowId: number,
  ): Promise<WebRedirect> {
    // Only the instance's own windows are deleted from its page (a customer's or global one applies to others too).
    const { items } = await this.windows.list(ctx, { instance_id: id, limit: 100, offset: 0 });
    if (!items.some((w) => w.id === windowId && w.instance_id === id))
      throw notFound('dead_mans_switch.maintenance', windowId);
    await this.windows.remove(ctx, windowId);
    return { url: `/web/instances/${id}#instance-windows` };
  }

  @WebForm(':id/expectation')
  @RequireRole('manager')
  async setExpectation(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: ExpectationFormDto,
  ): Promise<WebRedirect> {
    await cronFieldError('expect_cron', () =>
      this.instances.update(ctx, id, {
        // Empty: check-ins are expected every alive_max_delay again.
        expect_cron: form.expect_cron || null,
        expect_time_zone: form.expect_cron ? form.expect_time_zone : undefined,
        expect_grace: form.expect_cron ? form.expect_grace : undefined,
      }),
    );
    return { url: `/web/instances/${id}#instance-expectation` };
  }

  /** The chart's points: raw check-ins over 24 h, hourly or daily averages beyond, with gaps as null points. */
  private chartPoints(
    items: Record<string, unknown>[],
    range: ChartRange,
    delaySeconds: number,
  ): ChartPoint[] {
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    if (RANGE[range].interval === 'raw') {
      const points = items
        .map((row) => ({
          at: new Date(row.received_at as string | Date).getTime(),
          cpu: num(row.cpu),
          ram: num(row.ram),
          users: num(row.user_count),
        }))
        .reverse();
      // Quiet for longer than the expected delay: a gap, not a straight line across it.
      return withGaps(points, delaySeconds * 1000, delaySeconds * 1000);
    }
    const step = RANGE[range].interval === 'hour' ? 3_600_000 : DAY_MS;
    const points = items.map((row) => ({
      at: new Date(row.start as string | Date).getTime(),
      cpu: num(row.cpu_avg),
      ram: num(row.ram_avg),
      users: num(row.user_count_avg),
    }));
    // A missing bucket (1.5 steps apart absorbs 23- and 25-hour days at DST changes) is a gap.
    return withGaps(points, step * 1.5, step);
  }

  /** How long since it turned late (1× the delay without check-in) or down (2×), in words. */
  private overdue(
    instance: { last_seen: Date | string | null; alive_max_delay: number },
    status: 'down' | 'late',
    now: number,
    lang: string,
  ): string | undefined {
    if (!instance.last_seen) return undefined;
    const since =
      new Date(instance.last_seen).getTime() + (status === 'down' ? 2 : 1) * instance.alive_max_delay * 1000;
    return humanDuration(Math.max(0, (now - since) / 1000), lang);
  }
}
