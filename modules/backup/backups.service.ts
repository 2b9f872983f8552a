import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import {
  AppException,
  badRequest,
  ChatterService,
  Clock,
  conflict,
  FieldException,
  I18nService,
  notFound,
  type Page,
  type RequestContext,
} from '../../src/index.js';
import {
  toBackupResponse,
  type BackupResponse,
  type ListBackupsQueryDto,
  type RestoreResponse,
} from './backup.dto.js';
import type { Backup } from './backup.entity.js';
import type { BackupRestore } from './backup-restore.entity.js';
import { BackupError } from './backup.error.js';
import { BackupPolicy } from './backup-policy.service.js';
import { BackupRunner } from './backup-runner.service.js';
import { BackupVerifier } from './backup-verifier.service.js';
import { BackupsRepository } from './backups.repository.js';
import { PgToolsRepository } from './pg-tools.repository.js';
import { BACKUP_MODEL, CONFIG_MODEL } from './settings.js';
import { StorageRepository } from './storage.repository.js';
import { FilestoreRepository, type FilestoreLocation } from './filestore.repository.js';
import { fileAccess } from './zip.js';

/** A filestore location as people write it. */
function describeLocation(location: FilestoreLocation): string {
  return location.kind === 'local'
    ? location.folder
    : `s3://${location.bucket}${location.prefix ? `/${location.prefix}` : ''}`;
}

/** PostgreSQL's duplicate_database. */
const DUPLICATE_DATABASE = '42P04';

/** Reading, downloading, verifying, restoring and deleting backups. */
@Injectable()
export class BackupsService {
  constructor(
    @Inject(BackupsRepository) private readonly repo: BackupsRepository,
    @Inject(StorageRepository) private readonly storage: StorageRepository,
    @Inject(PgToolsRepository) private readonly pg: PgToolsRepository,
    @Inject(BackupRunner) private readonly runner: BackupRunner,
    @Inject(BackupVerifier) private readonly verifier: BackupVerifier,
    @Inject(BackupPolicy) private readonly policy: BackupPolicy,
    @Inject(ChatterService) private readonly chatter: ChatterService,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(FilestoreRepository) private readonly filestores: FilestoreRepository,
  ) {}

  async list(_ctx: RequestContext, query: ListBackupsQueryDto): Promise<Page<BackupResponse>> {
    const { items, total } = await this.repo.listBackups({
      configId: query.config_id,
      status: query.status,
      includeDeleted: query.include_deleted ?? false,
      limit: query.limit,
      offset: query.offset,
    });
    return { items: items.map(toBackupResponse), total, limit: query.limit, offset: query.offset };
  }

  async get(_ctx: RequestContext, id: number): Promise<BackupResponse> {
    return toBackupResponse(await this.find(id));
  }

  /** The stored object as a stream, for a download. */
  async download(
    _ctx: RequestContext,
    id: number,
  ): Promise<{ stream: Readable; filename: string; size: number }> {
    const backup = this.stored(await this.find(id));
    const stream = await this.storage.read(backup.storage, backup.objectKey);
    return { stream, filename: backup.objectKey.split('/').pop()!, size: Number(backup.size) };
  }

  /** Verifies a stored backup again (sha256 and `pg_restore --list`); one that fails becomes `failed`. */
  async verify(_ctx: RequestContext, id: number): Promise<BackupResponse> {
    const backup = this.stored(await this.find(id));
    return toBackupResponse((await this.runner.reverify(backup)) ?? backup);
  }

  /**
   * Restores a backup into a new database on the same server as the backed-up one; an existing name is refused.
   * In the copy every backup configuration is switched off, so that it never writes into the same storage.
   */
  async restore(
    ctx: RequestContext,
    id: number,
    into: string,
    onProgress?: (bytes: number) => void,
  ): Promise<RestoreResponse> {
    const backup = this.stored(await this.find(id));
    const config = await this.repo.findConfig(backup.configId);
    if (!config) throw notFound(CONFIG_MODEL, backup.configId);
    const source = this.policy.databaseUrl(config);
    if (backup.encryptionEnv) {
      try {
        this.policy.passphrase(backup.encryptionEnv);
      } catch (error) {
        if (error instanceof BackupError) throw badRequest(error.key, error.args);
        throw error;
      }
    }
    // Tied to the `into` field: a form shows it next to the name to change.
    const exists = () =>
      new FieldException('into', 'backup.errors.database_exists', { name: into }, HttpStatus.CONFLICT);
    if (await this.pg.databaseExists(source, into)) throw exists();
    const filestore = backup.format === 'odoo_zip' ? this.filestoreTarget(config.filestore, into) : null;
    if (filestore && (await this.filestores.inUse(filestore)))
      throw new FieldException('into', 'backup.errors.filestore_exists', { name: into }, HttpStatus.CONFLICT);
    const started = performance.now();
    try {
      await this.pg.createDatabase(source, into, { odoo: backup.format === 'odoo_zip' });
    } catch (error) {
      if ((error as { code?: string }).code === DUPLICATE_DATABASE) throw exists();
      throw error;
    }
    const target = new URL(source);
    target.pathname = `/${into}`;
    let deactivated: number;
    let files: number;
    try {
      ({ files } = await this.verifier.restoreArchive(backup, target.toString(), filestore, onProgress));
      deactivated = await this.pg.deactivateConfigs(
        target.toString(),
        this.i18n.t('backup.errors.running_in_copy', 'en'),
      );
    } catch (error) {
      await this.pg.dropDatabase(source, into).catch(() => undefined);
      throw new AppException(HttpStatus.UNPROCESSABLE_ENTITY, 'backup.errors.restore_failed', {
        error:
          error instanceof BackupError
            ? this.i18n.t(error.key, 'en', error.args)
            : error instanceof Error
              ? error.message
              : String(error),
      });
    }
    await this.chatter.log(
      ctx,
      { model: CONFIG_MODEL, id: config.id },
      {
        body: { key: 'backup.messages.restored', args: { backup: backup.id, database: into } },
      },
    );
    await this.repo.insertRestore({
      backupId: backup.id,
      configId: config.id,
      configName: config.name,
      backupStartedAt: backup.startedAt,
      database: into,
      server: target.port ? `${target.hostname}:${target.port}` : target.hostname,
      userId: ctx.user?.id ?? null,
      restoredBy: ctx.user?.email ?? '',
      restoredAt: this.clock.now(),
      durationMs: Math.round(performance.now() - started),
      deactivatedConfigs: deactivated,
    });
    return {
      backup_id: backup.id,
      database: into,
      deactivated_configs: deactivated,
      filestore: filestore && describeLocation(filestore),
      filestore_files: files,
    };
  }

