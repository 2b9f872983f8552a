import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { readAhead } from '../read-ahead.js';

async function* batches(...lists: string[][]): AsyncGenerator<string[]> {
  for (const list of lists) {
    // A cursor's next batch: a round trip away.
    await new Promise((resolve) => setImmediate(resolve));
    yield list;
  }
}

/** Lets every pending callback and batch run (the walk waits on nothing else here). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Group reads that resolve only when the test says so, recording the groups started. */
function controlledReads() {
  const started: string[][] = [];
  const resolvers = new Map<string, () => void>();
  let immediately = false;
  const read = (names: string[]) =>
    new Promise<string[]>((resolve) => {
      started.push(names);
      const done = () => resolve(names.map((name) => `content of ${name}`));
      if (immediately) done();
      else resolvers.set(names.join(), done);
    });
  return {
    started,
    read,
    resolve: (...names: string[]) => resolvers.get(names.join())!(),
    /** From now on every read resolves at once (those pending too). */
    resolveAll: () => {
      immediately = true;
      for (const resolve of resolvers.values()) resolve();
    },
  };
}

describe('backup: filestore read-ahead', () => {
  it('reads groups across batches, at most depth groups ahead of the one handed out, and hands out in order', async () => {
    const { started, read, resolve, resolveAll } = controlledReads();
    const walk = readAhead(batches(['a', 'b', 'c'], ['d', 'e', 'f', 'g'], ['h']), read, {
      group: 2,
      depth: 2,
    });
    const first = walk.next();
    await settle();
    // [a,b] is awaited; [c,d] and [e,f] are read ahead — not [g,h].
    assert.deepEqual(started, [
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
    ]);
    // Resolved out of order: still handed out in the batches' order.
    resolve('c', 'd');
    resolve('a', 'b');
    assert.deepEqual((await first).value, { name: 'a', content: 'content of a' });
    assert.deepEqual((await walk.next()).value, { name: 'b', content: 'content of b' });
    assert.deepEqual((await walk.next()).value, { name: 'c', content: 'content of c' });
    await settle();
    assert.equal(started.length, 4);
    resolveAll();
    const rest = [];
    for await (const item of walk) rest.push(item.name);
    assert.deepEqual(rest, ['d', 'e', 'f', 'g', 'h']);
    assert.deepEqual(started.slice(3), [['g', 'h']]);
  });

  it('hands out what each file read gave, errors included, and a failed group as its error for each name', async () => {
    const read = (names: string[]) =>
      names.includes('d')
        ? Promise.reject(new Error('the reader stopped'))
        : Promise.resolve(names.map((name) => (name === 'b' ? new Error('EIO on b') : name.toUpperCase())));
    const seen = [];
    for await (const { name, content } of readAhead(batches(['a', 'b', 'c', 'd', 'e']), read, {
      group: 3,
      depth: 1,
    }))
      seen.push([name, content instanceof Error ? content.message : content]);
    assert.deepEqual(seen, [
      ['a', 'A'],
      ['b', 'EIO on b'],
      ['c', 'C'],
      ['d', 'the reader stopped'],
      ['e', 'the reader stopped'],
    ]);
  });

  it('destroys the streams it read ahead when the walk stops early', async () => {
    const streams = new Map<string, Readable>();
    const read = (names: string[]) =>
      Promise.resolve(
        names.map((name) => {
          const stream = Readable.from([Buffer.from(name)]);
          streams.set(name, stream);
          return stream;
        }),
      );
    const walk = readAhead(batches(['a', 'b', 'c', 'd', 'e', 'f', 'g']), read, { group: 2, depth: 2 });
    for await (const { name } of walk) if (name === 'a') break;
    await settle();
    // a was handed out (its consumer owns it); b to f were read and are destroyed; g was never read.
    assert.equal(streams.get('a')!.destroyed, false);
    for (const name of ['b', 'c', 'd', 'e', 'f']) assert.equal(streams.get(name)!.destroyed, true, name);
    assert.equal(streams.has('g'), false);
  });
});
