import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AppException,
  ChatterService,
  Clock,
  badRequest,
  conflict,
  Database,
  notFound,
  PartnersService,
  UsersService,
  type Page,
  type RequestContext,
} from '../../../src/index.js';
import { coveredUntil, deadlineAfter, nextDeadline, scheduleOf } from '../health/instance-health.js';
import { InstanceAlertsService } from '../instance-alerts.service.js';
import type { Instance, InstanceState } from '../instance.entity.js';
import { INSTANCE_MODEL } from '../settings.js';
import { CHECKIN_TOKEN_HEADER, hashCheckInToken, newCheckInToken } from '../checkin/checkin-token.js';
import {
  toInstanceResponse,
  type CheckInTokenResponse,
  type InstanceLogsQueryDto,
  type InstanceResponse,
  type ListInstancesQueryDto,
  type UpdateInstanceDto,
} from './instance.dto.js';
import { InstancesRepository, type LogBucket } from './instances.repository.js';
import { IgnoredStatisticsService } from '../checkin/ignored-statistics.service.js';
import { MaintenanceWindowsService } from '../maintenance/maintenance-windows.service.js';
import { InstanceDependenciesService } from '../dependencies/instance-dependencies.service.js';
import { JobRunsService } from '../runs/job-runs.service.js';
import { InstanceFields } from './instance-fields.js';
import { IncidentsService } from '../incidents/incidents.service.js';

const DAY_MS = 86_400_000;
/** Longest time range per log interval: enough for any chart, bounded for the database. */
const MAX_RANGE_MS = { raw: 366 * DAY_MS, hour: 93 * DAY_MS, day: 3700 * DAY_MS };
const DEFAULT_RANGE_MS = { raw: DAY_MS, hour: DAY_MS, day: 30 * DAY_MS };

export interface InstanceLogs {
  interval: 'raw' | 'hour' | 'day';
  from: string;
  to: string;
  time_zone: string;
  items: LogBucket[] | Record<string, unknown>[];
}

/** Managing instances: reading them with their health, assigning them, activating and suspending them. */
@Injectable()
export class InstancesService {
  constructor(
    @Inject(InstancesRepository) private readonly instances: InstancesRepository,
    @Inject(InstanceAlertsService) private readonly alerts: InstanceAlertsService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(MaintenanceWindowsService) private readonly maintenance: MaintenanceWindowsService,
    @Inject(Database) private readonly database: Database,
    @Inject(InstanceFields) private readonly fields: InstanceFields,
    @Inject(IgnoredStatisticsService) private readonly ignoredStatistics: IgnoredStatisticsService,
    @Inject(PartnersService) private readonly partners: PartnersService,
    @Inject(UsersService) private readonly users: UsersService,
    @Inject(ChatterService) private readonly chatter: ChatterService,
    @Inject(InstanceDependenciesService) private readonly dependencies: InstanceDependenciesService,
    @Inject(JobRunsService) private readonly runs: JobRunsService,
    @Inject(IncidentsService) private readonly incidents: IncidentsService,
  ) {}

  async list(_ctx: RequestContext, query: ListInstancesQueryDto): Promise<Page<InstanceResponse>> {
    const open = await this.maintenance.openAt(this.clock.now());
    const { items, total } = await this.instances.list(
      {
        state: query.state,
        health: query.health,
        partnerId: query.partner_id,
        userId: query.user_id,
        q: query.q,
        limit: query.limit,
        offset: query.offset,
      },
      this.clock.now(),
    );
    const fields = await this.fields.load(items.map((row) => row.id));
    return {
      items: items.map((row) => ({
        ...toInstanceResponse(row, coveredUntil({ id: row.id, partnerId: row.partner_id }, open)),
        ...fields.get(row.id),
      })),
      total,
      limit: query.limit,
      offset: query.offset,
    };
  }

  /** How many instances are up, late, down (active ones) and new or suspended. */
  async countByHealth(_ctx: RequestContext): Promise<Record<string, number>> {
    return this.instances.countByHealth(this.clock.now());
  }

  /** Each instance's average CPU per hour over the last `hours` hours, oldest first (null for an hour without check-in). */
  async hourlyCpu(_ctx: RequestContext, ids: number[], hours = 24): Promise<Map<number, (number | null)[]>> {
    const now = this.clock.now();
    const end = Math.floor(now.getTime() / 3_600_000) * 3_600_000 + 3_600_000;
    const from = new Date(end - hours * 3_600_000);
    const rows = await this.instances.hourlyCpu(ids, from, new Date(end));
    const series = new Map(ids.map((id) => [id, new Array<number | null>(hours).fill(null)]));
    for (const row of rows) {
      const index = Math.floor((new Date(row.hour).getTime() - from.getTime()) / 3_600_000);
      const values = series.get(row.instance_id);
      if (values && index >= 0 && index < hours) values[index] = row.cpu;
    }
    return series;
  }

