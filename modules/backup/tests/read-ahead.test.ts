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

/** A read that resolves only when the test says so, recording when it was started. */
function controlledReads() {
  const started: string[] = [];
  const resolvers = new Map<string, (value: string) => void>();
  let immediately = false;
  const read = (name: string) =>
    new Promise<string>((resolve) => {
      started.push(name);
      if (immediately) resolve(`content of ${name}`);
      else resolvers.set(name, resolve);
    });
  return {
    started,
    read,
    resolve: (name: string) => resolvers.get(name)!(`content of ${name}`),
    /** From now on every read resolves at once (those pending too). */
    resolveAll: () => {
      immediately = true;
      for (const [name, resolve] of resolvers) resolve(`content of ${name}`);
    },
  };
}

/** Lets every pending callback and batch run (the walk waits on nothing else here). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('backup: filestore read-ahead', () => {
  it('starts at most depth reads ahead of the one handed out, across batches, and hands them out in order', async () => {
    const { started, read, resolve, resolveAll } = controlledReads();
    const walk = readAhead(batches(['a', 'b'], ['c', 'd', 'e'], ['f']), read, 2);
    const first = walk.next();
    await settle();
    // a is awaited; b and c are read ahead — not d.
    assert.deepEqual(started, ['a', 'b', 'c']);
    // Resolved out of order: still handed out in the batches' order.
    resolve('c');
    resolve('b');
    resolve('a');
    assert.deepEqual((await first).value, { name: 'a', content: 'content of a' });
    const second = await walk.next();
    assert.deepEqual(second.value, { name: 'b', content: 'content of b' });
    await settle();
    assert.deepEqual(started, ['a', 'b', 'c', 'd']);
    resolveAll();
    const rest = [];
    for await (const item of walk) rest.push(item.name);
    assert.deepEqual(rest, ['c', 'd', 'e', 'f']);
    assert.deepEqual(started, ['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('hands a failed read out as its error in its turn, and the walk goes on', async () => {
    const read = (name: string) =>
      name === 'b' ? Promise.reject(new Error('EIO on b')) : Promise.resolve(name.toUpperCase());
    const seen = [];
    for await (const { name, content } of readAhead(batches(['a', 'b', 'c']), read, 4))
      seen.push([name, content instanceof Error ? content.message : content]);
    assert.deepEqual(seen, [
      ['a', 'A'],
      ['b', 'EIO on b'],
      ['c', 'C'],
    ]);
  });

  it('destroys the streams it read ahead when the walk stops early', async () => {
    const streams = new Map<string, Readable>();
    const read = (name: string) => {
      const stream = Readable.from([Buffer.from(name)]);
      streams.set(name, stream);
      return Promise.resolve(stream);
    };
    for await (const { name } of readAhead(batches(['a', 'b', 'c', 'd']), read, 2)) if (name === 'a') break;
    await settle();
    // a was handed out (its consumer owns it); b and c were read ahead and are destroyed; d was never read.
    assert.equal(streams.get('a')!.destroyed, false);
    assert.equal(streams.get('b')!.destroyed, true);
    assert.equal(streams.get('c')!.destroyed, true);
    assert.equal(streams.has('d'), false);
  });
});
