import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, posix, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../src/index.js';
import { BackupError } from './backup.error.js';
import { LocalFilestoreReader, type FilestoreReader } from './filestore-reader.js';
import { toError } from './read-ahead.js';
import { ENV } from './settings.js';
import { StorageRepository } from './storage.repository.js';

/** A filestore location: a local folder, or a bucket and key prefix (cloud_platform-style attachments). */
export type FilestoreLocation =
  { kind: 'local'; folder: string } | { kind: 's3'; bucket: string; prefix: string };

/** Local filestore files up to this size are read whole (memory: one such file at a time). */
const WHOLE_FILE_BYTES = 1024 * 1024;

const S3_LOCATION = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

/**
 * The relative path of a filestore file as Odoo's `ir.attachment._full_path` makes it: every dot removed, leading
 * and trailing slashes stripped — so a `store_fname` can never leave its filestore (`../../etc/passwd` becomes
 * `etc/passwd`, inside it).
 */
export function filestorePath(storeFname: string): string {
  return storeFname.replaceAll('.', '').replace(/^[/\\]+|[/\\]+$/g, '');
}

/** Reads Odoo filestores (the files `ir_attachment.store_fname` names) and writes restored ones. */
@Injectable()
export class FilestoreRepository {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(StorageRepository) private readonly storage: StorageRepository,
  ) {}

  /** The folders under which a local filestore may be named (`BACKUP_FILESTORE_ROOTS`, separated by `:`). */
  roots(): string[] {
    return (this.config.env[ENV.filestoreRoots] ?? '')
      .split(':')
      .map((root) => root.trim())
      .filter(Boolean)
      .map((root) => resolve(root));
  }

  /**
   * A configuration's `filestore` read and checked: a local folder must lie strictly inside one of the roots (a
   * manager must not make Vigil read, and ops download, any file of the server).
   */
  location(value: string): FilestoreLocation {
    const s3 = S3_LOCATION.exec(value);
    if (s3) return { kind: 's3', bucket: s3[1], prefix: (s3[2] ?? '').replace(/^\/+|\/+$/g, '') };
    if (!value.startsWith('/'))
      throw new BackupError('backup.errors.filestore_invalid', { filestore: value });
    const folder = resolve(value);
    const roots = this.roots();
    if (!roots.length) throw new BackupError('backup.errors.filestore_no_roots', { filestore: folder });
    if (!roots.some((root) => folder.startsWith(root + sep)))
      throw new BackupError('backup.errors.filestore_outside_roots', {
        filestore: folder,
        roots: roots.join(':'),
      });
    return { kind: 'local', folder };
  }

  /** Where a restore into the database `into` puts its files: the sibling named after it, as Odoo lays them out. */
  restoreLocation(value: string, into: string): FilestoreLocation {
    const source = this.location(value);
    if (source.kind === 's3') {
      const parent = posix.dirname(source.prefix);
      return { ...source, prefix: parent === '.' || parent === '' ? into : `${parent}/${into}` };
    }
    return this.location(join(dirname(source.folder), into));
  }

  /**
   * A reader of one location's files for one backup run, given `store_fname`s: a local file up to WHOLE_FILE_BYTES
   * is read whole (most of a filestore: a stream per file costs more than its bytes), a larger one or an S3 object
   * comes as a stream; a file the filestore does not hold as null. Close it when done.
   */
  reader(location: FilestoreLocation): FilestoreReader {
    if (location.kind === 'local') {
      const local = new LocalFilestoreReader(WHOLE_FILE_BYTES);
      return {
        // Memory: up to 48 files of at most WHOLE_FILE_BYTES each in flight.
        ahead: { group: 16, depth: 2 },
        read: (names) => local.read(names.map((name) => join(location.folder, filestorePath(name)))),
        close: () => local.close(),
      };
    }
    return {
      // 8 GETs open at most, beside the storage's own uploads on the same client.
      ahead: { group: 4, depth: 1 },
      read: (names) =>
        Promise.all(
          names.map((name) => this.readObject(location, name).catch((error: unknown) => toError(error))),
        ),
      close: () => Promise.resolve(),
    };
  }

  private async readObject(
    location: { bucket: string; prefix: string },
    storeFname: string,
  ): Promise<Readable | null> {
    const { bucket, key } = this.objectOf(location, storeFname);
    try {
      const object = await this.storage.s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return object.Body as Readable;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return null;
      throw error;
    }
  }

  /** Whether a restore target already holds files (a restore never mixes two databases' files). */
  async inUse(location: FilestoreLocation): Promise<boolean> {
    if (location.kind === 'local')
      return stat(location.folder).then(
        () => true,
        () => false,
      );
    const listed = await this.storage
      .s3Client()
      .send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: `${location.prefix}/`, MaxKeys: 1 }));
    return (listed.KeyCount ?? 0) > 0;
  }

  /** Writes one restored file (`relative` is an archive's path under `filestore/`, already checked). */
  async write(location: FilestoreLocation, relative: string, content: Readable): Promise<void> {
    if (location.kind === 'local') {
      const path = resolve(location.folder, relative);
      if (!path.startsWith(location.folder + sep)) throw new Error(`invalid filestore path ${relative}`);
      await mkdir(dirname(path), { recursive: true });
      await pipeline(content, createWriteStream(path, { flags: 'wx', mode: 0o640 }));
      return;
    }
    await new Upload({
      client: this.storage.s3Client(),
      params: { Bucket: location.bucket, Key: `${location.prefix}/${relative}`, Body: content },
    }).done();
  }

  /** cloud_platform names S3 attachments `s3://bucket/key`; other names are keys under the location's prefix. */
  private objectOf(location: { bucket: string; prefix: string }, storeFname: string) {
    const named = S3_LOCATION.exec(storeFname);
    if (named) return { bucket: named[1], key: named[2] ?? '' };
    const path = filestorePath(storeFname);
    return { bucket: location.bucket, key: location.prefix ? `${location.prefix}/${path}` : path };
  }
}
