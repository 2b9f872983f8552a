import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ChatterService, Clock, Database, I18nService, Schedule, systemContext } from '../../src/index.js';
import type { BackupConfig } from './backup-config.entity.js';
import type { Backup } from './backup.entity.js';
import { BackupError, describeError, reason, storageError } from './backup.error.js';
import { BackupPolicy } from './backup-policy.service.js';
import { BackupVerifier } from './backup-verifier.service.js';
import { BackupsRepository } from './backups.repository.js';
import { encryptStream } from './cipher.js';
import { PgToolsRepository, type HeldSnapshot } from './pg-tools.repository.js';
import { backupsToDelete } from './rotation.js';
import {
  CONFIG_MODEL,
  LEASE_RENEW_MS,
  LEASE_SECONDS,
  SUBTYPE_DONE,
  SUBTYPE_FAILED,
  SUBTYPE_STALE,
} from './settings.js';
import { StorageRepository } from './storage.repository.js';
import { FilestoreRepository, filestorePath, type FilestoreLocation } from './filestore.repository.js';
import { readAhead } from './read-ahead.js';
import { ZipWriter } from './zip.js';

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

/**
 * Runs backups: claims due configurations once across replicas, streams the archive (`pg_dump -Fc`, or Odoo's zip
 * with the filestore captured in the dump's snapshot) through optional encryption and sha256 into the storage,
 * has the verifier check what was stored, rotates, and tells the configuration's followers what happened.
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
    @Inject(Database) private readonly database: Database,
    @Inject(FilestoreRepository) private readonly filestore: FilestoreRepository,
    @Inject(BackupPolicy) private readonly policy: BackupPolicy,
    @Inject(BackupVerifier) private readonly verifier: BackupVerifier,
  ) {}

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
    const databaseName = decodeURIComponent(new URL(this.policy.databaseUrl(config)).pathname.slice(1));
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
      const url = this.policy.databaseUrl(config);
      // A configuration saved before this rule existed: refused at run time too, with the same message.
      if (!backup.encryptionEnv && this.policy.isOwnDatabase(url))
        throw new BackupError('backup.errors.own_database_unencrypted');
      // Checked again at each run: a name may point elsewhere now, or the setting was switched off.
      await this.policy.assertDatabaseAllowed(url);
      // Encryption refuses to lie: no passphrase, no run — checked before anything reaches the storage.
      if (config.encryptionEnv && !backup.encryptionEnv)
        throw new BackupError('backup.errors.encryption_changed');
      const passphrase = backup.encryptionEnv ? this.policy.passphrase(backup.encryptionEnv) : undefined;
      await this.policy.checkVersions(url);
      if (config.storage === 'local') await this.policy.assertOutsideCluster(url);
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
        ? await encryptStream(dump.stdout, passphrase, this.policy.scryptLogN())
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
      await this.verifier.verify(backup, { size: bytes, sha256 }, files?.files ?? null);
      if (config.verifyLevel === 'restore' && snapshot)
        await this.verifier.verifyByRestore(url, backup, snapshot.counts);
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

  /** Verifies a stored backup again; one that no longer verifies becomes `failed` and its followers hear of it. */
  async reverify(backup: Backup): Promise<Backup | null> {
    const config = await this.repo.findConfig(backup.configId);
    if (!config) return null;
    try {
      await this.verifier.verify(backup, { size: Number(backup.size), sha256: backup.sha256 ?? '' });
    } catch (error) {
      await this.fail(config, backup, error, null, false);
    }
    return this.repo.findBackup(backup.id);
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
      const reader = filestore && this.filestore.reader(filestore);
      try {
        if (reader)
          for await (const { name: storeFname, content } of readAhead(
            this.pg.attachmentFiles(snapshot),
            (names) => reader.read(names),
            reader.ahead,
          )) {
            if (stopped) throw new BackupError('backup.errors.lease_lost');
            try {
              if (content instanceof Error) throw content;
              if (!content) {
                count.missing.push(storeFname);
                continue;
              }
              const { body, store } = Buffer.isBuffer(content)
                ? { body: content, store: incompressible(content) }
                : await sampled(content);
              await zip.add(`filestore/${filestorePath(storeFname)}`, body, { store });
            } catch (error) {
              throw new BackupError('backup.errors.filestore_read_failed', {
                file: storeFname,
                error: error instanceof Error ? error.message : String(error),
              });
            }
            count.files++;
          }
      } finally {
        await reader?.close();
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
    return describeError(error, this.i18n);
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

/**
 * Most of a filestore (images, PDFs, office documents) is compressed already: deflating it again costs a core for
 * nothing. Bytes whose 4 KiB window from the middle carries more than 7.6 bits of information a byte (deflate's
 * Huffman stage could save at most 5 %) are taken for compressed.
 */
function incompressible(bytes: Buffer): boolean {
  const start = Math.max(0, (bytes.length >> 1) - 2048);
  const window = bytes.subarray(start, start + 4096);
  if (!window.length) return false;
  const counts = new Uint32Array(256);
  for (const byte of window) counts[byte]++;
  let bits = 0;
  for (const count of counts) if (count) bits -= (count / window.length) * Math.log2(count / window.length);
  return bits > 7.6;
}

/**
 * A streamed (large) file is stored as it is when its first chunk looks compressed (`incompressible`). The file is
 * read once: `body` yields its bytes from the first.
 */
async function sampled(content: Readable): Promise<{ body: Readable; store: boolean }> {
  const chunks = content[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await chunks.next();
  const store = !first.done && incompressible(first.value);
  const body = Readable.from(
    (async function* () {
      try {
        if (!first.done) yield first.value;
        for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
      } finally {
        await chunks.return?.();
      }
    })(),
    { objectMode: false },
  );
  return { body, store };
}