  /**
   * Restores a zip written by Odoo's database manager (or by Vigil) from a file, onto the server of a configuration's
   * database, its filestore beside the configuration's, as Odoo's `restore_db` does.
   */
  async importOdooZip(
    ctx: RequestContext,
    configId: number,
    path: string,
    into: string,
  ): Promise<RestoreResponse> {
    const config = await this.repo.findConfig(configId);
    if (!config) throw notFound(CONFIG_MODEL, configId);
    const source = this.policy.databaseUrl(config);
    if (await this.pg.databaseExists(source, into))
      throw new FieldException('into', 'backup.errors.database_exists', { name: into }, HttpStatus.CONFLICT);
    const filestore = this.filestoreTarget(config.filestore, into);
    if (filestore && (await this.filestores.inUse(filestore)))
      throw new FieldException('into', 'backup.errors.filestore_exists', { name: into }, HttpStatus.CONFLICT);
    const archive = await fileAccess(path);
    await this.pg.createDatabase(source, into, { odoo: true });
    const target = new URL(source);
    target.pathname = `/${into}`;
    let files: number;
    try {
      ({ files } = await this.verifier.restoreOdooZip(archive, target.toString(), filestore));
    } catch (error) {
      await this.pg.dropDatabase(source, into).catch(() => undefined);
      throw new AppException(HttpStatus.UNPROCESSABLE_ENTITY, 'backup.errors.restore_failed', {
        error: error instanceof BackupError ? this.i18n.t(error.key, 'en', error.args) : String(error),
      });
    }
    await this.chatter.log(
      ctx,
      { model: CONFIG_MODEL, id: config.id },
      { body: { key: 'backup.messages.imported', args: { file: basename(path), database: into } } },
    );
    return {
      backup_id: null,
      database: into,
      deactivated_configs: 0,
      filestore: filestore && describeLocation(filestore),
      filestore_files: files,
    };
  }

  /** Where a restore into `into` puts the filestore: beside the configuration's own (none when it names none). */
  private filestoreTarget(value: string | null, into: string): FilestoreLocation | null {
    if (!value) return null;
    try {
      return this.filestores.restoreLocation(value, into);
    } catch (error) {
      if (error instanceof BackupError) throw badRequest(error.key, error.args);
      throw error;
    }
  }

  /** The restored databases, newest first (of one configuration when given). */
  async restores(
    _ctx: RequestContext,
    configId: number | undefined,
    limit: number,
    offset: number,
  ): Promise<Page<BackupRestore>> {
    const { items, total } = await this.repo.listRestores(configId, limit, offset);
    return { items, total, limit, offset };
  }

  /** The size of the newest successful backup of each configuration (a running backup's expected size). */
  lastSizes(_ctx: RequestContext, configIds: number[]): Promise<Map<number, number>> {
    return this.repo.lastSizes(configIds);
  }

  /** Deletes the stored object; the record stays, marked deleted. */
  async remove(_ctx: RequestContext, id: number): Promise<void> {
    const backup = await this.find(id);
    if (backup.status === 'running') throw conflict('backup.errors.backup_running');
    if (backup.deletedAt) return;
    await this.storage.remove(backup.storage, backup.objectKey);
    await this.repo.markDeleted(backup.id, 'manual', this.clock.now());
  }

  private async find(id: number): Promise<Backup> {
    const backup = await this.repo.findBackup(id);
    if (!backup) throw notFound(BACKUP_MODEL, id);
    return backup;
  }

  /** A done backup whose object is still stored. */
  private stored(backup: Backup): Backup {
    if (backup.status !== 'done' || backup.deletedAt)
      throw conflict('backup.errors.not_stored', { id: backup.id, status: backup.status });
    return backup;
  }
}
