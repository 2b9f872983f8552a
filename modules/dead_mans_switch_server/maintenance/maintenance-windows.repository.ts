import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { MaintenanceWindow } from '../maintenance-window.entity.js';

export interface WindowFilter {
  instanceId?: number;
  partnerId?: number;
  limit: number;
  offset: number;
}

@Injectable()
export class MaintenanceWindowsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async insert(window: Omit<MaintenanceWindow, 'id'>): Promise<MaintenanceWindow> {
    return this.db.getRepository(MaintenanceWindow).save(window);
  }

  findById(id: number): Promise<MaintenanceWindow | null> {
    return this.db.getRepository(MaintenanceWindow).findOneBy({ id });
  }

  async delete(id: number): Promise<boolean> {
    const result = await this.db.getRepository(MaintenanceWindow).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  /** Windows of an instance (its own, its customer's and the global ones) or of a customer, newest first. */
  async list(filter: WindowFilter): Promise<{ items: MaintenanceWindow[]; total: number }> {
    const query = this.db.getRepository(MaintenanceWindow).createQueryBuilder('w');
    if (filter.instanceId !== undefined)
      query.where(
        `(w.instance_id = :instance OR (w.instance_id IS NULL AND w.partner_id IS NULL)
          OR w.partner_id = (SELECT partner_id FROM dead_mans_switch_instance WHERE id = :instance))`,
        { instance: filter.instanceId },
      );
    else if (filter.partnerId !== undefined)
      query.where('w.partner_id = :partner', { partner: filter.partnerId });
    const [items, total] = await query
      .orderBy('w.id', 'DESC')
      .take(filter.limit)
      .skip(filter.offset)
      .getManyAndCount();
    return { items, total };
  }

  /** The windows that may be open at `now`: the one-offs around it and every recurring one. */
  candidatesAt(now: Date): Promise<MaintenanceWindow[]> {
    return this.db
      .getRepository(MaintenanceWindow)
      .createQueryBuilder('w')
      .where('w.cron IS NOT NULL OR (w.starts_at <= :now AND w.ends_at > :now)', { now })
      .getMany();
  }

  async instanceExists(id: number): Promise<boolean> {
    const rows = await this.db.query<unknown[]>('SELECT 1 FROM dead_mans_switch_instance WHERE id = $1', [
      id,
    ]);
    return rows.length > 0;
  }

  async partnerIsCompany(id: number): Promise<boolean | undefined> {
    const rows = await this.db.query<{ is_company: boolean }[]>(
      'SELECT is_company FROM partner WHERE id = $1',
      [id],
    );
    return rows[0]?.is_company;
  }

  /** The newest window's id (0 when there is none). */
  async lastId(manager: EntityManager): Promise<number> {
    const [row] = await manager.query<{ id: number }[]>(
      'SELECT coalesce(max(id), 0)::int AS id FROM dead_mans_switch_maintenance',
    );
    return row.id;
  }

  /**
   * Windows created after `afterId`, oldest first, with the customer of an instance's window; with them, the
   * recent ones (after `recentSince`) among the 100 ids before it, in case one committed after a later one.
   */
  createdAfter(
    afterId: number,
    limit: number,
    recentSince: Date,
    manager: EntityManager,
  ): Promise<ScheduledWindow[]> {
    return manager.query<ScheduledWindow[]>(
      `SELECT w.id, w.instance_id AS "instanceId", w.partner_id AS "partnerId", w.description,
              w.starts_at AS "startsAt", w.ends_at AS "endsAt", w.cron, w.duration_seconds AS "durationSeconds",
              w.time_zone AS "timeZone", w.created_at AS "createdAt",
              (SELECT i.partner_id FROM dead_mans_switch_instance i
                WHERE i.id = w.instance_id AND i.state = 'active') AS "instancePartnerId"
         FROM dead_mans_switch_maintenance w
        WHERE w.id > $1 OR (w.id > $1 - 100 AND w.created_at > $3)
        ORDER BY w.id LIMIT $2 + 100`,
      [afterId, limit, recentSince],
    );
  }
}

/** A maintenance window as readers outside this addon see it when it is scheduled: with its instance's customer. */
export interface ScheduledWindow extends MaintenanceWindow {
  /** The customer of the window's instance (an active one); null for a customer's or a global window. */
  instancePartnerId: number | null;
}
