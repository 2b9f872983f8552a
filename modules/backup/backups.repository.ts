import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { BackupConfig } from './backup-config.entity.js';
import { Backup } from './backup.entity.js';
import { BackupRestore } from './backup-restore.entity.js';
import type { BackupStatus } from './settings.js';

/** The first key of the advisory lock a running drill holds (the second is the configuration's id). */
export const DRILL_LOCK = 0x62647269;

export interface BackupFilter {
  configId?: number;
  status?: BackupStatus;
  /** Also list backups whose object was deleted. */
  includeDeleted: boolean;
  limit: number;
  offset: number;
}

/** A configuration with the time of its last successful backup. */
export interface ConfigWithLastSuccess {
  config: BackupConfig;
  lastSuccessAt: Date | null;
}

/** A configuration's name, for the chatter (a function over its manager: thread definitions are plain objects). */
export async function configName(id: number, manager: EntityManager): Promise<string> {
  const rows = await manager.query<{ name: string }[]>('SELECT name FROM backup_config WHERE id = $1', [id]);
  return rows[0]?.name ?? `#${id}`;
}

/** The SQL of configurations and backup records. */
/** The two schedules of a configuration: its backups' and its restore drills' next times. */
type ScheduleColumn = 'next_run_at' | 'next_drill_at';

/** A drill as the configuration's page lists it. */
export interface DrillRecord {
  id: number;
  backupId: number | null;
  status: 'done' | 'failed';
  startedAt: Date;
  finishedAt: Date;
  restoreSeconds: number | null;
  checkedTables: number | null;
  checkedFiles: number | null;
  error: string | null;
}

