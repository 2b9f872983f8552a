import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Clock, Schedule, ScheduleError, hasRole, notFound, type RequestContext } from '../../src/index.js';
import {
  coveredUntil,
  openUntil,
  type OpenWindow,
} from '../dead_mans_switch_server/health/instance-health.js';
import type { MaintenanceWindow } from '../dead_mans_switch_server/maintenance-window.entity.js';
import { StatusPageRepository, type ComponentRow, type StatusPageRow } from './status-page.repository.js';
import { DAY_MS, overallPercent, uptimeDays, windowStart, type UptimeDay } from './uptime.js';

/** Bytes of a status page token: 192 bits, 32 url-safe characters. */
const TOKEN_BYTES = 24;
/** Tokens are base64url; anything else is not looked up. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{32}$/;
/** Upcoming maintenance shown this far ahead. */
const UPCOMING_MS = 14 * DAY_MS;

export type ComponentState = 'operational' | 'degraded' | 'down' | 'maintenance';

export interface Component {
  id: number;
  name: string | null;
  state: ComponentState;
  maintenanceUntil: Date | null;
  days: UptimeDay[];
  uptime: number | null;
}

/**
 * A current problem. Today they come from the instances' health (down or late, since when); an incident model
 * would add its own source of these.
 */
export interface Incident {
  componentId: number;
  name: string | null;
  state: 'degraded' | 'down';
  since: Date | null;
}

export interface Maintenance {
  windowId: number;
  description: string | null;
  startsAt: Date;
  endsAt: Date;
  ongoing: boolean;
}

export interface StatusPage {
  partnerId: number;
  customer: string;
  components: Component[];
  uptime: number | null;
  incidents: Incident[];
  maintenance: Maintenance[];
  /** The worst state of the components. */
  overall: ComponentState;
}

export interface StatusPageSettings {
  partner_id: number;
  enabled: boolean;
  token: string | null;
  /** The page's path (prefix it with the server's public address). */
  path: string | null;
  rotated_at: string | null;
  /** Listed at the public index `/status`. */
  public: boolean;
}

const SEVERITY: ComponentState[] = ['operational', 'maintenance', 'degraded', 'down'];

/** A new token: random, 192 bits, url-safe. */
export const newToken = () => randomBytes(TOKEN_BYTES).toString('base64url');

@Injectable()
export class StatusPageService {
  constructor(
    @Inject(StatusPageRepository) private readonly repository: StatusPageRepository,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  // Managing the token (managers).

  async settings(ctx: RequestContext, partnerId: number): Promise<StatusPageSettings> {
    await this.customer(ctx, partnerId);
    return present(partnerId, await this.repository.byPartner(partnerId));
  }

  /** Creates the page or rotates its token: the previous URL stops working. */
  async rotate(ctx: RequestContext, partnerId: number): Promise<StatusPageSettings> {
    await this.customer(ctx, partnerId);
    return present(partnerId, await this.repository.upsert(partnerId, newToken(), this.clock.now()));
  }

  /** Lists the page at the public index `/status`, or stops listing it; 404 when the customer has no page. */
  async setPublic(ctx: RequestContext, partnerId: number, listed: boolean): Promise<StatusPageSettings> {
    await this.customer(ctx, partnerId);
    if (!(await this.repository.setPublic(partnerId, listed))) throw notFound('status_page', partnerId);
    return present(partnerId, await this.repository.byPartner(partnerId));
  }

  /** The pages listed at the public index: customer name and path. */
  async publicIndex(): Promise<{ name: string; path: string }[]> {
    return (await this.repository.publicPages()).map((p) => ({ name: p.name, path: `/status/${p.token}` }));
  }

  async subscriberCounts(ctx: RequestContext, partnerId: number) {
    await this.customer(ctx, partnerId);
    return this.repository.subscriberCounts(partnerId);
  }

  async disable(ctx: RequestContext, partnerId: number): Promise<StatusPageSettings> {
    await this.customer(ctx, partnerId);
    await this.repository.delete(partnerId);
    return present(partnerId, null);
  }

  /** 404 unless a signed-in user reads an existing customer. */
  async customer(ctx: RequestContext, partnerId: number): Promise<void> {
    if (!ctx.user || !hasRole(ctx.user, 'viewer') || !(await this.repository.partnerExists(partnerId)))
      throw notFound('partner', partnerId);
  }

  // The public page.

  /** The state changes of the page's instances for its feed, newest first. */
  stateChanges(partnerId: number) {
    return this.repository.stateChanges(partnerId, FEED_ENTRIES);
  }

  /** The page of a token, or null (unknown, disabled, malformed: the caller answers a bare 404). */
  async page(token: string): Promise<StatusPage | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const owner = await this.repository.byToken(token);
    if (!owner) return null;
    const now = this.clock.now();
    const rows = await this.repository.components(owner.partner_id, now);
    const ids = rows.map((row) => row.id);
    const [upRows, firsts, until, windows] = await Promise.all([
      this.repository.upHours(ids, windowStart(now)),
      this.repository.firstHours(ids),
      this.repository.rolledUpUntil(),
      this.repository.windows(owner.partner_id),
    ]);
    const open: OpenWindow[] = windows.flatMap((w) => {
      const end = openUntil(w, now);
      return end ? [{ id: w.id, instanceId: w.instanceId, partnerId: w.partnerId, until: end }] : [];
    });
    const components = rows.map((row) => {
      const upByDay = new Map(
        upRows.filter((u) => u.instance_id === row.id).map((u) => [new Date(u.day).getTime(), u.up_hours]),
      );
      const days = uptimeDays(upByDay, firsts.get(row.id), until, now);
      const maintenanceUntil = coveredUntil({ id: row.id, partnerId: owner.partner_id }, open);
      return {
        id: row.id,
        name: row.description,
        state: stateOf(row, maintenanceUntil),
        maintenanceUntil,
        days,
        uptime: overallPercent(days),
      };
    });
    return {
      partnerId: owner.partner_id,
      customer: owner.name,
      components,
      uptime: overallPercent(components.flatMap((c) => c.days)),
      incidents: healthIncidents(rows, components),
      maintenance: maintenanceOf(windows, now),
      overall: components.reduce<ComponentState>(
        (worst, c) => (SEVERITY.indexOf(c.state) > SEVERITY.indexOf(worst) ? c.state : worst),
        'operational',
      ),
    };
  }
}

