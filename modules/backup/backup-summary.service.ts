import { Inject, Injectable } from '@nestjs/common';
import { BackupSummaryRepository } from './backup-summary.repository.js';

export interface BackupSummary {
  configId: number;
  name: string;
  active: boolean;
  taken: number;
  failed: number;
  totalSize: number;
  lastSuccessAt: Date | null;
  drillsPassed: number;
  drillsFailed: number;
  lastDrillAt: Date | null;
}

/** What backup configurations did over a period, for reports of other addons (read only). */
@Injectable()
export class BackupSummaryService {
  constructor(@Inject(BackupSummaryRepository) private readonly repository: BackupSummaryRepository) {}

  /**
   * Per configuration: the backups that finished in [from, to) (taken, failed, size of the successful ones, the last
   * success) and the restore drills (passed, failed). Only the given configurations; none for an empty list.
   */
  async summaries(configIds: number[], from: Date, to: Date): Promise<BackupSummary[]> {
    if (!configIds.length) return [];
    const rows = await this.repository.summaries(configIds, from, to);
    return rows.map((r) => ({
      configId: r.config_id,
      name: r.name,
      active: r.active,
      taken: r.taken,
      failed: r.failed,
      totalSize: Number(r.total_size),
      lastSuccessAt: r.last_success_at && new Date(r.last_success_at),
      drillsPassed: r.drills_passed,
      drillsFailed: r.drills_failed,
      lastDrillAt: r.last_drill_at && new Date(r.last_drill_at),
    }));
  }

  /** Every configuration's id and name (to pick from). */
  names(): Promise<{ id: number; name: string }[]> {
    return this.repository.names();
  }
}
