// s3rver ships without types: the part the tests use.
declare module 's3rver' {
  import { EventEmitter } from 'node:events';

  interface S3rverOptions {
    port?: number;
    address?: string;
    silent?: boolean;
    directory: string;
    configureBuckets?: { name: string }[];
  }
  /** Emitted as `event` for each stored or deleted object. */
  export interface S3rverEvent {
    Records: { eventName: string; s3: { object: { key: string; size: number } } }[];
  }
  export default class S3rver extends EventEmitter {
    constructor(options: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}
