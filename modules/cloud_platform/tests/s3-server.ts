import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** A real S3 protocol server (s3rver) on 127.0.0.1 and a free port, with the given buckets. */
export class S3Server {
  static readonly accessKeyId = 'S3RVER';
  static readonly secretAccessKey = 'S3RVER';

  private server?: S3rver;
  private port = 0;

  private constructor(
    private readonly buckets: string[],
    private readonly directory: string,
  ) {}

  static async start(buckets: string[]): Promise<S3Server> {
    return new S3Server(buckets, mkdtempSync(join(tmpdir(), 'vigil-s3-'))).resume();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again, on the same port and with the same objects after `stop`). */
  async resume(): Promise<this> {
    const server = new S3rver({
      address: '127.0.0.1',
      port: this.port,
      silent: true,
      directory: this.directory,
      configureBuckets: this.buckets.map((name) => ({ name, configs: [] })),
    });
    this.port = (await server.run()).port;
    this.server = server;
    return this;
  }

  /** Stops answering (connections are refused) and keeps the data for `resume`. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }

  /** The AWS_* variables that point Vigil at this server. */
  env(bucket: string): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3Server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3Server.secretAccessKey,
      AWS_BUCKETNAME: bucket,
    };
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.directory, { recursive: true, force: true });
  }
}
