import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { badRequest, Clock, notFound, type Page, type RequestContext } from '../../../src/index.js';
import { coveredUntil, openUntil, scheduleOf, type OpenWindow } from '../health/instance-health.js';
import type { MaintenanceWindow } from '../maintenance-window.entity.js';
import {
  toWindowResponse,
  type CreateMaintenanceWindowDto,
  type ListMaintenanceWindowsQueryDto,
  type MaintenanceWindowResponse,
} from './maintenance-window.dto.js';
import { MaintenanceWindowsRepository, type ScheduledWindow } from './maintenance-windows.repository.js';

const MODEL = 'dead_mans_switch.maintenance';

/** Maintenance windows: managed through the API, read by the watchdog (no down alert while one is open). */
@Injectable()
export class MaintenanceWindowsService {
  constructor(
    @Inject(MaintenanceWindowsRepository) private readonly windows: MaintenanceWindowsRepository,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /** The newest window's id, in the caller's transaction: where a reader of new windows starts. */
  lastWindowId(manager: EntityManager): Promise<number> {
    return this.windows.lastId(manager);
  }

  /**
   * Windows created after `afterId` (oldest first, at least `limit`), in the caller's transaction, and the recent
   * ones (after `recentSince`) just before it again: readers dedupe.
   */
  createdAfter(
    afterId: number,
    limit: number,
    recentSince: Date,
    manager: EntityManager,
  ): Promise<ScheduledWindow[]> {
    return this.windows.createdAfter(afterId, limit, recentSince, manager);
  }

  async create(_ctx: RequestContext, dto: CreateMaintenanceWindowDto): Promise<MaintenanceWindowResponse> {
    if (dto.instance_id !== undefined && dto.partner_id !== undefined)
      throw badRequest('dead_mans_switch_server.errors.window_scope');
    if (dto.instance_id !== undefined && !(await this.windows.instanceExists(dto.instance_id)))
      throw badRequest('core.errors.unknown_reference', { field: 'instance_id', id: dto.instance_id });
    if (dto.partner_id !== undefined) {
      const company = await this.windows.partnerIsCompany(dto.partner_id);
      if (company === undefined)
        throw badRequest('core.errors.unknown_reference', { field: 'partner_id', id: dto.partner_id });
      if (!company)
        throw badRequest('dead_mans_switch_server.errors.customer_not_company', { id: dto.partner_id });
    }
    const oneOff = dto.starts_at !== undefined || dto.ends_at !== undefined;
    const recurring = dto.cron !== undefined || dto.duration_seconds !== undefined;
    if (oneOff === recurring) throw badRequest('dead_mans_switch_server.errors.window_kind');
    const base = {
      instanceId: dto.instance_id ?? null,
      partnerId: dto.partner_id ?? null,
      description: dto.description?.trim() || null,
      createdAt: this.clock.now(),
    };
    let window: Omit<MaintenanceWindow, 'id'>;
    if (oneOff) {
      if (!dto.starts_at || !dto.ends_at || new Date(dto.starts_at) >= new Date(dto.ends_at))
        throw badRequest('dead_mans_switch_server.errors.window_kind');
      window = {
        ...base,
        startsAt: new Date(dto.starts_at),
        endsAt: new Date(dto.ends_at),
        cron: null,
        durationSeconds: null,
        timeZone: null,
      };
    } else {
      if (!dto.cron || !dto.duration_seconds) throw badRequest('dead_mans_switch_server.errors.window_kind');
      const timeZone = dto.time_zone ?? 'UTC';
      scheduleOf(dto.cron, timeZone, 'cron');
      window = {
        ...base,
        startsAt: null,
        endsAt: null,
        cron: dto.cron.trim(),
        durationSeconds: dto.duration_seconds,
        timeZone,
      };
    }
    const saved = await this.windows.insert(window);
    return toWindowResponse(saved, openUntil(saved, this.clock.now()));
  }

  async list(
    _ctx: RequestContext,
    query: ListMaintenanceWindowsQueryDto,
  ): Promise<Page<MaintenanceWindowResponse>> {
    const now = this.clock.now();
    const { items, total } = await this.windows.list({
      instanceId: query.instance_id,
      partnerId: query.partner_id,
      limit: query.limit,
      offset: query.offset,
    });
    return {
      items: items.map((w) => toWindowResponse(w, openUntil(w, now))),
      total,
      limit: query.limit,
      offset: query.offset,
    };
  }

  async remove(_ctx: RequestContext, id: number): Promise<void> {
    if (!(await this.windows.delete(id))) throw notFound(MODEL, id);
  }

  /** Whether a window covered the instance (its own, its customer's, a global one) at one of these instants. */
  async coveredAtAny(instance: { id: number; partnerId: number | null }, instants: Date[]): Promise<boolean> {
    for (const at of instants) if (coveredUntil(instance, await this.openAt(at))) return true;
    return false;
  }

  /** The windows open at `now`. */
  async openAt(now: Date): Promise<OpenWindow[]> {
    const open: OpenWindow[] = [];
    for (const window of await this.windows.candidatesAt(now)) {
      const until = openUntil(window, now);
      if (until)
        open.push({ id: window.id, instanceId: window.instanceId, partnerId: window.partnerId, until });
    }
    return open;
  }
}
