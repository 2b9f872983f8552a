import { HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Injectable } from '@nestjs/common';

export type BucketProbeOutcome =
  { ok: true } | { ok: false; problem: 'timeout' | 'not_found' | 'denied' | 'error'; reason: string };

/** A bucket and the credentials to reach it. */
export interface S3Target {
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

/** Time allowed to connect, and for the whole HeadBucket request. */
export const S3_PROBE_TIMEOUT_MS = 4000;

/** Asks the S3 endpoint whether the bucket exists and the credentials may use it (HeadBucket). */
@Injectable()
export class S3Repository {
  async headBucket(settings: S3Target, signal: AbortSignal): Promise<BucketProbeOutcome> {
    const client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      // S3-compatible servers (MinIO, Ceph, …) address buckets by path; AWS accepts it too.
      forcePathStyle: settings.endpoint !== undefined,
      maxAttempts: 1,
      requestHandler: {
        connectionTimeout: S3_PROBE_TIMEOUT_MS,
        requestTimeout: S3_PROBE_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      },
    });
    try {
      await client.send(new HeadBucketCommand({ Bucket: settings.bucket }), { abortSignal: signal });
      return { ok: true };
    } catch (error) {
      return classify(error);
    } finally {
      client.destroy();
    }
  }
}

function classify(error: unknown): BucketProbeOutcome {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    if (status === 404) return { ok: false, problem: 'not_found', reason };
    if (status === 401 || status === 403) return { ok: false, problem: 'denied', reason };
  }
  const name = error instanceof Error ? error.name : '';
  const code = (error as { code?: string }).code;
  if (
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    code === 'ETIMEDOUT' ||
    /timed? ?out/i.test(reason)
  ) {
    return { ok: false, problem: 'timeout', reason };
  }
  return { ok: false, problem: 'error', reason };
}
