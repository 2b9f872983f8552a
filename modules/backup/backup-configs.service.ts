import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import {
  ChatterService,
  Clock,
  conflict,
  Database,
  FieldException,
  notFound,
  Schedule,
  ScheduleError,
  type Page,
  type RequestContext,
} from '../../src/index.js';
import {
  MASKED_PASSWORD,
  toConfigResponse,
  type BackupConfigResponse,
  type CreateBackupConfigDto,
} from './backup-config.dto.js';
import type { UpdateBackupConfigDto } from './backup-config.dto.js';
import type { BackupConfig } from './backup-config.entity.js';
import { toBackupResponse, type BackupResponse } from './backup.dto.js';
import type { Backup } from './backup.entity.js';
import { BackupError } from './backup.error.js';
import { BackupPolicy } from './backup-policy.service.js';
import { BackupRunner, nextRun } from './backup-runner.service.js';
import { nextDrill } from './backup-drills.service.js';
import { BackupsRepository } from './backups.repository.js';
import { CONFIG_MODEL } from './settings.js';
import { FilestoreRepository } from './filestore.repository.js';

const DEFAULT_CRON = '0 3 * * *';

/** A refusal about one field of the configuration (400, as before; a web form shows it next to the field). */
const refused = (field: string, key: string, args?: Record<string, string | number>) =>
  new FieldException(field, key, args, HttpStatus.BAD_REQUEST);

/** Managing backup configurations and starting a run by hand. */
@Injectable()
export class BackupConfigsService {
  constructor(
    @Inject(BackupsRepository) private readonly repo: BackupsRepository,
    @Inject(BackupRunner) private readonly runner: BackupRunner,
    @Inject(BackupPolicy) private readonly policy: BackupPolicy,
    @Inject(ChatterService) private readonly chatter: ChatterService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(Database) private readonly database: Database,
    @Inject(FilestoreRepository) private readonly filestores: FilestoreRepository,
  ) {}

  async list(_ctx: RequestContext, limit: number, offset: number): Promise<Page<BackupConfigResponse>> {
    const { items, total } = await this.repo.listConfigs(limit, offset);
    const last = await this.repo.lastSuccess(items.map((c) => c.id));
    return {
      items: items.map((c) => toConfigResponse(this.opened(c), last.get(c.id) ?? null)),
      total,
      limit,
      offset,
    };
  }

  async get(_ctx: RequestContext, id: number): Promise<BackupConfigResponse> {
    const config = await this.find(id);
    const last = await this.repo.lastSuccess([id]);
    return toConfigResponse(this.opened(config), last.get(id) ?? null);
  }

  /** The configuration with its database URL in clear, for the response to mask (one that cannot be opened shows ***). */
  private opened(config: BackupConfig): BackupConfig {
    if (config.databaseUrl === null) return config;
    try {
      return { ...config, databaseUrl: this.policy.databaseUrl(config) };
    } catch (error) {
      if (!(error instanceof BackupError)) throw error;
      return { ...config, databaseUrl: '***' };
    }
  }

  async create(ctx: RequestContext, dto: CreateBackupConfigDto): Promise<BackupConfigResponse> {
    const now = this.clock.now();
    const databaseUrl = dto.database_url ? this.keptPassword(dto.database_url, null) : null;
    const fields: Partial<BackupConfig> = {
      name: dto.name.trim(),
      databaseUrl: databaseUrl ? this.policy.sealUrl(databaseUrl) : null,
      cron: dto.cron?.trim() ?? DEFAULT_CRON,
      timeZone: dto.time_zone ?? 'UTC',
      storage: dto.storage,
      prefix: dto.prefix ?? '',
      verifyLevel: dto.verify_level ?? 'list',
      format: dto.format ?? 'dump',
      filestore: dto.filestore || null,
      drillCron: dto.drill_cron?.trim() || null,
      encryptionEnv: dto.encryption_env ?? null,
      keepLast: dto.keep_last ?? null,
      keepHourly: dto.keep_hourly ?? null,
      keepDaily: dto.keep_daily ?? null,
      keepWeekly: dto.keep_weekly ?? null,
      keepMonthly: dto.keep_monthly ?? null,
      keepYearly: dto.keep_yearly ?? null,
      active: dto.active ?? true,
      userId: dto.user_id === undefined ? (ctx.user?.id ?? null) : dto.user_id,
      createdAt: now,
      updatedAt: now,
    };
    this.assertSchedule(fields.cron!, fields.timeZone!);
    this.assertPassphrase(fields.encryptionEnv ?? null);
    this.assertEncryptedIfOwn(fields as BackupConfig);
    this.assertFilestore(fields);
    if (fields.drillCron) this.assertSchedule(fields.drillCron, fields.timeZone!, 'drill_cron');
    if (databaseUrl) await this.assertDatabaseAllowed(databaseUrl);
    await this.assertStorage(fields);
    fields.nextRunAt = nextRun(fields as BackupConfig, now);
    fields.nextDrillAt = nextDrill(fields as BackupConfig, now);
    const id = await this.database.transaction(async (manager) => {
      const saved = await this.repo.saveConfig(fields, manager);
      if (saved.userId !== null)
        await this.chatter.followUser({ model: CONFIG_MODEL, id: saved.id }, saved.userId, manager);
      return saved.id;
    });
    return this.get(ctx, id);
  }

