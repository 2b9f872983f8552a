import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  APP_CONFIG,
  ChatterService,
  Clock,
  Database,
  I18nService,
  Schedule,
  SecretKeys,
  SecretOpenError,
  SettingsService,
  systemContext,
  type AppConfig,
  type SecretBox,
} from '../../src/index.js';
import type { BackupConfig } from './backup-config.entity.js';
import type { Backup } from './backup.entity.js';
import { BackupError } from './backup.error.js';
import { DatabaseAddressPolicy, PRIVATE_NETWORKS } from './database-address.js';
import { BackupsRepository } from './backups.repository.js';
import { decryptStream, encryptStream, SCRYPT_LOG_N } from './cipher.js';
import { PgToolsRepository, type HeldSnapshot } from './pg-tools.repository.js';
import { backupsToDelete } from './rotation.js';
import {
  CONFIG_MODEL,
  ENV,
  LEASE_RENEW_MS,
  LEASE_SECONDS,
  SUBTYPE_DONE,
  SUBTYPE_FAILED,
  SUBTYPE_STALE,
} from './settings.js';
import { StorageRepository } from './storage.repository.js';
import { FilestoreRepository, filestorePath, type FilestoreLocation } from './filestore.repository.js';
import { fileAccess, openZipEntry, readZipDirectory, ZipWriter, type RandomAccess } from './zip.js';

/** The bytes a run stores, while they are produced, and what the producer reports at its end. */
interface ArchiveSource {
  stdout: Readable;
  done: Promise<FilestoreCount | null>;
  kill(): void;
}

/** Filestore files written into an archive, and the referenced ones the filestore lacked. */
interface FilestoreCount {
  files: number;
  missing: string[];
}

/** What a run or a verification found. */
export interface VerifiedObject {
  size: number;
  sha256: string;
}

/**
 * Runs backups: claims due configurations once across replicas, streams `pg_dump -Fc` into the storage through
 * sha256, verifies the stored object, rotates, and tells the configuration's followers what happened.
 */