  async get(ctx: RequestContext, id: number): Promise<InstanceResponse> {
    const now = this.clock.now();
    const row = await this.instances.findRow(id, now);
    if (!row) throw notFound(INSTANCE_MODEL, id);
    const open = await this.maintenance.openAt(now);
    const fields = (await this.fields.load([id])).get(id);
    const children = (await this.dependencies.suppressedChildren([id])).get(id) ?? [];
    return {
      ...toInstanceResponse(row, coveredUntil({ id: row.id, partnerId: row.partner_id }, open)),
      ...fields,
      suppressed_children: children.map((c) => ({
        id: c.id,
        display_name: c.name,
        since: c.since ? c.since.toISOString() : null,
      })),
      runs: (await this.runs.recent(ctx, id)).map((r) => ({
        started_at: r.started_at.toISOString(),
        finished_at: r.finished_at.toISOString(),
        seconds: r.seconds,
      })),
      ignored_statistics: await this.ignoredStatistics.list(id, ctx.lang),
    };
  }

  async update(ctx: RequestContext, id: number, dto: UpdateInstanceDto): Promise<InstanceResponse> {
    await this.change(ctx, id, async (before, manager) => {
      const after: Instance = { ...before };
      if (dto.partner_id !== undefined && dto.partner_id !== before.partnerId) {
        after.partnerId = dto.partner_id;
        if (dto.partner_id !== null) {
          const partner = await this.partners.reference(dto.partner_id, manager);
          if (!partner)
            throw badRequest('core.errors.unknown_reference', { field: 'partner_id', id: dto.partner_id });
          if (!partner.isCompany)
            throw badRequest('dead_mans_switch_server.errors.customer_not_company', { id: dto.partner_id });
          // Odoo's onchange: a new customer brings its account manager as the responsible user.
          if (dto.user_id === undefined && partner.userId !== null) after.userId = partner.userId;
        }
      }
      if (dto.user_id !== undefined) {
        if (dto.user_id !== null && !(await this.users.isActive(dto.user_id, manager)))
          throw badRequest('core.errors.unknown_reference', { field: 'user_id', id: dto.user_id });
        after.userId = dto.user_id;
      }
      if (dto.description !== undefined) after.description = dto.description?.trim() || null;
      if (dto.alive_max_delay !== undefined) after.aliveMaxDelay = dto.alive_max_delay;
      if (dto.expect_cron !== undefined) {
        const cron = dto.expect_cron?.trim() || null;
        after.expectCron = cron;
        after.expectTimeZone = cron ? (dto.expect_time_zone ?? before.expectTimeZone ?? 'UTC') : null;
      } else if (dto.expect_time_zone !== undefined && after.expectCron)
        after.expectTimeZone = dto.expect_time_zone;
      if (dto.expect_grace !== undefined) after.expectGrace = dto.expect_grace;
      if (dto.depends_on_id !== undefined && dto.depends_on_id !== before.dependsOnId) {
        // Refused with the cycle named, under the dependencies' lock (two edits cannot close one together).
        if (dto.depends_on_id !== null)
          await this.dependencies.checkDependsOn(id, dto.depends_on_id, manager);
        after.dependsOnId = dto.depends_on_id;
      }
      if (dto.run_timeout !== undefined) after.runTimeout = dto.run_timeout;
      if (dto.run_min_seconds !== undefined) after.runMinSeconds = dto.run_min_seconds;
      if (dto.run_max_seconds !== undefined) after.runMaxSeconds = dto.run_max_seconds;
      if (
        after.runMinSeconds !== null &&
        after.runMaxSeconds !== null &&
        after.runMinSeconds > after.runMaxSeconds
      )
        throw badRequest('dead_mans_switch_server.errors.run_bounds', {
          field: 'run_min_seconds',
          min: after.runMinSeconds,
          max: after.runMaxSeconds,
        });
      // Refused here with a message, rather than by the watchdog later.
      if (after.expectCron) scheduleOf(after.expectCron, after.expectTimeZone ?? 'UTC', 'expect_cron');
      const timing = ['alive_max_delay', 'expect_cron', 'expect_time_zone', 'expect_grace'] as const;
      if (after.state === 'active' && timing.some((field) => dto[field] !== undefined))
        after.nextDeadline = nextDeadline(after, this.clock.now());
      return after;
    });
    return this.get(ctx, id);
  }

  /** new → active and suspended → active. The watchdog starts from a fresh deadline. */
  async activate(ctx: RequestContext, id: number): Promise<InstanceResponse> {
    await this.change(ctx, id, (before) => {
      if (before.state === 'active') throw this.wrongState(before.state, 'active');
      const now = this.clock.now();
      return Promise.resolve({
        ...before,
        state: 'active' as const,
        alertState: 'ok' as const,
        cancelledAt: null,
        nextDeadline: deadlineAfter(before, now),
      });
    });
    return this.get(ctx, id);
  }