function present(partnerId: number, row: StatusPageRow | null): StatusPageSettings {
  return {
    partner_id: partnerId,
    enabled: !!row,
    token: row?.token ?? null,
    path: row ? `/status/${row.token}` : null,
    rotated_at: row ? new Date(row.rotated_at).toISOString() : null,
    public: row?.public ?? false,
  };
}

/** Entries of the feed at most. */
export const FEED_ENTRIES = 50;

/** Operational when up, degraded when late, down when down; a maintenance window covering it wins. */
function stateOf(row: ComponentRow, maintenanceUntil: Date | null): ComponentState {
  if (maintenanceUntil) return 'maintenance';
  return row.health === 'down' ? 'down' : row.health === 'late' ? 'degraded' : 'operational';
}

/** The current problems from the instances' health: down since its alert (else its last check-in), late since its last check-in. */
function healthIncidents(rows: ComponentRow[], components: Component[]): Incident[] {
  return components.flatMap((c, index) => {
    if (c.state !== 'down' && c.state !== 'degraded') return [];
    const row = rows[index];
    const since = c.state === 'down' ? (row.down_since ?? row.last_seen) : row.last_seen;
    return [{ componentId: c.id, name: c.name, state: c.state, since: since ? new Date(since) : null }];
  });
}

/** Ongoing and upcoming (two weeks) maintenance, soonest first. */
export function maintenanceOf(windows: MaintenanceWindow[], now: Date): Maintenance[] {
  const horizon = now.getTime() + UPCOMING_MS;
  const out: Maintenance[] = [];
  for (const w of windows) {
    if (w.startsAt && w.endsAt) {
      const [startsAt, endsAt] = [new Date(w.startsAt), new Date(w.endsAt)];
      if (endsAt > now && startsAt.getTime() < horizon)
        out.push({ windowId: w.id, description: w.description, startsAt, endsAt, ongoing: startsAt <= now });
      continue;
    }
    if (!w.cron || !w.timeZone || !w.durationSeconds) continue;
    const end = openUntil(w, now);
    if (end) {
      out.push({
        windowId: w.id,
        description: w.description,
        startsAt: new Date(end.getTime() - w.durationSeconds * 1000),
        endsAt: end,
        ongoing: true,
      });
      continue;
    }
    try {
      const next = new Schedule(w.cron, w.timeZone).next(now);
      if (next.getTime() < horizon)
        out.push({
          windowId: w.id,
          description: w.description,
          startsAt: next,
          endsAt: new Date(next.getTime() + w.durationSeconds * 1000),
          ongoing: false,
        });
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
    }
  }
  return out.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
}
