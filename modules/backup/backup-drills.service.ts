import { Inject, Injectable } from '@nestjs/common';
import {
  ChatterService,
  Clock,
  conflict,
  Database,
  I18nService,
  MetricsService,
  Schedule,
  systemContext,
} from '../../src/index.js';
import type { BackupConfig } from './backup-config.entity.js';
import type { Backup } from './backup.entity.js';
import { BackupError, describeError } from './backup.error.js';
import { BackupPolicy } from './backup-policy.service.js';
import { assertRowCounts, BackupVerifier } from './backup-verifier.service.js';
import { BackupsRepository } from './backups.repository.js';
import { filestorePath } from './filestore.repository.js';
import { PgToolsRepository } from './pg-tools.repository.js';
import { CONFIG_MODEL, SUBTYPE_DONE, SUBTYPE_FAILED } from './settings.js';
import { readZipDirectory } from './zip.js';

/** What a drill found. */
export interface DrillResult {
  id: number;
  status: 'done' | 'failed';
  backupId: number | null;
  restoreSeconds: number | null;
  checkedTables: number | null;
  checkedFiles: number | null;
  neutralized: string | null;
  error: string | null;
}

import type { DrillRecord } from './backups.repository.js';
export type { DrillRecord };

/** At most this many missing files are named in a drill's failure. */
const NAMED_FILES = 10;

/**
 * Restore drills: a backup is only proven by restoring it. On each configuration's drill schedule the newest stored
 * backup is restored into a scratch database, neutralized as Odoo neutralizes a copy, its row counts compared with
 * the snapshot the dump read, every `ir_attachment.store_fname` looked up in the archive's filestore (or in the
 * configuration's filestore for a database-only dump), and the scratch database dropped. The result goes to the
 * chatter; `backup_restore_seconds` shows each configuration's latest restore time.
 */
@Injectable()
export class BackupDrills {
  constructor(
    @Inject(BackupsRepository) private readonly repo: BackupsRepository,
    @Inject(BackupPolicy) private readonly policy: BackupPolicy,
    @Inject(BackupVerifier) private readonly verifier: BackupVerifier,
    @Inject(PgToolsRepository) private readonly pg: PgToolsRepository,
    @Inject(ChatterService) private readonly chatter: ChatterService,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(Database) private readonly database: Database,
    @Inject(MetricsService) metrics: MetricsService,
  ) {
    const drills = this.repo;
    // Read from the database at each scrape: every replica shows the same value, whichever ran the drill.
    metrics.gauge(
      'backup_restore_seconds',
      'Seconds the latest successful restore drill of a backup configuration took to restore',
      ['config'],
      async function () {
        this.reset();
        for (const row of await drills.lastDrillSeconds()) this.set({ config: row.name }, row.seconds);
      },
    );
  }

  /** Runs the drills that are due, each claimed once across replicas. */
  async tick(now: Date): Promise<void> {
    for (let config = await this.claimDue(now); config; config = await this.claimDue(now))
      await this.drillClaimed(config.id);
  }

  /**
   * One drill now (ops' "Run a drill now"): claimed as a scheduled one is, so that two clicks or two replicas do
   * not restore the same configuration at the same time; refused (409) while another drill of it runs.
   */
  async drillNow(configId: number): Promise<DrillResult | null> {
    const result = await this.drillClaimed(configId);
    if (result === 'busy') throw conflict('backup.errors.drill_running');
    return result;
  }

  /** The latest drills of a configuration, newest first. */
  history(configId: number, limit: number): Promise<DrillRecord[]> {
    return this.repo.drills(configId, limit);
  }

  /**
   * Runs a drill while holding a transaction-scoped advisory lock on the configuration (across replicas);
   * 'busy' when another drill of it holds the lock.
   */
  private drillClaimed(configId: number): Promise<DrillResult | null | 'busy'> {
    return this.database.transaction(async (manager) => {
      if (!(await this.repo.tryDrillLock(configId, manager))) return 'busy';
      return this.drill(configId);
    });
  }

  private claimDue(now: Date): Promise<BackupConfig | null> {
    return this.database.transaction(async (manager) => {
      const config = await this.repo.lockDueDrill(now, manager);
      if (!config) return null;
      await this.repo.setNextDrill(config.id, nextDrill(config, now), manager);
      return config;
    });
  }

