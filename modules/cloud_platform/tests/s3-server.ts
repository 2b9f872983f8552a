import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** A real S3 protocol server (s3rver) on 127.0.0.1 and a free port, with the given buckets. */
export class S3Server {
  static readonly accessKeyId = 'S3RVER';
  static readonly secretAccessKey = 'S3RVER';

  private constructor(
    private readonly server: S3rver,
    private readonly directory: string,
    readonly url: string,
  ) {}

  static async start(buckets: string[]): Promise<S3Server> {
    const directory = mkdtempSync(join(tmpdir(), 'vigil-s3-'));
    const server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory,
      configureBuckets: buckets.map((name) => ({ name, configs: [] })),
    });
    const { port } = await server.run();
    return new S3Server(server, directory, `http://127.0.0.1:${port}`);
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
    await this.server.close();
    rmSync(this.directory, { recursive: true, force: true });
  }
}
