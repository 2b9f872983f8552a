import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../src/index.js';
import { ENV, type StorageKind } from './settings.js';
import { fileAccess, type RandomAccess } from './zip.js';

/** Multipart part size: an upload holds two parts in memory whatever the dump's size; 10,000 parts reach 78 GiB. */
const PART_SIZE = 8 * 1024 * 1024;

export class StorageConfigError extends Error {}

/** Where backups live: a folder under `DATA_DIR/backups`, or an S3 bucket (any S3-compatible service). */
@Injectable()
export class StorageRepository implements OnApplicationShutdown {
  private s3?: S3Client;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** The root of local backups. */
  get localRoot(): string {
    return join(this.config.dataDir, 'backups');
  }

  /** The absolute path of a local object; refuses keys that would leave the backups folder. */
  localPath(key: string): string {
    const path = resolve(this.localRoot, key);
    if (!path.startsWith(this.localRoot + sep)) throw new StorageConfigError(`invalid object key ${key}`);
    return path;
  }

  /** Streams `body` into the object (S3: multipart upload; local: a `.partial` file renamed at the end). */
  async write(kind: StorageKind, key: string, body: Readable): Promise<void> {
    if (kind === 'local') {
      const path = this.localPath(key);
      await mkdir(dirname(path), { recursive: true });
      const partial = `${path}.partial`;
      try {
        await pipeline(body, createWriteStream(partial, { mode: 0o600 }));
        await rename(partial, path);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      return;
    }
    const { client, bucket } = this.bucket();
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: 'application/octet-stream' },
      partSize: PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async read(kind: StorageKind, key: string): Promise<Readable> {
    if (kind === 'local') {
      const path = this.localPath(key);
      await stat(path);
      return createReadStream(path);
    }
    const { client, bucket } = this.bucket();
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return object.Body as Readable;
  }

  async remove(kind: StorageKind, key: string): Promise<void> {
    if (kind === 'local') {
      await rm(this.localPath(key), { force: true });
      return;
    }
    const { client, bucket } = this.bucket();
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  /**
   * Removes whatever a run that died may have left: the object, a local `.partial` file, or the parts of an
   * unfinished multipart upload (which a bucket otherwise keeps, and bills, until a lifecycle rule aborts them).
   */
  async discard(kind: StorageKind, key: string): Promise<void> {
    if (kind === 'local') {
      const path = this.localPath(key);
      await Promise.all([rm(path, { force: true }), rm(`${path}.partial`, { force: true })]);
      return;
    }
    const { client, bucket } = this.bucket();
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    for (const upload of uploads.Uploads ?? []) {
      if (upload.Key === key && upload.UploadId)
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId }),
        );
    }
  }

  /** The S3 client of the environment's credentials (filestores in a bucket use it too). */
  s3Client(): S3Client {
    return this.bucket().client;
  }

  /** The stored object as random-access bytes (a ZIP archive is read from its end). */
  async open(kind: StorageKind, key: string): Promise<RandomAccess> {
    if (kind === 'local') return fileAccess(this.localPath(key));
    const { client, bucket } = this.bucket();
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      size: Number(head.ContentLength ?? 0),
      read: async (start, end) => {
        if (end <= start) return Readable.from([]);
        const object = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }),
        );
        return object.Body as Readable;
      },
    };
  }

  /** The S3 client from the environment; a missing variable is named. */
  private bucket(): { client: S3Client; bucket: string } {
    const env = this.config.env;
    const bucket = env[ENV.bucket]?.trim();
    const missing = [ENV.accessKeyId, ENV.secretAccessKey, ENV.bucket].filter((name) => !env[name]?.trim());
    if (missing.length || !bucket)
      throw new StorageConfigError(`S3 storage needs the environment variables ${missing.join(', ')}`);
    if (!this.s3) {
      let endpoint = (env[ENV.endpoint] ?? env[ENV.endpointAlias])?.trim() || undefined;
      if (endpoint && !/^https?:\/\//.test(endpoint)) endpoint = `https://${endpoint}`;
      this.s3 = new S3Client({
        region: env[ENV.region]?.trim() || 'us-east-1',
        endpoint,
        // S3-compatible services (MinIO, Ceph, s3rver) address buckets by path.
        forcePathStyle: endpoint !== undefined,
        credentials: { accessKeyId: env[ENV.accessKeyId]!, secretAccessKey: env[ENV.secretAccessKey]! },
        // Only what the S3 API requires: many S3-compatible services reject the newer default checksums.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
    }
    return { client: this.s3, bucket };
  }

  onApplicationShutdown(): void {
    this.s3?.destroy();
  }
}
