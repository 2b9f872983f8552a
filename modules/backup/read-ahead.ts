import { Readable } from 'node:stream';

/**
 * `read` of every name the batches give, in order, with up to `depth` reads started ahead of the one handed out: a
 * file's open and read wait no longer for the previous entry to be written. A read that failed is handed out as its
 * Error, in its turn. Streams read ahead and never handed out (the walk stopped) are destroyed.
 */
export async function* readAhead<T>(
  batches: AsyncIterable<string[]>,
  read: (name: string) => Promise<T>,
  depth: number,
): AsyncGenerator<{ name: string; content: T | Error }> {
  const queue: { name: string; content: Promise<T | Error> }[] = [];
  try {
    for await (const batch of batches)
      for (const name of batch) {
        queue.push({ name, content: read(name).catch((error: unknown) => toError(error)) });
        if (queue.length > depth) {
          const next = queue.shift()!;
          yield { name: next.name, content: await next.content };
        }
      }
    while (queue.length) {
      const next = queue.shift()!;
      yield { name: next.name, content: await next.content };
    }
  } finally {
    for (const { content } of queue)
      void content.then((value) => {
        if (value instanceof Readable) value.destroy();
      });
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
