import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { WorkerRead, WorkerRequest } from './filestore-reader.worker.js';

/** A filestore file read: its bytes, a stream (large files, S3 objects), null when missing, or why it failed. */
export type FilestoreContent = Buffer | Readable | null | Error;

/** Reads groups of filestore files for one backup run; closed when the run's walk ends. */
export interface FilestoreReader {
  /** How to read ahead of the file being written: `group` files a read, `depth` groups ahead (see readAhead). */
  readonly ahead: { group: number; depth: number };
  /** The files at these paths (a local reader) or names (an S3 reader), in order. */
  read(names: string[]): Promise<FilestoreContent[]>;
  close(): Promise<void>;
}

/**
 * Local files, read by a worker thread with synchronous calls: on the main thread each file's open, fstat, read and
 * close is a trip to libuv's thread pool — over a filestore's 10,000s of files about as much CPU again as the
 * bytes cost (0.25 GB in 10,000 files: 2.1–2.3 s of CPU for the walk, 1.5–1.6 s this way; bench/README.md) — while
 * synchronous calls on the main thread would stall every request the server answers on a slow disk. Files over
 * `wholeUpTo` are streamed by the main thread.
 */
export class LocalFilestoreReader {
  private readonly worker = new Worker(new URL('./filestore-reader.worker.js', import.meta.url));
  private readonly waiting = new Map<
    number,
    { resolve: (reads: WorkerRead[]) => void; reject: (error: Error) => void }
  >();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(private readonly wholeUpTo: number) {
    this.worker.on('message', ({ id, reads }: { id: number; reads: WorkerRead[] }) => {
      this.waiting.get(id)?.resolve(reads);
      this.waiting.delete(id);
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const { reject } of this.waiting.values()) reject(error);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the filestore reader stopped (exit code ${code})`)));
  }

  async read(paths: string[]): Promise<FilestoreContent[]> {
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    const reads = await new Promise<WorkerRead[]>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, paths, wholeUpTo: this.wholeUpTo } satisfies WorkerRequest);
    });
    return reads.map((read, i) => {
      if (read instanceof ArrayBuffer) return Buffer.from(read);
      if (read === 'missing') return null;
      if (read === 'large') return createReadStream(paths[i]);
      return new Error(read.error);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
