import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { healthSql } from '../dead_mans_switch_server/health/instance-health.js';
import type { MaintenanceWindow } from '../dead_mans_switch_server/maintenance-window.entity.js';

export interface StatusPageRow {
  partner_id: number;
  token: string;
  created_at: Date;
  rotated_at: Date;
  public: boolean;
}

/** What the status page reads of an active instance: never its uuid, address or statistics. */
export interface ComponentRow {
  id: number;
  description: string | null;
  health: 'up' | 'late' | 'down';
  last_seen: Date | null;
  /** When its last down alert was posted, if it is alerted down. */
  down_since: Date | null;
}

/** A down or back-up transition of an instance (the watchdog's alerts). */
export interface StateChangeRow {
  id: string;
  instance_id: number;
  description: string | null;
  kind: 'down' | 'up';
  created_at: Date;
}

/** Per instance and UTC day: the hours of the hourly roll-up that had at least one check-in. */
export interface UpHoursRow {
  instance_id: number;
  day: Date;
  up_hours: number;
}

@Injectable()
export class StatusPageRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async byPartner(partnerId: number): Promise<StatusPageRow | null> {
    const [row] = await this.db.query<StatusPageRow[]>('SELECT * FROM status_page WHERE partner_id = $1', [
      partnerId,
    ]);
    return row ?? null;
  }

  /** The page of a token, with its customer's name; null for an unknown token. */
  async byToken(token: string): Promise<{ partner_id: number; name: string; lang: string | null } | null> {
    const [row] = await this.db.query<{ partner_id: number; name: string; lang: string | null }[]>(
      `SELECT s.partner_id, p.name, p.lang FROM status_page s JOIN partner p ON p.id = s.partner_id WHERE s.token = $1`,
      [token],
    );
    return row ?? null;
  }

  /** Creates the page, or gives it a new token (the old one stops working). */
  async upsert(partnerId: number, token: string, now: Date): Promise<StatusPageRow> {
    const [row] = await this.db.query<StatusPageRow[]>(
      `INSERT INTO status_page (partner_id, token, created_at, rotated_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (partner_id) DO UPDATE SET token = excluded.token, rotated_at = excluded.rotated_at
       RETURNING *`,
      [partnerId, token, now],
    );
    return row;
  }

  /** Lists the page at the public index or not; false when the customer has no page. */
  async setPublic(partnerId: number, listed: boolean): Promise<boolean> {
    const [, affected] = await this.db.query<[unknown, number]>(
      'UPDATE status_page SET public = $2 WHERE partner_id = $1',
      [partnerId, listed],
    );
    return affected > 0;
  }

  /** The pages listed at the public index, by customer name. */
  publicPages(): Promise<{ name: string; token: string }[]> {
    return this.db.query<{ name: string; token: string }[]>(
      `SELECT p.name, s.token FROM status_page s JOIN partner p ON p.id = s.partner_id
        WHERE s.public ORDER BY lower(p.name), s.partner_id`,
    );
  }

  /** Confirmed and pending subscribers of the customer's page. */
  async subscriberCounts(partnerId: number): Promise<{ confirmed: number; pending: number }> {
    const [row] = await this.db.query<{ confirmed: number; pending: number }[]>(
      `SELECT (count(*) FILTER (WHERE confirmed_at IS NOT NULL))::int AS confirmed,
              (count(*) FILTER (WHERE confirmed_at IS NULL))::int AS pending
         FROM status_page_subscription WHERE partner_id = $1`,
      [partnerId],
    );
    return row;
  }

  async delete(partnerId: number): Promise<boolean> {
    const [, affected] = await this.db.query<[unknown, number]>(
      'DELETE FROM status_page WHERE partner_id = $1',
      [partnerId],
    );
    return affected > 0;
  }

  async partnerExists(partnerId: number): Promise<boolean> {
    const rows = await this.db.query<unknown[]>('SELECT 1 FROM partner WHERE id = $1 AND parent_id IS NULL', [
      partnerId,
    ]);
    return rows.length > 0;
  }

  /** The customer's active instances with their health at `now`, in id order. */
  components(partnerId: number, now: Date): Promise<ComponentRow[]> {
    return this.db.query<ComponentRow[]>(
      `SELECT i.id, i.description, ${healthSql('i', '$2')} AS health, i.last_seen,
              CASE WHEN i.alert_state = 'down' THEN (SELECT max(a.created_at) FROM dead_mans_switch_alert a
                WHERE a.instance_id = i.id AND a.kind = 'down') END AS down_since
         FROM dead_mans_switch_instance i
        WHERE i.partner_id = $1 AND i.state = 'active'
        ORDER BY i.id`,
      [partnerId, now],
    );
  }

  /** Up hours per instance and UTC day from `from` on. */
  upHours(instanceIds: number[], from: Date): Promise<UpHoursRow[]> {
    return this.db.query<UpHoursRow[]>(
      `SELECT instance_id, date_trunc('day', hour, 'UTC') AS day, count(*)::int AS up_hours
         FROM dead_mans_switch_log_hourly
        WHERE instance_id = ANY($1) AND hour >= $2 AND count > 0
        GROUP BY 1, 2`,
      [instanceIds, from],
    );
  }

  /** Per instance, the first hour it has in the roll-up (before it: no data). */
  async firstHours(instanceIds: number[]): Promise<Map<number, Date>> {
    const rows = await this.db.query<{ instance_id: number; first: Date }[]>(
      `SELECT instance_id, min(hour) AS first FROM dead_mans_switch_log_hourly
        WHERE instance_id = ANY($1) GROUP BY 1`,
      [instanceIds],
    );
    return new Map(rows.map((row) => [row.instance_id, row.first]));
  }

  /** Every hour before this one is rolled up (null: nothing yet). */
  async rolledUpUntil(): Promise<Date | null> {
    const [row] = await this.db.query<{ rolled_up_until: Date | null }[]>(
      'SELECT rolled_up_until FROM dead_mans_switch_log_rollup WHERE id = 1',
    );
    return row?.rolled_up_until ?? null;
  }

  /** The maintenance windows that concern the customer: of its instances, of itself, and the global ones. */
  windows(partnerId: number): Promise<MaintenanceWindow[]> {
    return this.db.query<MaintenanceWindow[]>(
      `SELECT w.id, w.instance_id AS "instanceId", w.partner_id AS "partnerId", w.description,
              w.starts_at AS "startsAt", w.ends_at AS "endsAt", w.cron, w.duration_seconds AS "durationSeconds",
              w.time_zone AS "timeZone", w.created_at AS "createdAt"
         FROM dead_mans_switch_maintenance w
        WHERE w.partner_id = $1 OR (w.instance_id IS NULL AND w.partner_id IS NULL)
           OR w.instance_id IN (SELECT id FROM dead_mans_switch_instance WHERE partner_id = $1 AND state = 'active')
        ORDER BY w.id`,
      [partnerId],
    );
  }

  /** The latest down and back-up alerts of the customer's active instances, newest first. */
  stateChanges(partnerId: number, limit: number): Promise<StateChangeRow[]> {
    return this.db.query<StateChangeRow[]>(
      `SELECT a.id::text AS id, a.instance_id, i.description, a.kind, a.created_at
         FROM dead_mans_switch_alert a JOIN dead_mans_switch_instance i ON i.id = a.instance_id
        WHERE i.partner_id = $1 AND i.state = 'active' AND a.kind IN ('down', 'up')
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT $2`,
      [partnerId, limit],
    );
  }
}