@Injectable()
export class BackupsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The rows of an `UPDATE … RETURNING id` (TypeORM answers a bare UPDATE with `[rows, count]`). */
  private async updated(sql: string, params: unknown[]): Promise<{ id: number }[]> {
    const result = await this.db.query<[{ id: number }[], number]>(sql, params);
    return result[0];
  }

  /** The URL of this backend's own database. */
  get ownDatabaseUrl(): string {
    return (this.db.options as { url: string }).url;
  }

  private configs(manager?: EntityManager) {
    return (manager ?? this.db.manager).getRepository(BackupConfig);
  }

  private backups(manager?: EntityManager) {
    return (manager ?? this.db.manager).getRepository(Backup);
  }

  findConfig(id: number, manager?: EntityManager): Promise<BackupConfig | null> {
    return this.configs(manager).findOneBy({ id });
  }

  async findConfigForUpdate(id: number, manager: EntityManager): Promise<BackupConfig | null> {
    const locked = await manager.query<unknown[]>('SELECT id FROM backup_config WHERE id = $1 FOR UPDATE', [
      id,
    ]);
    return locked.length ? this.findConfig(id, manager) : null;
  }

  saveConfig(config: Partial<BackupConfig>, manager?: EntityManager): Promise<BackupConfig> {
    return this.configs(manager).save(config);
  }

  async deleteConfig(id: number, manager: EntityManager): Promise<void> {
    await manager.query('DELETE FROM backup_backup WHERE config_id = $1', [id]);
    await manager.query('DELETE FROM backup_config WHERE id = $1', [id]);
  }

  async lastSuccess(configIds: number[]): Promise<Map<number, Date>> {
    const rows = await this.db.query<{ config_id: number; at: Date }[]>(
      `SELECT config_id, max(finished_at) AS at FROM backup_backup
       WHERE status = 'done' AND config_id = ANY($1) GROUP BY config_id`,
      [configIds],
    );
    return new Map(rows.map((r) => [r.config_id, r.at]));
  }

  async listConfigs(limit: number, offset: number): Promise<{ items: BackupConfig[]; total: number }> {
    const [items, total] = await this.configs().findAndCount({
      order: { id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items, total };
  }

  /** Stored objects of a configuration (done or failed, not yet deleted): what deleting it would orphan. */
  async storedBackups(configId: number, manager?: EntityManager): Promise<Backup[]> {
    return this.backups(manager)
      .createQueryBuilder('b')
      .where('b.config_id = :configId AND b.deleted_at IS NULL', { configId })
      .getMany();
  }

  /**
   * Locks one due active configuration that no other replica holds (`FOR UPDATE SKIP LOCKED`): the caller moves
   * its next run forward in the same transaction, so each scheduled run is claimed once.
   */
  lockDueConfig(now: Date, manager: EntityManager): Promise<BackupConfig | null> {
    return this.lockDue('next_run_at', now, manager);
  }

  async setNextRun(id: number, next: Date | null, manager: EntityManager): Promise<void> {
    await this.setNext('next_run_at', id, next, manager);
  }

  /** The due configuration of one schedule (backups or drills) that no other replica holds, locked. */
  private async lockDue(
    column: ScheduleColumn,
    now: Date,
    manager: EntityManager,
  ): Promise<BackupConfig | null> {
    const [row] = await manager.query<{ id: number }[]>(
      `SELECT id FROM backup_config WHERE active AND ${column} <= $1
       ORDER BY ${column} LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [now],
    );
    return row ? this.findConfig(row.id, manager) : null;
  }

  private async setNext(column: ScheduleColumn, id: number, next: Date | null, manager: EntityManager) {
    await manager.query(`UPDATE backup_config SET ${column} = $2 WHERE id = $1`, [id, next]);
  }

  /**
   * Starts a run: a `running` record holding a lease. Returns null when the configuration already has a running
   * backup (the partial unique index allows one per configuration).
   */
  async insertRunning(
    run: Pick<
      Backup,
      | 'configId'
      | 'trigger'
      | 'storage'
      | 'databaseName'
      | 'startedAt'
      | 'leaseUntil'
      | 'encryptionEnv'
      | 'format'
    >,
    objectKey: (id: number) => string,
    manager: EntityManager,
  ): Promise<Backup | null> {
    const [row] = await manager.query<{ id: number }[]>(
      `INSERT INTO backup_backup (config_id, status, trigger, storage, object_key, database_name, started_at,
         lease_until, encryption_env, format)
       VALUES ($1, 'running', $2, $3, '', $4, $5, $6, $7, $8)
       ON CONFLICT (config_id) WHERE status = 'running' DO NOTHING RETURNING id`,
      [
        run.configId,
        run.trigger,
        run.storage,
        run.databaseName,
        run.startedAt,
        run.leaseUntil,
        run.encryptionEnv,
        run.format,
      ],
    );
    if (!row) return null;
    await manager.query('UPDATE backup_backup SET object_key = $2 WHERE id = $1', [
      row.id,
      objectKey(row.id),
    ]);
    return this.backups(manager).findOneBy({ id: row.id });
  }

  findBackup(id: number, manager?: EntityManager): Promise<Backup | null> {
    return this.backups(manager).findOneBy({ id });
  }

  async listBackups(filter: BackupFilter): Promise<{ items: Backup[]; total: number }> {
    const query = this.backups().createQueryBuilder('b');
    if (filter.configId !== undefined)
      query.andWhere('b.config_id = :configId', { configId: filter.configId });
    if (filter.status) query.andWhere('b.status = :status', { status: filter.status });
    if (!filter.includeDeleted) query.andWhere('b.deleted_at IS NULL');
    const [items, total] = await query
      .orderBy('b.started_at', 'DESC')
      .addOrderBy('b.id', 'DESC')
      .take(filter.limit)
      .skip(filter.offset)
      .getManyAndCount();
    return { items, total };
  }

  /** Renews a running backup's lease and publishes its progress; false when it is no longer running. */
  async renewLease(id: number, leaseUntil: Date, progressBytes: number): Promise<boolean> {
    const rows = await this.updated(
      `UPDATE backup_backup SET lease_until = $2, progress_bytes = $3 WHERE id = $1 AND status = 'running'
       RETURNING id`,
      [id, leaseUntil, progressBytes],
    );
    return rows.length > 0;
  }

  /** Ends a running backup as done; false when it was no longer running (its lease expired meanwhile). */
  async finishDone(
    id: number,
    result: {
      finishedAt: Date;
      size: number;
      sha256: string;
      durationMs: number;
      verification: string;
      filestoreFiles: number | null;
      filestoreMissing: number | null;
      rowCounts: Record<string, number> | null;
    },
  ): Promise<boolean> {
    const rows = await this.updated(
      `UPDATE backup_backup SET status = 'done', finished_at = $2, verified_at = $2, size = $3, progress_bytes = $3,
         sha256 = $4, duration_ms = $5, verification = $6, lease_until = NULL, filestore_files = $7,
         filestore_missing = $8, row_counts = $9
       WHERE id = $1 AND status = 'running' RETURNING id`,
      [
        id,
        result.finishedAt,
        result.size,
        result.sha256,
        result.durationMs,
        result.verification,
        result.filestoreFiles,
        result.filestoreMissing,
        result.rowCounts && JSON.stringify(result.rowCounts),
      ],
    );
    return rows.length > 0;
  }

  /** Marks a backup failed (running, or done but no longer verifying). */
  async finishFailed(id: number, error: string, finishedAt: Date, durationMs: number | null): Promise<void> {
    await this.db.query(
      `UPDATE backup_backup SET status = 'failed', error = $2, finished_at = coalesce(finished_at, $3),
         duration_ms = coalesce(duration_ms, $4), lease_until = NULL
       WHERE id = $1`,
      [id, error, finishedAt, durationMs],
    );
  }

  /** Running backups whose lease passed: their process died. Marks them failed and returns them. */
  async expireLeases(now: Date, reason: string): Promise<Backup[]> {
    const rows = await this.updated(
      `UPDATE backup_backup SET status = 'failed', error = $2, finished_at = $1, lease_until = NULL
       WHERE status = 'running' AND lease_until < $1 RETURNING id`,
      [now, reason],
    );
    const ids = rows.map((r) => r.id);
    return ids.length ? this.backups().findBy(ids.map((id) => ({ id }))) : [];
  }

  /** Done backups of a configuration whose object is still stored: what rotation chooses from. */
  rotationCandidates(configId: number): Promise<Backup[]> {
    return this.backups()
      .createQueryBuilder('b')
      .where("b.config_id = :configId AND b.status = 'done' AND b.deleted_at IS NULL", { configId })
      .getMany();
  }

  async markDeleted(id: number, reason: string, now: Date): Promise<void> {
    await this.db.query(
      'UPDATE backup_backup SET deleted_at = $2, deleted_reason = $3 WHERE id = $1 AND deleted_at IS NULL',
      [id, now, reason],
    );
  }

  /** Active configurations not yet alerted as stale, with their last success. */
  async staleCandidates(): Promise<ConfigWithLastSuccess[]> {
    const configs = await this.configs()
      .createQueryBuilder('c')
      .where('c.active AND c.stale_alerted_at IS NULL')
      .getMany();
    const last = await this.lastSuccess(configs.map((c) => c.id));
    return configs.map((config) => ({ config, lastSuccessAt: last.get(config.id) ?? null }));
  }

  /** Claims the stale alert of a configuration: true for the one replica that sets it. */
  async claimStaleAlert(id: number, now: Date): Promise<boolean> {
    const rows = await this.updated(
      `UPDATE backup_config SET stale_alerted_at = $2 WHERE id = $1 AND stale_alerted_at IS NULL RETURNING id`,
      [id, now],
    );
    return rows.length > 0;
  }

  async clearStaleAlert(configId: number): Promise<void> {
    await this.db.query('UPDATE backup_config SET stale_alerted_at = NULL WHERE id = $1', [configId]);
  }

  /** Last successful backup of this backend's own database (configurations without a database URL). */
  async lastOwnBackupAt(): Promise<Date | null> {
    const [row] = await this.db.query<{ at: Date | null }[]>(
      `SELECT max(b.finished_at) AS at FROM backup_backup b JOIN backup_config c ON c.id = b.config_id
       WHERE b.status = 'done' AND c.database_url IS NULL`,
    );
    return row?.at ?? null;
  }

  async insertRestore(restore: Omit<BackupRestore, 'id'>): Promise<BackupRestore> {
    return this.db.manager.getRepository(BackupRestore).save(restore);
  }

  /** Restores, newest first (of one configuration when given). */
  async listRestores(
    configId: number | undefined,
    limit: number,
    offset: number,
  ): Promise<{ items: BackupRestore[]; total: number }> {
    const [items, total] = await this.db.manager.getRepository(BackupRestore).findAndCount({
      where: configId === undefined ? {} : { configId },
      order: { restoredAt: 'DESC', id: 'DESC' },
      take: limit,
      skip: offset,
    });
    return { items, total };
  }

  /** Locks one configuration whose restore drill is due (as `lockDueConfig`, for drills). */
  lockDueDrill(now: Date, manager: EntityManager): Promise<BackupConfig | null> {
    return this.lockDue('next_drill_at', now, manager);
  }

  async setNextDrill(id: number, next: Date | null, manager: EntityManager): Promise<void> {
    await this.setNext('next_drill_at', id, next, manager);
  }

  /** The newest backup of a configuration whose object is stored: what a drill restores. */
  latestStored(configId: number): Promise<Backup | null> {
    return this.backups()
      .createQueryBuilder('b')
      .where("b.config_id = :configId AND b.status = 'done' AND b.deleted_at IS NULL", { configId })
      .orderBy('b.started_at', 'DESC')
      .addOrderBy('b.id', 'DESC')
      .getOne();
  }

  async insertDrill(drill: {
    configId: number;
    backupId: number | null;
    status: 'done' | 'failed';
    startedAt: Date;
    finishedAt: Date;
    restoreSeconds: number | null;
    checkedTables: number | null;
    checkedFiles: number | null;
    neutralized: string | null;
    error: string | null;
  }): Promise<number> {
    const [row] = await this.db.query<{ id: number }[]>(
      `INSERT INTO backup_drill (config_id, backup_id, status, started_at, finished_at, restore_seconds,
         checked_tables, checked_files, neutralized, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
      [
        drill.configId,
        drill.backupId,
        drill.status,
        drill.startedAt,
        drill.finishedAt,
        drill.restoreSeconds,
        drill.checkedTables,
        drill.checkedFiles,
        drill.neutralized,
        drill.error,
      ],
    );
    return row.id;
  }

  /**
   * Takes the advisory lock a running drill of the configuration holds until `manager`'s transaction ends; false
   * when another session (a drill elsewhere) holds it.
   */
  async tryDrillLock(configId: number, manager: EntityManager): Promise<boolean> {
    const [row] = await manager.query<{ claimed: boolean }[]>(
      'SELECT pg_try_advisory_xact_lock($1, $2) AS claimed',
      [DRILL_LOCK, configId],
    );
    return row?.claimed === true;
  }

  /** The latest drills of a configuration, newest first. */
  async drills(configId: number, limit: number): Promise<DrillRecord[]> {
    return this.db.query(
      `SELECT id, backup_id AS "backupId", status, started_at AS "startedAt", finished_at AS "finishedAt",
         restore_seconds AS "restoreSeconds", checked_tables AS "checkedTables", checked_files AS "checkedFiles",
         error
       FROM backup_drill WHERE config_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
      [configId, limit],
    );
  }

  /** The restore time of each configuration's latest successful drill (the `backup_restore_seconds` gauge). */
  lastDrillSeconds(): Promise<{ config_id: number; name: string; seconds: number }[]> {
    return this.db.query(
      `SELECT DISTINCT ON (d.config_id) d.config_id, c.name, d.restore_seconds AS seconds
       FROM backup_drill d JOIN backup_config c ON c.id = d.config_id
       WHERE d.status = 'done' ORDER BY d.config_id, d.started_at DESC, d.id DESC`,
    );
  }

  /** The size of the newest successful backup of each configuration: what a running one is measured against. */
  async lastSizes(configIds: number[]): Promise<Map<number, number>> {
    const rows = await this.db.query<{ config_id: number; size: string }[]>(
      `SELECT DISTINCT ON (config_id) config_id, size FROM backup_backup
       WHERE status = 'done' AND size IS NOT NULL AND config_id = ANY($1)
       ORDER BY config_id, finished_at DESC`,
      [configIds],
    );
    return new Map(rows.map((r) => [r.config_id, Number(r.size)]));
  }
}
