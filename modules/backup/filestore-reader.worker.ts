import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

/**
 * The thread that reads local filestore files for a backup (see LocalFilestoreReader): plain synchronous calls,
 * off the main thread, a group of files per message. Each file comes back as its bytes (moved, not copied), as
 * `large` (over `wholeUpTo`: the main thread streams it), `missing`, or the error's text.
 */
export type WorkerRead = ArrayBuffer | 'large' | 'missing' | { error: string };

export interface WorkerRequest {
  id: number;
  paths: string[];
  wholeUpTo: number;
}

const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

function readOne(path: string, wholeUpTo: number): WorkerRead {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    return MISSING.has(code) ? 'missing' : { error: (error as Error).message };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return 'missing';
    if (stats.size > wholeUpTo) return 'large';
    // Its own ArrayBuffer (not the pool's), so that it can be moved to the main thread.
    const bytes = Buffer.allocUnsafeSlow(stats.size);
    let at = 0;
    while (at < bytes.length) {
      const read = readSync(fd, bytes, at, bytes.length - at, at);
      // Shorter than its fstat said (truncated meanwhile): what there is.
      if (read === 0) return bytes.buffer.slice(0, at);
      at += read;
    }
    return bytes.buffer;
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    closeSync(fd);
  }
}

parentPort!.on('message', ({ id, paths, wholeUpTo }: WorkerRequest) => {
  const reads = paths.map((path) => readOne(path, wholeUpTo));
  parentPort!.postMessage(
    { id, reads },
    reads.filter((read): read is ArrayBuffer => read instanceof ArrayBuffer),
  );
});