  async update(ctx: RequestContext, id: number, dto: UpdateBackupConfigDto): Promise<BackupConfigResponse> {
    await this.database.transaction(async (manager) => {
      const before = await this.repo.findConfigForUpdate(id, manager);
      if (!before) throw notFound(CONFIG_MODEL, id);
      const after: BackupConfig = { ...before };
      const databaseUrl = dto.database_url ? this.keptPassword(dto.database_url, before) : dto.database_url;
      if (dto.name !== undefined) after.name = dto.name.trim();
      if (databaseUrl !== undefined)
        after.databaseUrl = databaseUrl ? this.policy.sealUrl(databaseUrl) : null;
      if (dto.cron !== undefined) after.cron = dto.cron.trim();
      if (dto.time_zone !== undefined) after.timeZone = dto.time_zone;
      if (dto.storage !== undefined) after.storage = dto.storage;
      if (dto.prefix !== undefined) after.prefix = dto.prefix;
      if (dto.verify_level !== undefined) after.verifyLevel = dto.verify_level;
      if (dto.format !== undefined) after.format = dto.format;
      if (dto.filestore !== undefined) after.filestore = dto.filestore || null;
      if (dto.drill_cron !== undefined) after.drillCron = dto.drill_cron?.trim() || null;
      if (dto.encryption_env !== undefined) after.encryptionEnv = dto.encryption_env;
      if (dto.keep_last !== undefined) after.keepLast = dto.keep_last;
      if (dto.keep_hourly !== undefined) after.keepHourly = dto.keep_hourly;
      if (dto.keep_daily !== undefined) after.keepDaily = dto.keep_daily;
      if (dto.keep_weekly !== undefined) after.keepWeekly = dto.keep_weekly;
      if (dto.keep_monthly !== undefined) after.keepMonthly = dto.keep_monthly;
      if (dto.keep_yearly !== undefined) after.keepYearly = dto.keep_yearly;
      if (dto.active !== undefined) after.active = dto.active;
      if (dto.user_id !== undefined) after.userId = dto.user_id;
      this.assertSchedule(after.cron, after.timeZone);
      if (dto.encryption_env !== undefined) this.assertPassphrase(after.encryptionEnv);
      if (dto.encryption_env !== undefined || dto.database_url !== undefined)
        this.assertEncryptedIfOwn(after);
      if (databaseUrl) await this.assertDatabaseAllowed(databaseUrl);
      if (dto.storage !== undefined || dto.database_url !== undefined) await this.assertStorage(after);
      if (dto.format !== undefined || dto.filestore !== undefined) this.assertFilestore(after);
      if (after.drillCron) this.assertSchedule(after.drillCron, after.timeZone, 'drill_cron');
      if (
        after.drillCron !== before.drillCron ||
        after.timeZone !== before.timeZone ||
        after.active !== before.active ||
        (after.active && after.drillCron && !after.nextDrillAt)
      )
        after.nextDrillAt = nextDrill(after, this.clock.now());
      const now = this.clock.now();
      if (
        after.cron !== before.cron ||
        after.timeZone !== before.timeZone ||
        after.active !== before.active ||
        (after.active && !after.nextRunAt)
      )
        after.nextRunAt = nextRun(after, now);
      after.updatedAt = now;
      await this.repo.saveConfig(after, manager);
      await this.chatter.track(ctx, { model: CONFIG_MODEL, id }, before, after, {}, manager);
    });
    return this.get(ctx, id);
  }

