import { Readable } from 'node:stream';

/**
 * `read` of every name the batches give, handed out one by one in order, read in groups of `group` names with up to
 * `depth` groups read ahead of the one handed out: a file's read waits no longer for the previous entry to be
 * written, and a group is one trip to whoever reads (a worker thread, or parallel GETs). A group whose read failed
 * hands its error out for each of its names, in their turn. Streams read ahead and never handed out (the walk
 * stopped) are destroyed.
 */
export async function* readAhead<T>(
  batches: AsyncIterable<string[]>,
  read: (names: string[]) => Promise<(T | Error)[]>,
  { group, depth }: { group: number; depth: number },
): AsyncGenerator<{ name: string; content: T | Error }> {
  const queue: { names: string[]; contents: Promise<(T | Error)[]> }[] = [];
  const start = (names: string[]) =>
    queue.push({
      names,
      contents: read(names).catch((error: unknown) => names.map(() => toError(error))),
    });
  const pending: string[] = [];
  try {
    for await (const batch of batches) {
      pending.push(...batch);
      while (pending.length >= group) {
        start(pending.splice(0, group));
        if (queue.length > depth) yield* handOut(queue.shift()!);
      }
    }
    if (pending.length) start(pending);
    while (queue.length) yield* handOut(queue.shift()!);
  } finally {
    for (const { contents } of queue) void contents.then(destroy);
  }
}

async function* handOut<T>({
  names,
  contents,
}: {
  names: string[];
  contents: Promise<(T | Error)[]>;
}): AsyncGenerator<{ name: string; content: T | Error }> {
  const values = await contents;
  let given = 0;
  try {
    for (; given < names.length; given++) yield { name: names[given], content: values[given] };
  } finally {
    // Stopped inside the group: the rest of it was read for nothing.
    destroy(values.slice(given + 1));
  }
}

function destroy(values: unknown[]): void {
  for (const value of values) if (value instanceof Readable) value.destroy();
}

/** What a failed read is handed out as (a rejection's reason need not be an Error). */
export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
