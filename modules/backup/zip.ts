import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, pipeline, Readable, Transform } from 'node:stream';
import { createDeflateRaw, createInflateRaw, crc32, deflateRawSync } from 'node:zlib';

/**
 * A ZIP archive written and read as streams, in the layout Python's `zipfile` (and so Odoo's database manager)
 * reads: deflated entries, sizes and CRC in a data descriptor after each entry (the writer never knows a size
 * ahead), ZIP64 records only where a size, an offset or the number of entries needs them.
 */

const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
const SIG_LOCAL = 0x04034b50;
const SIG_DESCRIPTOR = 0x08074b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
/** Bit 3 (sizes in the data descriptor) and bit 11 (names in UTF-8). */
const FLAGS = 0x0808;
const DEFLATE = 8;
const STORE = 0;

interface Written {
  name: Buffer;
  method: number;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
  time: number;
  date: number;
}

/** The archive's bytes come out of `stream`; entries go in one after the other. */
export class ZipWriter {
  readonly stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  private offset = 0;
  private readonly entries: Written[] = [];

  constructor(private readonly now: Date = new Date()) {}

  /** Bytes written so far. */
  get written(): number {
    return this.offset;
  }

  /** Appends one entry whose content is read from `source`, deflated unless `store`. */
  async add(
    name: string,
    source: Readable | Buffer | string,
    options: { store?: boolean } = {},
  ): Promise<void> {
    const entry: Written = {
      name: Buffer.from(name, 'utf8'),
      method: options.store ? STORE : DEFLATE,
      crc: 0,
      compressed: 0,
      size: 0,
      offset: this.offset,
      ...dosTime(this.now),
    };
    const header = Buffer.alloc(30);
    header.writeUInt32LE(SIG_LOCAL, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(FLAGS, 6);
    header.writeUInt16LE(entry.method, 8);
    header.writeUInt16LE(entry.time, 10);
    header.writeUInt16LE(entry.date, 12);
    // CRC and sizes: 0 here, in the data descriptor.
    header.writeUInt16LE(entry.name.length, 26);
    await this.push(Buffer.concat([header, entry.name]));
    if (typeof source === 'string' || Buffer.isBuffer(source)) {
      // Small contents in memory (the manifest): no stream machinery per entry.
      const content = Buffer.from(source);
      const data = entry.method === DEFLATE ? deflateRawSync(content, { level: 6 }) : content;
      entry.crc = crc32(content);
      entry.size = content.length;
      entry.compressed = data.length;
      await this.push(data);
    } else {
      const input = source;
      const measure = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          entry.crc = crc32(chunk, entry.crc);
          entry.size += chunk.length;
          callback(null, chunk);
        },
      });
      // An error anywhere (the source, the deflater) destroys the last stage, which ends the loop by throwing.
      const last: Readable =
        entry.method === DEFLATE
          ? pipeline(input, measure, createDeflateRaw({ level: 6 }), () => undefined)
          : pipeline(input, measure, () => undefined);
      for await (const chunk of last) {
        entry.compressed += (chunk as Buffer).length;
        await this.push(chunk as Buffer);
      }
    }
    const zip64 = entry.size >= MAX32 || entry.compressed >= MAX32;
    const descriptor = Buffer.alloc(zip64 ? 24 : 16);
    descriptor.writeUInt32LE(SIG_DESCRIPTOR, 0);
    descriptor.writeUInt32LE(entry.crc, 4);
    if (zip64) {
      descriptor.writeBigUInt64LE(BigInt(entry.compressed), 8);
      descriptor.writeBigUInt64LE(BigInt(entry.size), 16);
    } else {
      descriptor.writeUInt32LE(entry.compressed, 8);
      descriptor.writeUInt32LE(entry.size, 12);
    }
    await this.push(descriptor);
    this.entries.push(entry);
  }

  /** Writes the central directory and ends the stream. */
  async finish(): Promise<void> {
    const start = this.offset;
    for (const entry of this.entries) {
      const extra: Buffer[] = [];
      if (entry.size >= MAX32) extra.push(u64(entry.size));
      if (entry.compressed >= MAX32) extra.push(u64(entry.compressed));
      if (entry.offset >= MAX32) extra.push(u64(entry.offset));
      const extraField = extra.length
        ? Buffer.concat([u16(0x0001), u16(extra.length * 8), ...extra])
        : Buffer.alloc(0);
      const record = Buffer.alloc(46);
      record.writeUInt32LE(SIG_CENTRAL, 0);
      // Made by: UNIX, spec 4.5; needed: 4.5 with ZIP64 fields, else 2.0.
      record.writeUInt16LE((3 << 8) | 45, 4);
      record.writeUInt16LE(extra.length ? 45 : 20, 6);
      record.writeUInt16LE(FLAGS, 8);
      record.writeUInt16LE(entry.method, 10);
      record.writeUInt16LE(entry.time, 12);
      record.writeUInt16LE(entry.date, 14);
      record.writeUInt32LE(entry.crc, 16);
      record.writeUInt32LE(Math.min(entry.compressed, MAX32), 20);
      record.writeUInt32LE(Math.min(entry.size, MAX32), 24);
      record.writeUInt16LE(entry.name.length, 28);
      record.writeUInt16LE(extraField.length, 30);
      // A regular file, rw-r--r--.
      record.writeUInt32LE((0o100644 << 16) >>> 0, 38);
      record.writeUInt32LE(Math.min(entry.offset, MAX32), 42);
      await this.push(Buffer.concat([record, entry.name, extraField]));
    }
    const size = this.offset - start;
    const count = this.entries.length;
    if (count >= MAX16 || size >= MAX32 || start >= MAX32) {
      const end64Offset = this.offset;
      const end64 = Buffer.alloc(56);
      end64.writeUInt32LE(SIG_END64, 0);
      end64.writeBigUInt64LE(44n, 4);
      end64.writeUInt16LE((3 << 8) | 45, 12);
      end64.writeUInt16LE(45, 14);
      end64.writeBigUInt64LE(BigInt(count), 24);
      end64.writeBigUInt64LE(BigInt(count), 32);
      end64.writeBigUInt64LE(BigInt(size), 40);
      end64.writeBigUInt64LE(BigInt(start), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(SIG_LOCATOR64, 0);
      locator.writeBigUInt64LE(BigInt(end64Offset), 8);
      locator.writeUInt32LE(1, 16);
      await this.push(Buffer.concat([end64, locator]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(SIG_END, 0);
    end.writeUInt16LE(Math.min(count, MAX16), 8);
    end.writeUInt16LE(Math.min(count, MAX16), 10);
    end.writeUInt32LE(Math.min(size, MAX32), 12);
    end.writeUInt32LE(Math.min(start, MAX32), 16);
    await this.push(end);
    this.stream.end();
  }

  /**
   * Writes with backpressure. A reader that went away (the storage failed, the run was stopped) destroys the stream:
   * the wait for 'drain' then ends with an error instead of never.
   */
  private async push(bytes: Buffer): Promise<void> {
    if (this.stream.destroyed) throw new Error('the archive stream was closed');
    this.offset += bytes.length;
    if (this.stream.write(bytes)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        this.stream.off('drain', drained).off('close', closed);
        if (error) reject(error);
        else resolve();
      };
      const drained = () => done();
      const closed = () => done(new Error('the archive stream was closed'));
      this.stream.on('drain', drained).on('close', closed);
    });
  }
}

/** Bytes that can be read at any offset: a file, a stored object (ranged GET), a spooled copy. */
export interface RandomAccess {
  size: number;
  /** The bytes from `start` (inclusive) to `end` (exclusive). */
  read(start: number, end: number): Promise<Readable>;
}

/** One entry of a ZIP archive's central directory. */
export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
}

