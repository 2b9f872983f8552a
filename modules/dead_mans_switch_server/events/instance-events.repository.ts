import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { DISPLAY_NAME_COLUMNS } from '../instance-names.repository.js';

export interface EventRow {
  id: string;
  instance_id: number;
  /** What the instance's display name is made of. */
  partner_name: string | null;
  database_uuid: string;
  description: string | null;
  received_at: Date;
  level: number;
  message: string;
}

export interface EventFilter {
  instanceId?: number;
  from?: Date;
  to?: Date;
  /** Stored level number: this one and above. */
  minLevel?: number;
  q?: string;
  limit: number;
  offset: number;
}

@Injectable()
export class InstanceEventsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async insert(
    event: { instanceId: number; receivedAt: Date; level: number; message: string },
    manager: EntityManager,
  ): Promise<void> {
    await manager.query(
      'INSERT INTO dead_mans_switch_event (instance_id, received_at, level, message) VALUES ($1, $2, $3, $4)',
      [event.instanceId, event.receivedAt, event.level, event.message],
    );
  }

  /** Events matching the filter, newest first, and how many match. */
  async list(filter: EventFilter): Promise<{ items: EventRow[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.instanceId !== undefined) where.push(`e.instance_id = ${param(filter.instanceId)}`);
    if (filter.from) where.push(`e.received_at >= ${param(filter.from)}`);
    if (filter.to) where.push(`e.received_at < ${param(filter.to)}`);
    if (filter.minLevel !== undefined) where.push(`e.level >= ${param(filter.minLevel)}`);
    if (filter.q) where.push(`e.message ILIKE ${param(`%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ total }] = await this.db.query<{ total: number }[]>(
      `SELECT count(*)::int AS total FROM dead_mans_switch_event e ${whereSql}`,
      params,
    );
    const items = await this.db.query<EventRow[]>(
      `SELECT e.id, e.instance_id, ${DISPLAY_NAME_COLUMNS}, e.received_at, e.level, e.message
       FROM dead_mans_switch_event e
       JOIN dead_mans_switch_instance i ON i.id = e.instance_id LEFT JOIN partner p ON p.id = i.partner_id
       ${whereSql}
       ORDER BY e.received_at DESC, e.id DESC
       LIMIT ${param(filter.limit)} OFFSET ${param(filter.offset)}`,
      params,
    );
    return { items, total };
  }

  /** Deletes events older than `before`, `batch` rows per statement; returns how many. */
  async deleteBefore(before: Date, batch: number): Promise<number> {
    let total = 0;
    for (;;) {
      const [{ count }] = await this.db.query<{ count: number }[]>(
        `WITH deleted AS (
           DELETE FROM dead_mans_switch_event WHERE id IN (
             SELECT id FROM dead_mans_switch_event WHERE received_at < $1 LIMIT $2)
           RETURNING 1)
         SELECT count(*)::int AS count FROM deleted`,
        [before, batch],
      );
      total += count;
      if (count < batch) return total;
    }
  }
}
