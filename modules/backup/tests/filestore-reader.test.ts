import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { LocalFilestoreReader } from '../filestore-reader.js';

describe('backup: local filestore reader (worker thread)', () => {
  let dir: string;
  const small = randomBytes(1000);
  const large = randomBytes(5000);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-filestore-reader-'));
    await mkdir(join(dir, 'ab'));
    await writeFile(join(dir, 'ab', 'small'), small);
    await writeFile(join(dir, 'ab', 'large'), large);
    await writeFile(join(dir, 'ab', 'empty'), '');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads small files whole, streams large ones, says null for what is not a file, and names errors', async () => {
    const reader = new LocalFilestoreReader(4096);
    try {
      const [whole, streamed, empty, missing, folder, wrong] = await reader.read([
        join(dir, 'ab', 'small'),
        join(dir, 'ab', 'large'),
        join(dir, 'ab', 'empty'),
        join(dir, 'ab', 'missing'),
        join(dir, 'ab'),
        join(dir, 'x'.repeat(5000)),
      ]);
      assert.ok(Buffer.isBuffer(whole));
      assert.deepEqual(whole, small);
      assert.ok(streamed instanceof Readable);
      assert.deepEqual(await buffer(streamed), large);
      assert.deepEqual(empty, Buffer.alloc(0));
      assert.equal(missing, null);
      assert.equal(folder, null);
      assert.ok(wrong instanceof Error);
      assert.match(wrong.message, /ENAMETOOLONG/);
      // Groups in flight at once come back to their own callers.
      const [a, b] = await Promise.all([
        reader.read([join(dir, 'ab', 'small')]),
        reader.read([join(dir, 'ab', 'empty'), join(dir, 'ab', 'small')]),
      ]);
      assert.deepEqual(a, [small]);
      assert.deepEqual(b, [Buffer.alloc(0), small]);
    } finally {
      await reader.close();
    }
  });

  it('fails the reads in flight and later ones once its thread is gone', async () => {
    const reader = new LocalFilestoreReader(4096);
    await reader.close();
    await assert.rejects(reader.read([join(dir, 'ab', 'small')]), /filestore reader stopped/);
  });
});
