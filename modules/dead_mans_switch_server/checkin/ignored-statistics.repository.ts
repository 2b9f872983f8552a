import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { IgnoredStatistic } from './alive-payload.js';

export interface IgnoredStatisticRow {
  field: string;
  reason: string;
  args: Record<string, string | number>;
  last_value: string;
  count: number;
  first_at: Date;
  last_at: Date;
}

@Injectable()
export class IgnoredStatisticsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Counts each ignored statistic of a check-in; returns those this instance never had ignored before. */
  async record(
    instanceId: number,
    ignored: IgnoredStatistic[],
    at: Date,
    manager: EntityManager,
  ): Promise<IgnoredStatistic[]> {
    // One row per statistic: a second problem with the same one in a check-in would fail the upsert.
    const byField = new Map(ignored.map((i) => [i.field, i]));
    const rows: { field: string }[] = await manager.query(
      `INSERT INTO dead_mans_switch_ignored_statistic AS s
         (instance_id, field, reason, args, last_value, count, first_at, last_at)
       SELECT $1, i.field, i.key, i.args, i.value, 1, $2, $2
         FROM jsonb_to_recordset($3::jsonb) AS i (field text, key text, args jsonb, value text)
       ON CONFLICT (instance_id, field) DO UPDATE
         SET reason = EXCLUDED.reason, args = EXCLUDED.args, last_value = EXCLUDED.last_value,
             count = s.count + 1, last_at = EXCLUDED.last_at
       RETURNING field, (xmax = 0) AS inserted`,
      [instanceId, at, JSON.stringify([...byField.values()])],
    );
    return rows
      .filter((row) => (row as { inserted?: boolean }).inserted)
      .map((row) => byField.get(row.field)!);
  }

  async list(instanceId: number): Promise<IgnoredStatisticRow[]> {
    return this.db.query(
      `SELECT field, reason, args, last_value, count, first_at, last_at
         FROM dead_mans_switch_ignored_statistic WHERE instance_id = $1 ORDER BY last_at DESC, field`,
      [instanceId],
    );
  }
}
