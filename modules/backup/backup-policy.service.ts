import { resolve, sep } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import {
  APP_CONFIG,
  SecretKeys,
  SecretOpenError,
  SettingsService,
  type AppConfig,
  type SecretBox,
} from '../../src/index.js';
import type { BackupConfig } from './backup-config.entity.js';
import { BackupError, reason } from './backup.error.js';
import { BackupsRepository } from './backups.repository.js';
import { SCRYPT_LOG_N } from './cipher.js';
import { DatabaseAddressPolicy, PRIVATE_NETWORKS } from './database-address.js';
import { PgToolsRepository } from './pg-tools.repository.js';
import { ENV } from './settings.js';
import { StorageRepository } from './storage.repository.js';

/**
 * What a backup configuration may reach and the secrets it needs: its database URL (sealed at rest), its
 * encryption passphrase, and the refusals a configuration meets when it is saved and again at each run.
 */
@Injectable()
export class BackupPolicy {
  private readonly urlBox: SecretBox;
  private readonly addresses = new DatabaseAddressPolicy();

  constructor(
    @Inject(BackupsRepository) private readonly repo: BackupsRepository,
    @Inject(StorageRepository) private readonly storage: StorageRepository,
    @Inject(PgToolsRepository) private readonly pg: PgToolsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SecretKeys) keys: SecretKeys,
    @Inject(SettingsService) private readonly settings: SettingsService,
  ) {
    this.urlBox = keys.box('backup-database-url');
  }

  /** A database URL as it is stored: sealed (its password must not lie in clear in the database). */
  sealUrl(url: string): string {
    return this.urlBox.seal(url);
  }

  /** The database a configuration backs up. */
  databaseUrl(config: Pick<BackupConfig, 'databaseUrl'>): string {
    if (config.databaseUrl === null) return this.repo.ownDatabaseUrl;
    try {
      return this.urlBox.open(config.databaseUrl);
    } catch (error) {
      if (!(error instanceof SecretOpenError)) throw error;
      throw new BackupError('backup.errors.database_url_unreadable');
    }
  }

  /** The passphrase held by an environment variable; a missing one is named. */
  passphrase(name: string): string {
    const value = this.config.env[name];
    // Unset, empty or blank: a configuration marked encrypted never falls back to writing in clear.
    if (!value?.trim()) throw new BackupError('backup.errors.passphrase_missing', { name });
    return value;
  }

  /** The scrypt work factor of new encrypted backups: BACKUP_SCRYPT_LOG_N when valid (10–20), else age's 18. */
  scryptLogN(): number {
    const value = Number(this.config.env[ENV.scryptLogN]);
    return Number.isInteger(value) && value >= 10 && value <= 20 ? value : SCRYPT_LOG_N;
  }

  /**
   * Whether `url` names Vigil's own database (the default, or the same server, port and database spelled out):
   * its dump holds every user's password hash and every sealed secret, so it is never written in clear.
   */
  isOwnDatabase(url: string): boolean {
    const own = new URL(this.repo.ownDatabaseUrl);
    const other = new URL(url);
    const port = (u: URL) => u.port || '5432';
    const host = (u: URL) => u.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    return (
      host(other) === host(own) &&
      port(other) === port(own) &&
      decodeURIComponent(other.pathname) === decodeURIComponent(own.pathname)
    );
  }

  /**
   * Refuses a database the address policy does not allow (a manager must not make Vigil dump from 127.0.0.1 or a
   * metadata address); Vigil's own database is always allowed.
   */
  async assertDatabaseAllowed(url: string): Promise<void> {
    if (this.isOwnDatabase(url)) return;
    const allowPrivate = await this.settings.get(PRIVATE_NETWORKS);
    try {
      await this.addresses.check(url, allowPrivate);
    } catch (error) {
      throw new BackupError('backup.errors.database_url_refused', { reason: reason(error).error });
    }
  }

  /** Refuses a configuration that would write Vigil's own database in clear. */
  assertEncryptedIfOwn(config: Pick<BackupConfig, 'databaseUrl' | 'encryptionEnv'>): void {
    if (!config.encryptionEnv && this.isOwnDatabase(this.databaseUrl(config)))
      throw new BackupError('backup.errors.own_database_unencrypted');
  }

  /** Refuses a pg_dump older than the server: it would fail, or worse, write an archive that does not restore. */
  async checkVersions(url: string): Promise<void> {
    const [dump, server] = await Promise.all([this.pg.dumpMajorVersion(), this.pg.serverMajorVersion(url)]);
    if (dump < server) throw new BackupError('backup.errors.pg_dump_too_old', { dump, server });
  }

  /** A local backup folder inside the PostgreSQL cluster's own folder would be backed up and lost with it. */
  async assertOutsideCluster(url: string): Promise<void> {
    const dataDirectory = await this.pg.dataDirectory(url);
    if (!dataDirectory) return;
    const cluster = resolve(dataDirectory);
    const root = resolve(this.storage.localRoot);
    if (root === cluster || root.startsWith(cluster + sep))
      throw new BackupError('backup.errors.inside_cluster', { folder: root, cluster });
  }
}