@Injectable()
export class BackupRunner implements BeforeApplicationShutdown {
  private readonly logger = new Logger(BackupRunner.name);
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly repo: BackupsRepository,
    private readonly storage: StorageRepository,
    private readonly pg: PgToolsRepository,
    private readonly chatter: ChatterService,
    private readonly i18n: I18nService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Database) private readonly database: Database,
    @Inject(SecretKeys) keys: SecretKeys,
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(FilestoreRepository) private readonly filestore: FilestoreRepository,
  ) {
    this.urlBox = keys.box('backup-database-url');
  }

  private readonly urlBox: SecretBox;
  private readonly addresses = new DatabaseAddressPolicy();

  /** A database URL as it is stored: sealed (its password must not lie in clear in the database). */
  sealUrl(url: string): string {
    return this.urlBox.seal(url);
  }

  /** The scheduled task's pass: dead runs failed, due configurations run, stale configurations alerted. */
  async tick(now: Date): Promise<void> {
    await this.expireLeases(now);
    for (let backup = await this.claimDue(now); backup; backup = await this.claimDue(now)) {
      await this.execute(backup.id);
    }
    await this.alertStale(now);
  }

  /**
   * Claims one due configuration and starts its run; its next run moves past `now` in the same transaction, so
   * a replica racing for the same run finds it either locked (skipped) or no longer due.
   */
  claimDue(now: Date): Promise<Backup | null> {
    return this.database.transaction(async (manager) => {
      for (;;) {
        const config = await this.repo.lockDueConfig(now, manager);
        if (!config) return null;
        await this.repo.setNextRun(config.id, nextRun(config, now), manager);
        const backup = await this.start(config, 'schedule', manager);
        // Still running from an earlier run: this one is skipped, the next comes at its time.
        if (backup) return backup;
        this.logger.warn(
          `Backup configuration ${config.id}: previous run still running, scheduled run skipped`,
        );
      }
    });
  }

  /** A `running` record for the configuration, or null when one is already running. */
  start(
    config: BackupConfig,
    trigger: 'schedule' | 'manual',
    manager: EntityManager,
  ): Promise<Backup | null> {
    const now = this.clock.now();
    const databaseName = decodeURIComponent(new URL(this.databaseUrl(config)).pathname.slice(1));
    const stamp = now.toISOString().slice(0, 19).replace('T', '_').replaceAll(':', '-');
    const prefix = config.prefix.replace(/^\/+|(?<!\/)\/+$/g, '');
    return this.repo.insertRunning(
      {
        configId: config.id,
        trigger,
        storage: config.storage,
        databaseName,
        startedAt: now,
        leaseUntil: this.leaseEnd(),
        encryptionEnv: config.encryptionEnv,
        format: config.format,
      },
      (id) =>
        `${prefix ? `${prefix}/` : ''}${databaseName}.${stamp}.${id}.${config.format === 'odoo_zip' ? 'zip' : 'dump'}${
          config.encryptionEnv ? '.age' : ''
        }`,
      manager,
    );
  }

  /** Runs in the background (the API answers at once); shutdown waits for it. */
  executeInBackground(backupId: number): void {
    const run = this.execute(backupId).catch((error: unknown) => this.logger.error(error));
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  /** Resolves once every background run of this process has ended (verification, notes and rotation included). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  /** Runs a claimed backup to its end: `done` and verified, or `failed` with the reason (not an exception). */
  async execute(backupId: number, onProgress?: (bytes: number) => void): Promise<Backup | null> {
    const backup = await this.repo.findBackup(backupId);
    const config = backup && (await this.repo.findConfig(backup.configId));
    if (!backup || !config) return null;
    const started = performance.now();
    let bytes = 0;
    let lost = false;
    let dumpKill: (() => void) | undefined;
    let snapshot: HeldSnapshot | undefined;
    let files: FilestoreCount | null;
    const renew = setInterval(() => {
      this.repo.renewLease(backup.id, this.leaseEnd(), bytes).then(
        (running) => {
          // Another replica failed this run after our lease passed: stop writing.
          if (!running) {
            lost = true;
            dumpKill?.();
          }
        },
        (error: unknown) => this.logger.warn(`Backup ${backup.id}: lease renewal failed: ${String(error)}`),
      );
    }, LEASE_RENEW_MS);
    try {
      const url = this.databaseUrl(config);
      // A configuration saved before this rule existed: refused at run time too, with the same message.
      if (!backup.encryptionEnv && this.isOwnDatabase(url))
        throw new BackupError('backup.errors.own_database_unencrypted');
      // Checked again at each run: a name may point elsewhere now, or the setting was switched off.
      await this.assertDatabaseAllowed(url);
      // Encryption refuses to lie: no passphrase, no run — checked before anything reaches the storage.
      if (config.encryptionEnv && !backup.encryptionEnv)
        throw new BackupError('backup.errors.encryption_changed');
      const passphrase = backup.encryptionEnv ? this.passphrase(backup.encryptionEnv) : undefined;
      await this.checkVersions(url);
      if (config.storage === 'local') await this.assertOutsideCluster(url);
      const odoo = backup.format === 'odoo_zip';
      // A filestore named by a configuration is checked again at each run (the roots may have changed).
      const filestore = odoo && config.filestore ? this.filestore.location(config.filestore) : null;
      // The restore level compares the restored copy with row counts taken in the very snapshot the dump reads;
      // Odoo's zip reads its manifest and the filestore's file list in the snapshot its dump.sql is taken from.
      // A configuration with restore drills keeps the snapshot's row counts: each drill compares its copy with them.
      const count = config.verifyLevel === 'restore' || config.drillCron !== null;
      if (count || odoo) snapshot = await this.pg.exportSnapshot(url, { count });
      const dump = odoo
        ? this.odooZip(url, backup.databaseName, filestore, snapshot!)
        : this.customDump(url, snapshot?.id);
      dumpKill = () => dump.kill();
      const hash = createHash('sha256');
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          bytes += chunk.length;
          onProgress?.(bytes);
          callback(null, chunk);
        },
      });
      const source = passphrase
        ? await encryptStream(dump.stdout, passphrase, this.scryptLogN())
        : dump.stdout;
      source.on('error', (error) => counter.destroy(error));
      const write = this.storage.write(config.storage, backup.objectKey, source.pipe(counter));
      write.catch(() => dump.kill());
      const [written, dumped] = await Promise.allSettled([write, dump.done]);
      await snapshot?.release();
      // The archive's own failure (pg_dump, a filestore read) is the cause; the storage only saw its stream end.
      if (written.status === 'rejected' && dumped.status === 'fulfilled') throw storageError(written.reason);
      if (dumped.status === 'rejected')
        throw dumped.reason instanceof BackupError
          ? dumped.reason
          : new BackupError('backup.errors.dump_failed', reason(dumped.reason));
      if (lost) throw new BackupError('backup.errors.lease_lost');
      files = dumped.value;
      const sha256 = hash.digest('hex');
      await this.verify(backup, { size: bytes, sha256 }, files?.files ?? null);
      if (config.verifyLevel === 'restore' && snapshot)
        await this.verifyByRestore(url, backup, snapshot.counts);
      const finished = await this.repo.finishDone(backup.id, {
        finishedAt: this.clock.now(),
        size: bytes,
        sha256,
        durationMs: Math.round(performance.now() - started),
        verification: config.verifyLevel,
        filestoreFiles: files?.files ?? null,
        filestoreMissing: files?.missing.length ?? null,
        rowCounts: snapshot && Object.keys(snapshot.counts).length ? snapshot.counts : null,
      });
      if (!finished) throw new BackupError('backup.errors.lease_lost');
    } catch (error) {
      clearInterval(renew);
      await this.fail(config, backup, error, Math.round(performance.now() - started));
      return this.repo.findBackup(backup.id);
    } finally {
      clearInterval(renew);
      await snapshot?.release();
    }
    await this.repo.clearStaleAlert(config.id);
    await this.chatter.post(systemContext(), this.thread(config), {
      subtype: SUBTYPE_DONE,
      type: 'notification',
      body: {
        key: 'backup.messages.done_body',
        args: { name: config.name, size: bytes, key: backup.objectKey },
      },
    });
    if (files?.missing.length)
      await this.chatter.post(systemContext(), this.thread(config), {
        subtype: SUBTYPE_FAILED,
        type: 'notification',
        subject: { key: 'backup.messages.filestore_missing_subject', args: { name: config.name } },
        body: {
          key: 'backup.messages.filestore_missing_body',
          args: {
            name: config.name,
            backup: backup.id,
            count: files.missing.length,
            files: files.missing.slice(0, 10).join(', '),
          },
        },
      });
    await this.rotate(config);
    return this.repo.findBackup(backup.id);
  }

  /**
   * Re-reads the stored object: its size and sha256 must be the ones written, and `pg_restore --list` must read
   * it as a custom-format archive.
   */
  async verify(
    backup: Backup,
    expected: VerifiedObject,
    filestoreFiles: number | null = null,
  ): Promise<void> {
    let stored: VerifiedObject;
    try {
      stored = await digest(await this.storage.read(backup.storage, backup.objectKey));
    } catch (error) {
      throw storageError(error);
    }
    if (stored.size !== expected.size || stored.sha256 !== expected.sha256)
      throw new BackupError('backup.errors.checksum_mismatch', {
        expected: expected.sha256,
        actual: stored.sha256,
        expected_size: expected.size,
        actual_size: stored.size,
      });
    if (backup.format === 'odoo_zip') return this.verifyZip(backup, filestoreFiles ?? backup.filestoreFiles);
    let toc: string;
    try {
      toc = await this.pg.list(await this.readArchive(backup));
    } catch (error) {
      throw new BackupError('backup.errors.not_an_archive', reason(error));
    }
    if (!/^; Archive created at /m.test(toc))
      throw new BackupError('backup.errors.not_an_archive', { error: 'no table of contents' });
  }

  /**
   * Restores the stored object into a scratch database on the same server, compares every table's row count with
   * the counts taken in the dump's snapshot, and drops the scratch database whatever happens.
   */
  async verifyByRestore(url: string, backup: Backup, expected: Record<string, number>): Promise<void> {
    const scratch = `vigil_verify_${backup.id}_${randomBytes(4).toString('hex')}`;
    const target = new URL(url);
    target.pathname = `/${scratch}`;
    await this.pg.createDatabase(url, scratch, { odoo: backup.format === 'odoo_zip' });
    let restored: Record<string, number>;
    try {
      await this.restoreArchive(backup, target.toString(), null);
      restored = await this.pg.countRows(target.toString());
    } catch (error) {
      throw new BackupError('backup.errors.restore_check_failed', reason(error));
    } finally {
      await this.pg.dropDatabase(url, scratch);
    }
    const tables = [...new Set([...Object.keys(expected), ...Object.keys(restored)])].sort();
    const differences = tables
      .filter((table) => expected[table] !== restored[table])
      .map(
        (table) =>
          `${table}: ${expected[table] ?? 'missing'} in the database, ${restored[table] ?? 'missing'} restored`,
      );
    if (differences.length)
      throw new BackupError('backup.errors.restore_mismatch', { tables: differences.join('; ') });
  }

  /** Verifies a stored backup again; one that no longer verifies becomes `failed` and its followers hear of it. */
  async reverify(backup: Backup): Promise<Backup | null> {
    const config = await this.repo.findConfig(backup.configId);
    if (!config) return null;
    try {
      await this.verify(backup, { size: Number(backup.size), sha256: backup.sha256 ?? '' });
    } catch (error) {
      await this.fail(config, backup, error, null, false);
    }
    return this.repo.findBackup(backup.id);
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

  /** Runs whose lease passed: their process died. Each becomes `failed` and its followers hear of it. */
  async expireLeases(now: Date): Promise<void> {
    const expired = await this.repo.expireLeases(now, this.i18n.t('backup.errors.lease_expired', 'en'));
    for (const backup of expired) {
      await this.storage
        .discard(backup.storage, backup.objectKey)
        .catch((error: unknown) =>
          this.logger.warn(`Backup ${backup.id}: cannot discard what the dead run left: ${String(error)}`),
        );
      const config = await this.repo.findConfig(backup.configId);
      if (config) await this.postFailure(config, backup, backup.error ?? '');
    }
  }

  /** Posts `backup.mt_backup_stale` once for an active configuration without success for twice its interval. */
  async alertStale(now: Date): Promise<void> {
    for (const { config, lastSuccessAt } of await this.repo.staleCandidates()) {
      let interval: number;
      try {
        interval = new Schedule(config.cron, config.timeZone).intervalMs(now);
      } catch {
        continue;
      }
      const since = lastSuccessAt ?? config.createdAt;
      if (now.getTime() - since.getTime() <= 2 * interval) continue;
      if (!(await this.repo.claimStaleAlert(config.id, now))) continue;
      await this.chatter.post(systemContext(), this.thread(config), {
        subtype: SUBTYPE_STALE,
        type: 'notification',
        subject: { key: 'backup.messages.stale_subject', args: { name: config.name } },
        body: {
          key: lastSuccessAt ? 'backup.messages.stale_body' : 'backup.messages.stale_never_body',
          args: { name: config.name, last: lastSuccessAt?.toISOString() ?? null },
        },
      });
    }
  }

  /** `pg_dump -Fc`, as a source of the stored object. */
  private customDump(url: string, snapshot: string | undefined): ArchiveSource {
    const dump = this.pg.dump(url, snapshot);
    return { stdout: dump.stdout, done: dump.done.then(() => null), kill: () => dump.kill() };
  }

  /**
   * Odoo's zip, streamed: `manifest.json` and `dump.sql` (plain SQL) from the snapshot, then every file the
   * snapshot's `ir_attachment.store_fname` names, one after the other — the filestore never sits in memory or on
   * the local disk. A referenced file the filestore lacks is counted and named, not fatal (Odoo tolerates it too).
   */
  private odooZip(
    url: string,
    databaseName: string,
    filestore: FilestoreLocation | null,
    snapshot: HeldSnapshot,
  ): ArchiveSource {
    const zip = new ZipWriter(this.clock.now());
    const dump = this.pg.dump(url, snapshot.id, 'plain');
    let stopped = false;
    const done = (async (): Promise<FilestoreCount> => {
      try {
        const manifest = await this.pg.odooManifest(snapshot, databaseName);
        await zip.add('manifest.json', JSON.stringify(manifest, null, 4));
        await zip.add('dump.sql', dump.stdout);
      } catch (error) {
        dump.kill();
        throw error;
      }
      await dump.done;
      const count: FilestoreCount = { files: 0, missing: [] };
      if (filestore)
        for await (const batch of this.pg.attachmentFiles(snapshot))
          for (const storeFname of batch) {
            if (stopped) throw new BackupError('backup.errors.lease_lost');
            const content = await this.filestore.read(filestore, storeFname);
            if (!content) {
              count.missing.push(storeFname);
              continue;
            }
            try {
              await zip.add(`filestore/${filestorePath(storeFname)}`, content);
            } catch (error) {
              throw new BackupError('backup.errors.filestore_read_failed', {
                file: storeFname,
                error: error instanceof Error ? error.message : String(error),
              });
            }
            count.files++;
          }
      await zip.finish();
      return count;
    })();
    // The storage sees the archive fail, so nothing half-written is kept.
    done.catch((error: unknown) => zip.stream.destroy(error as Error));
    return {
      stdout: zip.stream,
      done,
      kill: () => {
        stopped = true;
        dump.kill();
        // Whoever read the archive is gone: a write waiting for room must fail, not wait forever.
        zip.stream.destroy(new Error('the run was stopped'));
      },
    };
  }

  /**
   * The stored zip as random-access bytes: ranged reads of the object itself, or, when encrypted (age cannot be
   * read from the middle), a decrypted copy in `DATA_DIR/tmp` removed by `close`.
   */
  async openZip(backup: Backup): Promise<{ archive: RandomAccess; close(): Promise<void> }> {
    if (!backup.encryptionEnv)
      return { archive: await this.storage.open(backup.storage, backup.objectKey), close: async () => {} };
    const folder = join(this.config.dataDir, 'tmp');
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const path = join(folder, `backup-${backup.id}-${randomBytes(6).toString('hex')}.zip`);
    const close = () => rm(path, { force: true });
    try {
      await pipeline(await this.readArchive(backup), createWriteStream(path, { mode: 0o600 }));
      return { archive: await fileAccess(path), close };
    } catch (error) {
      await close();
      throw error;
    }
  }

  /**
   * An Odoo zip must read as one: its central directory, a `manifest.json` of Odoo's, a `dump.sql` that inflates
   * to its recorded size and CRC-32, and as many filestore files as were written.
   */
  private async verifyZip(backup: Backup, filestoreFiles: number | null): Promise<void> {
    let opened: { archive: RandomAccess; close(): Promise<void> } | undefined;
    try {
      opened = await this.openZip(backup);
      const entries = await readZipDirectory(opened.archive);
      const byName = new Map(entries.map((entry) => [entry.name, entry]));
      const manifest = byName.get('manifest.json');
      const dump = byName.get('dump.sql');
      if (!manifest || !dump) throw new Error('no manifest.json or no dump.sql');
      const parsed = JSON.parse(
        (await buffer(await openZipEntry(opened.archive, manifest))).toString('utf8'),
      ) as {
        odoo_dump?: string;
      };
      if (parsed.odoo_dump !== '1') throw new Error('manifest.json is not an Odoo dump manifest');
      for await (const _chunk of await openZipEntry(opened.archive, dump));
      const files = entries.filter((entry) => entry.name.startsWith('filestore/')).length;
      if (filestoreFiles !== null && files !== filestoreFiles)
        throw new Error(`${files} filestore files in the archive, ${filestoreFiles} written`);
    } catch (error) {
      throw new BackupError('backup.errors.not_an_odoo_zip', reason(error));
    } finally {
      await opened?.close();
    }
  }

  /**
   * Restores a stored backup into the (new, empty) database at `target`: `pg_restore` of a custom dump, or, for
   * Odoo's zip, `dump.sql` through psql and the `filestore/` files into `filestore` when given.
   */
  async restoreArchive(
    backup: Backup,
    target: string,
    filestore: FilestoreLocation | null,
    onProgress?: (bytes: number) => void,
  ): Promise<{ files: number }> {
    if (backup.format !== 'odoo_zip') {
      const stored = await this.readArchive(backup);
      if (onProgress) countInto(stored, onProgress);
      await this.pg.restore(stored, target);
      return { files: 0 };
    }
    const opened = await this.openZip(backup);
    try {
      return await this.restoreOdooZip(opened.archive, target, filestore, onProgress);
    } finally {
      await opened.close();
    }
  }

  /**
   * What Odoo's `restore_db` does with a zip, from any producer (Odoo's database manager, or Vigil): `dump.sql`
   * into the new database with psql, then the `filestore/` entries into the target filestore. Entry names that
   * would leave the filestore are refused.
   */
  async restoreOdooZip(
    archive: RandomAccess,
    target: string,
    filestore: FilestoreLocation | null,
    onProgress?: (bytes: number) => void,
  ): Promise<{ files: number }> {
    const entries = await readZipDirectory(archive);
    const dump = entries.find((entry) => entry.name === 'dump.sql');
    if (!dump) throw new BackupError('backup.errors.not_an_odoo_zip', { error: 'no dump.sql' });
    const script = await openZipEntry(archive, dump);
    if (onProgress) countInto(script, onProgress);
    await this.pg.runScript(script, target);
    let files = 0;
    if (!filestore) return { files };
    for (const entry of entries) {
      if (!entry.name.startsWith('filestore/') || entry.name.endsWith('/')) continue;
      const relative = entry.name.slice('filestore/'.length);
      if (relative.split('/').some((part) => part === '..' || part === '') || relative.startsWith('/'))
        throw new BackupError('backup.errors.not_an_odoo_zip', { error: `unsafe entry name ${entry.name}` });
      await this.filestore.write(filestore, relative, await openZipEntry(archive, entry));
      files++;
    }
    return { files };
  }

  /** The passphrase held by an environment variable; a missing one is named. */
  passphrase(name: string): string {
    const value = this.config.env[name];
    // Unset, empty or blank: a configuration marked encrypted never falls back to writing in clear.
    if (!value?.trim()) throw new BackupError('backup.errors.passphrase_missing', { name });
    return value;
  }

  /** The stored pg_dump archive as a stream, decrypted when it was encrypted. */
  async readArchive(backup: Backup): Promise<Readable> {
    const stored = await this.storage.read(backup.storage, backup.objectKey);
    return backup.encryptionEnv ? decryptStream(stored, this.passphrase(backup.encryptionEnv)) : stored;
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
      throw new BackupError('backup.errors.database_url_refused', {
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Refuses a configuration that would write Vigil's own database in clear. */
  assertEncryptedIfOwn(config: Pick<BackupConfig, 'databaseUrl' | 'encryptionEnv'>): void {
    if (!config.encryptionEnv && this.isOwnDatabase(this.databaseUrl(config)))
      throw new BackupError('backup.errors.own_database_unencrypted');
  }

  /** The scrypt work factor of new encrypted backups: BACKUP_SCRYPT_LOG_N when valid (10–20), else age's 18. */
  private scryptLogN(): number {
    const value = Number(this.config.env[ENV.scryptLogN]);
    return Number.isInteger(value) && value >= 10 && value <= 20 ? value : SCRYPT_LOG_N;
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

  /** Deletes what the retention rules no longer keep; a failure is reported, the backup stays done. */
  private async rotate(config: BackupConfig): Promise<void> {
    try {
      const candidates = await this.repo.rotationCandidates(config.id);
      const doomed = new Set(backupsToDelete(candidates, config));
      for (const backup of candidates.filter((b) => doomed.has(b.id))) {
        await this.storage.remove(backup.storage, backup.objectKey);
        await this.repo.markDeleted(backup.id, 'rotation', this.clock.now());
      }
    } catch (error) {
      const message = this.describe(new BackupError('backup.errors.rotation_failed', reason(error)));
      await this.postFailure(config, null, message);
    }
  }

  private async fail(
    config: BackupConfig,
    backup: Backup,
    error: unknown,
    durationMs: number | null,
    removeObject = true,
  ): Promise<void> {
    const message = this.describe(error);
    this.logger.warn(`Backup ${backup.id} of configuration ${config.id} failed: ${message}`);
    await this.repo.finishFailed(backup.id, message, this.clock.now(), durationMs);
    // A failed run leaves nothing that looks like a backup.
    if (removeObject) await this.storage.remove(backup.storage, backup.objectKey).catch(() => undefined);
    await this.postFailure(config, backup, message);
  }

  private async postFailure(config: BackupConfig, backup: Backup | null, error: string): Promise<void> {
    await this.chatter.post(systemContext(), this.thread(config), {
      subtype: SUBTYPE_FAILED,
      type: 'notification',
      subject: { key: 'backup.messages.failed_subject', args: { name: config.name } },
      body: {
        key: backup ? 'backup.messages.failed_body' : 'backup.messages.rotation_failed_body',
        args: { name: config.name, backup: backup?.id ?? null, error },
      },
    });
  }

  /** The stored error text (English: it mostly quotes the tools' own output). */
  private describe(error: unknown): string {
    if (error instanceof BackupError) return this.i18n.t(error.key, 'en', error.args);
    return error instanceof Error ? error.message : String(error);
  }

  private thread(config: BackupConfig) {
    return { model: CONFIG_MODEL, id: config.id };
  }

  private leaseEnd(): Date {
    return new Date(this.clock.now().getTime() + LEASE_SECONDS * 1000);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.idle();
  }
}

/** The next run of an active configuration after `now`; null when the schedule cannot be read. */
export function nextRun(config: Pick<BackupConfig, 'cron' | 'timeZone' | 'active'>, now: Date): Date | null {
  if (!config.active) return null;
  try {
    return new Schedule(config.cron, config.timeZone).next(now);
  } catch {
    return null;
  }
}

/** Reports the bytes flowing through a stream (a restore's progress). */
function countInto(stream: Readable, onProgress: (bytes: number) => void): void {
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    onProgress(bytes);
  });
}

function reason(error: unknown): { error: string } {
  return { error: error instanceof Error ? error.message : String(error) };
}

function storageError(error: unknown): BackupError {
  return new BackupError('backup.errors.storage_failed', reason(error));
}

async function digest(stream: Readable): Promise<VerifiedObject> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    size += buffer.length;
  }
  return { size, sha256: hash.digest('hex') };
}