  /** active → suspended: no health, no alerts until it is activated again. */
  async suspend(ctx: RequestContext, id: number): Promise<InstanceResponse> {
    await this.change(ctx, id, (before) => {
      if (before.state !== 'active') throw this.wrongState(before.state, 'suspended');
      return Promise.resolve({ ...before, state: 'suspended' as const, alertState: 'ok' as const });
    });
    return this.get(ctx, id);
  }

  /**
   * Gives the instance a new check-in token (replacing any previous one, which stops working at once) and returns
   * it: the only time it is shown. An internal note in the chatter says who did it.
   */
  async createCheckInToken(ctx: RequestContext, id: number): Promise<CheckInTokenResponse> {
    const token = newCheckInToken();
    await this.setCheckInToken(
      ctx,
      id,
      hashCheckInToken(token),
      'dead_mans_switch_server.token.created_note',
    );
    return { token, header: CHECKIN_TOKEN_HEADER, instance: await this.get(ctx, id) };
  }

  /** Removes the instance's check-in token: its check-ins need none again. */
  async removeCheckInToken(ctx: RequestContext, id: number): Promise<InstanceResponse> {
    const before = await this.get(ctx, id);
    if (before.has_checkin_token)
      await this.setCheckInToken(ctx, id, null, 'dead_mans_switch_server.token.removed_note');
    return this.get(ctx, id);
  }

  /**
   * Clears the possible-copy flag (the copy got a new uuid, or it was a false alarm): a new interleaving flags it
   * again. An internal note in the chatter says who did it.
   */
  async clearPossibleCopy(ctx: RequestContext, id: number): Promise<InstanceResponse> {
    const before = await this.get(ctx, id);
    if (before.possible_copy_since)
      await this.database.transaction(async (manager) => {
        if (!(await this.instances.clearPossibleCopy(id, this.clock.now(), manager)))
          throw notFound(INSTANCE_MODEL, id);
        await this.chatter.log(
          ctx,
          { model: INSTANCE_MODEL, id },
          { body: { key: 'dead_mans_switch_server.possible_copy.cleared_note' } },
          manager,
        );
      });
    return this.get(ctx, id);
  }

  private async setCheckInToken(ctx: RequestContext, id: number, hash: Buffer | null, note: string) {
    await this.database.transaction(async (manager) => {
      if (!(await this.instances.setCheckInTokenHash(id, hash, this.clock.now(), manager)))
        throw notFound(INSTANCE_MODEL, id);
      await this.chatter.log(ctx, { model: INSTANCE_MODEL, id }, { body: { key: note } }, manager);
    });
  }

  async logs(ctx: RequestContext, id: number, query: InstanceLogsQueryDto): Promise<InstanceLogs> {
    await this.get(ctx, id);
    const interval = query.interval ?? 'hour';
    const to = query.to ? new Date(query.to) : this.clock.now();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - DEFAULT_RANGE_MS[interval]);
    if (from >= to) throw badRequest('dead_mans_switch_server.errors.bad_range');
    if (to.getTime() - from.getTime() > MAX_RANGE_MS[interval])
      throw badRequest('dead_mans_switch_server.errors.range_too_long', {
        days: Math.floor(MAX_RANGE_MS[interval] / DAY_MS),
        interval,
      });
    const timeZone = query.tz ?? 'UTC';
    const items =
      interval === 'raw'
        ? await this.instances.rawLogs(id, from, to, query.limit ?? 500)
        : await this.instances.aggregatedLogs(id, interval, from, to, timeZone);
    return { interval, from: from.toISOString(), to: to.toISOString(), time_zone: timeZone, items };
  }

  /**
   * One management change: the row is locked, the new values are written only if the state is still the one
   * read (compare-and-set), and the tracked fields are logged in the chatter, all in one transaction.
   */
  private async change(
    ctx: RequestContext,
    id: number,
    decide: (before: Instance, manager: EntityManager) => Promise<Instance>,
  ): Promise<void> {
    await this.database.transaction(async (manager) => {
      const before = await this.instances.findForUpdate(id, manager);
      if (!before) throw notFound(INSTANCE_MODEL, id);
      const after = await decide(before, manager);
      const changed = await this.instances.compareAndSet(before, after, this.clock.now(), manager);
      if (!changed) throw new AppException(HttpStatus.CONFLICT, 'dead_mans_switch_server.errors.changed');
      await this.alerts.track(ctx, before, after, manager);
      // No longer watched: its open incidents close now rather than stay open (and escalate again on activation).
      if (before.state === 'active' && after.state !== 'active')
        await this.incidents.monitoringStopped(id, this.clock.now(), manager);
    });
  }

  private wrongState(state: InstanceState, target: InstanceState) {
    return conflict('dead_mans_switch_server.errors.wrong_state', { state, target });
  }
}