export class ZipFormatError extends Error {}

/** The entries of a ZIP archive, read from its central directory (ZIP64 included). */
export async function readZipDirectory(archive: RandomAccess): Promise<ZipEntry[]> {
  const tailLength = Math.min(archive.size, 22 + MAX16 + 20);
  const tail = await bytes(archive, archive.size - tailLength, archive.size);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--)
    if (tail.readUInt32LE(i) === SIG_END) {
      at = i;
      break;
    }
  if (at < 0) throw new ZipFormatError('not a ZIP archive (no end of central directory)');
  let count = tail.readUInt16LE(at + 10);
  let size = tail.readUInt32LE(at + 12);
  let start = tail.readUInt32LE(at + 16);
  if (at >= 20 && tail.readUInt32LE(at - 20) === SIG_LOCATOR64) {
    const end64Offset = Number(tail.readBigUInt64LE(at - 20 + 8));
    const end64 = await bytes(archive, end64Offset, end64Offset + 56);
    if (end64.readUInt32LE(0) !== SIG_END64)
      throw new ZipFormatError('damaged ZIP64 end of central directory');
    count = Number(end64.readBigUInt64LE(32));
    size = Number(end64.readBigUInt64LE(40));
    start = Number(end64.readBigUInt64LE(48));
  }
  if (start + size > archive.size) throw new ZipFormatError('truncated ZIP archive');
  const directory = await bytes(archive, start, start + size);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > directory.length || directory.readUInt32LE(p) !== SIG_CENTRAL)
      throw new ZipFormatError('damaged ZIP central directory');
    const nameLength = directory.readUInt16LE(p + 28);
    const extraLength = directory.readUInt16LE(p + 30);
    const commentLength = directory.readUInt16LE(p + 32);
    const entry: ZipEntry = {
      name: directory.subarray(p + 46, p + 46 + nameLength).toString('utf8'),
      method: directory.readUInt16LE(p + 10),
      crc: directory.readUInt32LE(p + 16),
      compressed: directory.readUInt32LE(p + 20),
      size: directory.readUInt32LE(p + 24),
      offset: directory.readUInt32LE(p + 42),
    };
    // ZIP64 extended information: only the fields whose 32-bit value is saturated, in this order.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = directory.readUInt16LE(e);
      const length = directory.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let f = e + 4;
        for (const field of ['size', 'compressed', 'offset'] as const)
          if (entry[field] === MAX32 && f + 8 <= e + 4 + length) {
            entry[field] = Number(directory.readBigUInt64LE(f));
            f += 8;
          }
      }
      e += 4 + length;
    }
    entries.push(entry);
    p = extraEnd + commentLength;
  }
  return entries;
}