  /** One drill of a configuration's newest stored backup; failures are results (and chatter posts), not throws. */
  async drill(configId: number): Promise<DrillResult | null> {
    const config = await this.repo.findConfig(configId);
    if (!config) return null;
    const startedAt = this.clock.now();
    const result: Omit<DrillResult, 'id'> = {
      status: 'failed',
      backupId: null,
      restoreSeconds: null,
      checkedTables: null,
      checkedFiles: null,
      neutralized: null,
      error: null,
    };
    try {
      const backup = await this.repo.latestStored(config.id);
      if (!backup) throw new BackupError('backup.errors.drill_no_backup');
      result.backupId = backup.id;
      const url = this.policy.databaseUrl(config);
      await this.verifier.inScratchDatabase(url, backup, `vigil_drill_${config.id}`, async (target) => {
        const started = performance.now();
        try {
          await this.verifier.restoreArchive(backup, target, null);
        } catch (error) {
          throw new BackupError('backup.errors.drill_restore_failed', {
            error: describeError(error, this.i18n),
          });
        }
        result.restoreSeconds = (performance.now() - started) / 1000;
        // Counted before neutralizing, which adds database.is_neutralized.
        const counts = await this.pg.countRows(target);
        result.neutralized = await this.pg.neutralizeOdoo(target);
        result.checkedTables = Object.keys(counts).length;
        if (backup.rowCounts) assertRowCounts(backup.rowCounts, counts, 'backed up');
        const { checked, missing } = await this.checkFiles(backup, target);
        result.checkedFiles = checked;
        if (missing.length)
          throw new BackupError('backup.errors.drill_files_missing', {
            count: missing.length,
            files: missing.slice(0, NAMED_FILES).join(', '),
          });
      });
      result.status = 'done';
    } catch (error) {
      result.error = describeError(error, this.i18n);
    }
    const id = await this.repo.insertDrill({
      configId: config.id,
      startedAt,
      finishedAt: this.clock.now(),
      ...result,
    });
    const args = {
      name: config.name,
      backup: result.backupId,
      seconds: result.restoreSeconds === null ? null : result.restoreSeconds.toFixed(1),
      tables: result.checkedTables,
      files: result.checkedFiles,
      neutralized: result.neutralized,
      error: result.error,
    };
    await this.chatter.post(
      systemContext(),
      { model: CONFIG_MODEL, id: config.id },
      result.status === 'done'
        ? {
            subtype: SUBTYPE_DONE,
            type: 'notification',
            body: { key: 'backup.messages.drill_done_body', args },
          }
        : {
            subtype: SUBTYPE_FAILED,
            type: 'notification',
            subject: { key: 'backup.messages.drill_failed_subject', args },
            body: { key: 'backup.messages.drill_failed_body', args },
          },
    );
    return { id, ...result };
  }

  /**
   * Every file the restored copy references must be in the archive's `filestore/` (Odoo's zip; a database-only
   * dump holds no files to check).
   */
  private async checkFiles(backup: Backup, target: string): Promise<{ checked: number; missing: string[] }> {
    if (backup.format !== 'odoo_zip') return { checked: 0, missing: [] };
    const opened = await this.verifier.openZip(backup);
    try {
      const names = new Set(
        (await readZipDirectory(opened.archive))
          .filter((entry) => entry.name.startsWith('filestore/'))
          .map((entry) => entry.name.slice('filestore/'.length)),
      );
      let checked = 0;
      const missing: string[] = [];
      for await (const batch of this.pg.storeFnames(target))
        for (const storeFname of batch) {
          checked++;
          if (!names.has(filestorePath(storeFname))) missing.push(storeFname);
        }
      return { checked, missing };
    } finally {
      await opened.close();
    }
  }
}

/** The next drill of a configuration after `now`; null without a drill schedule (or when it cannot be read). */
export function nextDrill(
  config: Pick<BackupConfig, 'drillCron' | 'timeZone' | 'active'>,
  now: Date,
): Date | null {
  if (!config.active || !config.drillCron) return null;
  try {
    return new Schedule(config.drillCron, config.timeZone).next(now);
  } catch {
    return null;
  }
}