  /** Deletes a configuration with its records; refused while a stored backup or a run remains. */
  async remove(_ctx: RequestContext, id: number): Promise<void> {
    await this.database.transaction(async (manager) => {
      const config = await this.repo.findConfigForUpdate(id, manager);
      if (!config) throw notFound(CONFIG_MODEL, id);
      const stored = await this.repo.storedBackups(id, manager);
      if (stored.some((b) => b.status === 'running')) throw conflict('backup.errors.config_running');
      const kept = stored.filter((b) => b.status === 'done');
      if (kept.length) throw conflict('backup.errors.config_has_backups', { count: kept.length });
      await this.repo.deleteConfig(id, manager);
    });
  }

  /** Starts a run now; it continues in the background (`wait` for the command line). */
  async run(
    _ctx: RequestContext,
    id: number,
    options: { wait?: boolean; onProgress?: (bytes: number) => void } = {},
  ): Promise<BackupResponse> {
    const backup: Backup = await this.database.transaction(async (manager) => {
      const config = await this.repo.findConfigForUpdate(id, manager);
      if (!config) throw notFound(CONFIG_MODEL, id);
      const started = await this.runner.start(config, 'manual', manager);
      if (!started) throw conflict('backup.errors.already_running', { name: config.name });
      return started;
    });
    if (options.wait)
      return toBackupResponse((await this.runner.execute(backup.id, options.onProgress)) ?? backup);
    this.runner.executeInBackground(backup.id);
    return toBackupResponse(backup);
  }

  private async find(id: number): Promise<BackupConfig> {
    const config = await this.repo.findConfig(id);
    if (!config) throw notFound(CONFIG_MODEL, id);
    return config;
  }

  /**
   * A URL sent back as the API shows it (password masked) keeps the stored password — but only for the same
   * server and user: a stored password goes nowhere it was not typed for, so a new host needs it typed again.
   */
  private keptPassword(url: string, stored: BackupConfig | null): string {
    let given: URL;
    try {
      given = new URL(url);
    } catch {
      return url;
    }
    if (decodeURIComponent(given.password) !== MASKED_PASSWORD) return url;
    let previous: URL | undefined;
    try {
      if (stored?.databaseUrl) previous = new URL(this.policy.databaseUrl(stored));
    } catch (error) {
      if (!(error instanceof BackupError)) throw error;
    }
    if (
      !previous ||
      previous.hostname !== given.hostname ||
      previous.port !== given.port ||
      previous.username !== given.username
    )
      throw refused('database_url', 'backup.errors.password_required');
    given.password = previous.password;
    return given.toString();
  }

  private assertSchedule(cron: string, timeZone: string, field = 'cron'): void {
    try {
      new Schedule(cron, timeZone);
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
      throw refused(field, 'backup.errors.bad_schedule', {
        cron,
        time_zone: timeZone,
        error: error.message,
      });
    }
  }

  /** Encryption needs its passphrase now: a configuration that cannot run is refused when it is saved. */
  private assertPassphrase(name: string | null): void {
    if (name === null) return;
    try {
      this.policy.passphrase(name);
    } catch (error) {
      if (error instanceof BackupError) throw refused('encryption_env', error.key, error.args);
      throw error;
    }
  }

  private async assertDatabaseAllowed(url: string): Promise<void> {
    try {
      await this.policy.assertDatabaseAllowed(url);
    } catch (error) {
      if (error instanceof BackupError) throw refused('database_url', error.key, error.args);
      throw error;
    }
  }

  private assertEncryptedIfOwn(config: BackupConfig): void {
    try {
      this.policy.assertEncryptedIfOwn(config);
    } catch (error) {
      if (error instanceof BackupError) throw refused('encryption_env', error.key, error.args);
      throw error;
    }
  }

  /** A filestore goes with Odoo's zip format, and a local one lies under BACKUP_FILESTORE_ROOTS. */
  private assertFilestore(config: Partial<BackupConfig>): void {
    if (!config.filestore) return;
    if (config.format !== 'odoo_zip') throw refused('filestore', 'backup.errors.filestore_needs_odoo_zip');
    try {
      this.filestores.location(config.filestore);
    } catch (error) {
      if (error instanceof BackupError) throw refused('filestore', error.key, error.args);
      throw error;
    }
  }

  /** A local folder inside the database cluster's own folder is refused when the configuration is saved. */
  private async assertStorage(config: Partial<BackupConfig>): Promise<void> {
    if (config.storage !== 'local') return;
    try {
      await this.policy.assertOutsideCluster(
        this.policy.databaseUrl({ databaseUrl: config.databaseUrl ?? null }),
      );
    } catch (error) {
      if (error instanceof BackupError) throw refused('storage', error.key, error.args);
      // The database cannot be reached now: the run will say so.
    }
  }
}
