import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../src/index.js';
import type { Backup } from './backup.entity.js';
import { BackupError, reason, storageError } from './backup.error.js';
import { BackupPolicy } from './backup-policy.service.js';
import { decryptStream } from './cipher.js';
import { FilestoreRepository, type FilestoreLocation } from './filestore.repository.js';
import { PgToolsRepository } from './pg-tools.repository.js';
import { StorageRepository } from './storage.repository.js';
import { fileAccess, openZipEntry, readZipDirectory, type RandomAccess } from './zip.js';

/** What a run wrote, or a verification read back. */
export interface VerifiedObject {
  size: number;
  sha256: string;
}

/**
 * Reads stored backups back: checks one against what its run wrote (size, sha256, and that it reads as a
 * custom-format archive or an Odoo zip), restores one into a database (a restore, a drill, the `restore` level of
 * verification), and compares a restored copy's row counts with the dump's snapshot.
 */
@Injectable()
export class BackupVerifier {
  private readonly logger = new Logger(BackupVerifier.name);

  constructor(
    @Inject(StorageRepository) private readonly storage: StorageRepository,
    @Inject(PgToolsRepository) private readonly pg: PgToolsRepository,
    @Inject(FilestoreRepository) private readonly filestore: FilestoreRepository,
    @Inject(BackupPolicy) private readonly policy: BackupPolicy,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

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
   * Restores the stored object into a scratch database on the same server and compares every table's row count
   * with the counts taken in the dump's snapshot.
   */
  async verifyByRestore(url: string, backup: Backup, expected: Record<string, number>): Promise<void> {
    const restored = await this.inScratchDatabase(
      url,
      backup,
      `vigil_verify_${backup.id}`,
      async (target) => {
        try {
          await this.restoreArchive(backup, target, null);
          return await this.pg.countRows(target);
        } catch (error) {
          throw new BackupError('backup.errors.restore_check_failed', reason(error));
        }
      },
    );
    assertRowCounts(expected, restored, 'in the database');
  }

  /**
   * Creates a scratch database named `prefix` and a random suffix beside `url`'s, ready for a restore of `backup`,
   * gives `use` its URL, and drops it whatever happens (a drop that fails is logged: the check's result stands).
   */
  async inScratchDatabase<T>(
    url: string,
    backup: Backup,
    prefix: string,
    use: (target: string) => Promise<T>,
  ): Promise<T> {
    const scratch = `${prefix}_${randomBytes(4).toString('hex')}`;
    const target = new URL(url);
    target.pathname = `/${scratch}`;
    await this.pg.createDatabase(url, scratch, { odoo: backup.format === 'odoo_zip' });
    try {
      return await use(target.toString());
    } finally {
      await this.pg
        .dropDatabase(url, scratch)
        .catch((error: unknown) =>
          this.logger.warn(`Cannot drop the scratch database ${scratch}: ${String(error)}`),
        );
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

  /** The stored archive as a stream, decrypted when it was encrypted. */
  async readArchive(backup: Backup): Promise<Readable> {
    const stored = await this.storage.read(backup.storage, backup.objectKey);
    return backup.encryptionEnv
      ? decryptStream(stored, this.policy.passphrase(backup.encryptionEnv))
      : stored;
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
}

/**
 * A restored copy must hold every table of the dump's snapshot with its row count; `source` names where the
 * expected counts come from in the message ("in the database", "backed up").
 */
export function assertRowCounts(
  expected: Record<string, number>,
  restored: Record<string, number>,
  source: string,
): void {
  const tables = [...new Set([...Object.keys(expected), ...Object.keys(restored)])].sort();
  const differences = tables
    .filter((table) => expected[table] !== restored[table])
    .map(
      (table) =>
        `${table}: ${expected[table] ?? 'missing'} ${source}, ${restored[table] ?? 'missing'} restored`,
    );
  if (differences.length)
    throw new BackupError('backup.errors.restore_mismatch', { tables: differences.join('; ') });
}

/** Reports the bytes flowing through a stream (a restore's progress). */
function countInto(stream: Readable, onProgress: (bytes: number) => void): void {
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    onProgress(bytes);
  });
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
