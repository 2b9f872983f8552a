import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { fileAccess, openZipEntry, readZipDirectory, ZipWriter } from '../zip.js';

/** Python's zipfile is what Odoo's database manager reads and writes archives with. */
function python(script: string, ...args: string[]): string {
  return execFileSync('python3', ['-c', script, ...args]).toString();
}

describe('backup: streaming ZIP writer and reader', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-zip-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes an archive that Python zipfile tests and extracts byte for byte, and reads it back', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const zip = new ZipWriter(new Date('2025-03-04T05:06:08Z'));
    const path = join(dir, 'a.zip');
    const written = pipeline(zip.stream, createWriteStream(path));
    await zip.add('manifest.json', '{"odoo_dump": "1"}');
    await zip.add('dump.sql', Readable.from([big.subarray(0, 1000), big.subarray(1000)]));
    await zip.add('filestore/ab/abcdef', Buffer.from('stored as is'), { store: true });
    await zip.add('filestore/é/ünïcode', Buffer.alloc(0));
    await zip.finish();
    await written;
    const listing = python(
      `import sys, zipfile, hashlib, json
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({i.filename: [i.file_size, hashlib.sha256(z.read(i)).hexdigest(), i.date_time[:5]] for i in z.infolist()}))`,
      path,
    );
    const parsed = JSON.parse(listing) as Record<string, [number, string, number[]]>;
    const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    assert.deepEqual(Object.keys(parsed), [
      'manifest.json',
      'dump.sql',
      'filestore/ab/abcdef',
      'filestore/é/ünïcode',
    ]);
    assert.deepEqual(parsed['dump.sql'].slice(0, 2), [big.length, hash(big)]);
    assert.deepEqual(parsed['dump.sql'][2], [2025, 3, 4, 5, 6]);
    assert.deepEqual(parsed['filestore/ab/abcdef'].slice(0, 2), [12, hash(Buffer.from('stored as is'))]);
    assert.equal(parsed['filestore/é/ünïcode'][0], 0);

    const archive = await fileAccess(path);
    const entries = await readZipDirectory(archive);
    assert.deepEqual(
      entries.map((e) => [e.name, e.size]),
      [
        ['manifest.json', 18],
        ['dump.sql', big.length],
        ['filestore/ab/abcdef', 12],
        ['filestore/é/ünïcode', 0],
      ],
    );
    assert.deepEqual(await buffer(await openZipEntry(archive, entries[1])), big);

    // A flipped byte inside the deflated data: the reader refuses the entry rather than return other bytes.
    const bytes = await readFile(path);
    bytes[entries[1].offset + 60 + 2000] ^= 0x55;
    await writeFile(path, bytes);
    await assert.rejects(async () => buffer(await openZipEntry(await fileAccess(path), entries[1])));
  });

  it('switches to ZIP64 records past 65,535 entries, read back by Python zipfile and by the reader', async () => {
    const zip = new ZipWriter();
    const path = join(dir, 'many.zip');
    const written = pipeline(zip.stream, createWriteStream(path));
    const count = 70_000;
    for (let i = 0; i < count; i++) await zip.add(`filestore/${i % 256}/${i}`, String(i), { store: true });
    await zip.finish();
    await written;
    const answer = python(
      `import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
print(len(names), z.read(names[-1]).decode())`,
      path,
    );
    assert.equal(answer.trim(), `${count} ${count - 1}`);
    const archive = await fileAccess(path);
    const entries = await readZipDirectory(archive);
    assert.equal(entries.length, count);
    assert.equal(
      (await buffer(await openZipEntry(archive, entries[count - 1]))).toString(),
      String(count - 1),
    );
  });

  it('fails an entry whose source fails while its blocks are being deflated, and writes nothing after it', async () => {
    const zip = new ZipWriter();
    const chunks: Buffer[] = [];
    zip.stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    async function* failing() {
      // Several deflate blocks in flight, then the dump dies.
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        yield Buffer.alloc(512 * 1024, `line ${i} of the dump\n`);
      }
      throw new Error('pg_dump: connection lost');
    }
    await assert.rejects(zip.add('dump.sql', Readable.from(failing())), /connection lost/);
    await new Promise((resolve) => setImmediate(resolve));
    const written = Buffer.concat(chunks);
    // No data descriptor, no central directory: nothing that looks like a finished entry or archive.
    assert.equal(written.indexOf(Buffer.from([0x50, 0x4b, 0x07, 0x08])), -1);
    assert.equal(written.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])), -1);
  });

  it('fails an entry whose reader went away instead of waiting for room forever', async () => {
    const zip = new ZipWriter();
    // Nobody reads: the stream fills up, then its reader is gone.
    const adding = zip.add('dump.sql', Readable.from([randomBytes(8 * 1024 * 1024)]), { store: true });
    const failed = assert.rejects(adding, /the archive stream was closed/);
    await new Promise((resolve) => setImmediate(resolve));
    zip.stream.destroy();
    await failed;
  });
});