/** The content of one entry, inflated; its size and CRC-32 are checked at its end (a mismatch fails the stream). */
export async function openZipEntry(archive: RandomAccess, entry: ZipEntry): Promise<Readable> {
  const header = await bytes(archive, entry.offset, entry.offset + 30);
  if (header.readUInt32LE(0) !== SIG_LOCAL) throw new ZipFormatError(`damaged local header of ${entry.name}`);
  const dataStart = entry.offset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  const raw = await archive.read(dataStart, dataStart + entry.compressed);
  if (entry.method !== STORE && entry.method !== DEFLATE)
    throw new ZipFormatError(`${entry.name}: compression method ${entry.method} is not supported`);
  let crc = 0;
  let size = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      crc = crc32(chunk, crc);
      size += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      if (size !== entry.size || crc >>> 0 !== entry.crc >>> 0)
        callback(new ZipFormatError(`${entry.name}: content does not match its size and CRC-32`));
      else callback();
    },
  });
  const stages: NodeJS.ReadWriteStream[] = entry.method === DEFLATE ? [createInflateRaw(), check] : [check];
  let out: NodeJS.ReadableStream = raw;
  for (const stage of stages) {
    out.on('error', (error: Error) => stage.emit('error', error));
    out = out.pipe(stage);
  }
  return check;
}

async function bytes(archive: RandomAccess, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await archive.read(start, end)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value, 0);
  return b;
}

function u64(value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value), 0);
  return b;
}

/** MS-DOS time and date (local fields, as zipfile writes them; UTC here). */
function dosTime(at: Date): { time: number; date: number } {
  const year = Math.max(1980, at.getUTCFullYear());
  return {
    time: (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | (at.getUTCSeconds() >> 1),
    date: ((year - 1980) << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate(),
  };
}

/** A local file as random-access bytes. */
export async function fileAccess(path: string): Promise<RandomAccess> {
  const { size } = await stat(path);
  return {
    size,
    read: (start, end) =>
      Promise.resolve(end > start ? createReadStream(path, { start, end: end - 1 }) : Readable.from([])),
  };
}
