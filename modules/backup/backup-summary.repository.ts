import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** What one configuration did over a period: its backups and its restore drills. */
export interface BackupSummaryRow {
  config_id: number;
  name: string;
  active: boolean;
  /** Backups that finished in the period (done or failed). */
  taken: number;
  failed: number;
  /** Bytes of the period's successful backups. */
  total_size: string;
  last_success_at: Date | null;
  drills_passed: number;
  drills_failed: number;
  last_drill_at: Date | null;
}

/** Reads for reports about backups (other addons read them through BackupSummaryService). */
@Injectable()
export class BackupSummaryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Per configuration (all of them when `configIds` is null), what it did from `from` to `to`, by name. */
  summaries(configIds: number[] | null, from: Date, to: Date): Promise<BackupSummaryRow[]> {
    return this.db.query<BackupSummaryRow[]>(
      `SELECT c.id AS config_id, c.name, c.active,
              coalesce(b.taken, 0)::int AS taken, coalesce(b.failed, 0)::int AS failed,
              coalesce(b.total_size, 0)::text AS total_size, b.last_success_at,
              coalesce(d.passed, 0)::int AS drills_passed, coalesce(d.failed, 0)::int AS drills_failed,
              d.last_drill_at
         FROM backup_config c
         LEFT JOIN LATERAL (
           SELECT count(*) AS taken, count(*) FILTER (WHERE status = 'failed') AS failed,
                  sum(size) FILTER (WHERE status = 'done') AS total_size,
                  max(finished_at) FILTER (WHERE status = 'done') AS last_success_at
             FROM backup_backup
            WHERE config_id = c.id AND status IN ('done', 'failed')
              AND coalesce(finished_at, started_at) >= $2 AND coalesce(finished_at, started_at) < $3
         ) b ON true
         LEFT JOIN LATERAL (
           SELECT count(*) FILTER (WHERE status = 'done') AS passed,
                  count(*) FILTER (WHERE status = 'failed') AS failed, max(finished_at) AS last_drill_at
             FROM backup_drill WHERE config_id = c.id AND finished_at >= $2 AND finished_at < $3
         ) d ON true
        WHERE $1::int[] IS NULL OR c.id = ANY($1)
        ORDER BY c.name, c.id`,
      [configIds, from, to],
    );
  }

  /** Every configuration's id and name, by name. */
  names(): Promise<{ id: number; name: string }[]> {
    return this.db.query<{ id: number; name: string }[]>(
      'SELECT id, name FROM backup_config ORDER BY name, id',
    );
  }
}
