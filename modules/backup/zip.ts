import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, Readable, Transform } from 'node:stream';
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw, deflateRawSync, type ZlibOptions } from 'node:zlib';
import yauzl from 'yauzl';

/**
 * ZIP archives for Odoo's backup format: written by our own streaming writer (see ZipWriter for why) and read with
 * yauzl, through `RandomAccess` (a local file, or ranged GETs of a stored object) rather than a file descriptor.
 */

const STORE = 0;
const DEFLATE = 8;

const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
const SIG_LOCAL = 0x04034b50;
const SIG_DESCRIPTOR = 0x08074b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
/** Bit 3 (CRC and sizes in a data descriptor after the content) and bit 11 (names in UTF-8). */
const FLAGS = 0x0808;
/** Version made by: UNIX (3), specification 4.5. */
const MADE_BY = (3 << 8) | 45;

/** Content is deflated in blocks of this size, several at once on libuv's thread pool. */
const BLOCK = 1024 * 1024;
/** Blocks in flight at once: libuv's pool has 4 threads; one stays free for the file system. */
const PARALLEL = 3;
/**
 * zlib's output buffer for one block: room for all of it (incompressible input grows by a few bytes per 16 KiB), so
 * that a block is one trip to the thread pool, not one per 16 KiB (Node's default chunk) of output.
 */
const DEFLATE_OUTPUT = BLOCK + 64 * 1024;
/** Deflate looks back this far: each block is primed with the end of the previous one. */
const LOOK_BACK = 32 * 1024;
/** Pieces smaller than this are gathered into one write (see `push`). */
const GATHER = 64 * 1024;
/** An empty final deflate block: ends a stream whose blocks each ended with a sync flush. */
const FINAL_BLOCK = deflateRawSync(Buffer.alloc(0));

const deflateBlock = promisify(
  (block: Buffer, options: ZlibOptions, callback: (error: Error | null, result: Buffer) => void) =>
    deflateRaw(block, options, callback),
);

/** What the central directory needs of an entry written. */
interface Written {
  name: Buffer;
  method: number;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
}

/**
 * A ZIP archive written as a stream, in the layout Python's `zipfile` (and so Odoo's database manager) reads:
 * deflated or stored entries, CRC and sizes in a data descriptor after each entry (the writer never knows a size
 * ahead), ZIP64 records only where a size, an offset or the number of entries needs them.
 *
 * Our own rather than yazl's (which it replaced for a while): a backup's `dump.sql` is hundreds of megabytes of SQL,
 * and its deflate is most of a backup's time. Here it is deflated pigz-style — blocks of 1 MiB, each primed with the
 * 32 KiB before it and ended by a sync flush, several at once on the thread pool, concatenated into one valid deflate
 * stream — with zlib's native CRC-32; yazl deflates in one stream on one thread, computes CRC-32 in JavaScript, and
 * scans its entry list from the start at every entry (quadratic in a filestore's 10,000s of files).
 */
export class ZipWriter {
  readonly stream = new PassThrough({ highWaterMark: BLOCK });
  private offset = 0;
  private readonly entries: Written[] = [];
  private gathered: Buffer[] = [];
  private gatheredLength = 0;
  /** MS-DOS date and time fields, in UTC (what `zipfile` shows). */
  private readonly time: number;
  private readonly date: number;

  constructor(now: Date = new Date()) {
    this.time = (now.getUTCHours() << 11) | (now.getUTCMinutes() << 5) | (now.getUTCSeconds() >> 1);
    this.date = ((now.getUTCFullYear() - 1980) << 9) | ((now.getUTCMonth() + 1) << 5) | now.getUTCDate();
  }

  /**
   * Appends one entry whose content is `source` (read to its end before this resolves), deflated unless `store`;
   * rejects if the source fails or if whoever reads the archive went away (the stream was destroyed).
   */
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
    };
    const header = Buffer.alloc(30);
    header.writeUInt32LE(SIG_LOCAL, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(FLAGS, 6);
    header.writeUInt16LE(entry.method, 8);
    header.writeUInt16LE(this.time, 10);
    header.writeUInt16LE(this.date, 12);
    // CRC and sizes: 0 here, in the data descriptor.
    header.writeUInt16LE(entry.name.length, 26);
    await this.push(Buffer.concat([header, entry.name]));
    const content = typeof source === 'string' ? Buffer.from(source) : source;
    if (entry.method === STORE)
      for await (const chunk of Buffer.isBuffer(content) ? [content] : content) {
        entry.crc = crc32(chunk as Buffer, entry.crc);
        entry.size += (chunk as Buffer).length;
        entry.compressed += (chunk as Buffer).length;
        await this.push(chunk as Buffer);
      }
    else await this.deflate(entry, Buffer.isBuffer(content) ? [content] : content);
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

  /** Deflates `content` in blocks, PARALLEL at a time, written in order (see the class). */
  private async deflate(entry: Written, content: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<void> {
    const pending: Promise<Buffer>[] = [];
    const write = async (deflated: Buffer) => {
      entry.compressed += deflated.length;
      await this.push(deflated);
    };
    let previous: Buffer | undefined;
    for await (const block of blocks(content, BLOCK)) {
      entry.crc = crc32(block, entry.crc);
      entry.size += block.length;
      const deflated = deflateBlock(block, {
        level: 6,
        finishFlush: constants.Z_SYNC_FLUSH,
        chunkSize: DEFLATE_OUTPUT,
        ...(previous && { dictionary: previous.subarray(-LOOK_BACK) }),
      });
      // Awaited in order below; a failure is not "unhandled" while an earlier block is awaited.
      deflated.catch(() => undefined);
      pending.push(deflated);
      previous = block;
      if (pending.length >= PARALLEL) await write(await pending.shift()!);
    }
    while (pending.length) await write(await pending.shift()!);
    await write(FINAL_BLOCK);
  }

  /** Writes the central directory and ends the stream; resolves when all of it was handed to the stream's reader. */
  async finish(): Promise<void> {
    const start = this.offset;
    for (const entry of this.entries) {
      const extra: Buffer[] = [];
      if (entry.size >= MAX32) extra.push(u64(entry.size));
      if (entry.compressed >= MAX32) extra.push(u64(entry.compressed));
      if (entry.offset >= MAX32) extra.push(u64(entry.offset));
      const extraLength = extra.length ? 4 + 8 * extra.length : 0;
      const record = Buffer.alloc(46 + entry.name.length + extraLength);
      record.writeUInt32LE(SIG_CENTRAL, 0);
      record.writeUInt16LE(MADE_BY, 4);
      // Version needed: 4.5 with ZIP64 fields, else 2.0.
      record.writeUInt16LE(extra.length ? 45 : 20, 6);
      record.writeUInt16LE(FLAGS, 8);
      record.writeUInt16LE(entry.method, 10);
      record.writeUInt16LE(this.time, 12);
      record.writeUInt16LE(this.date, 14);
      record.writeUInt32LE(entry.crc, 16);
      record.writeUInt32LE(Math.min(entry.compressed, MAX32), 20);
      record.writeUInt32LE(Math.min(entry.size, MAX32), 24);
      record.writeUInt16LE(entry.name.length, 28);
      record.writeUInt16LE(extraLength, 30);
      // A regular file, rw-r--r--.
      record.writeUInt32LE((0o100644 << 16) >>> 0, 38);
      record.writeUInt32LE(Math.min(entry.offset, MAX32), 42);
      entry.name.copy(record, 46);
      if (extra.length) {
        record.writeUInt16LE(0x0001, 46 + entry.name.length);
        record.writeUInt16LE(8 * extra.length, 48 + entry.name.length);
        extra.forEach((field, i) => field.copy(record, 50 + entry.name.length + 8 * i));
      }
      await this.push(record);
    }
    const size = this.offset - start;
    const count = this.entries.length;
    if (count >= MAX16 || size >= MAX32 || start >= MAX32) {
      const end64 = Buffer.alloc(56 + 20);
      end64.writeUInt32LE(SIG_END64, 0);
      end64.writeBigUInt64LE(44n, 4);
      end64.writeUInt16LE(MADE_BY, 12);
      end64.writeUInt16LE(45, 14);
      end64.writeBigUInt64LE(BigInt(count), 24);
      end64.writeBigUInt64LE(BigInt(count), 32);
      end64.writeBigUInt64LE(BigInt(size), 40);
      end64.writeBigUInt64LE(BigInt(start), 48);
      // The locator: where the record above starts, on disk 0 of 1.
      end64.writeUInt32LE(SIG_LOCATOR64, 56);
      end64.writeBigUInt64LE(BigInt(this.offset), 64);
      end64.writeUInt32LE(1, 72);
      await this.push(end64);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(SIG_END, 0);
    end.writeUInt16LE(Math.min(count, MAX16), 8);
    end.writeUInt16LE(Math.min(count, MAX16), 10);
    end.writeUInt32LE(Math.min(size, MAX32), 12);
    end.writeUInt32LE(Math.min(start, MAX32), 16);
    await this.push(end);
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        this.stream.off('finish', finished).off('close', closed);
        if (error) reject(error);
        else resolve();
      };
      const finished = () => settle();
      const closed = () => settle(new Error('the archive stream was closed'));
      this.stream.once('finish', finished).once('close', closed);
      this.stream.end();
    });
  }

  /**
   * Writes with backpressure: entries never pile up in memory ahead of the reader. Small pieces (headers, data
   * descriptors, small files) are gathered up to GATHER bytes first: a filestore's 10,000s of entries would otherwise
   * be 3 writes each through every stage after this stream (hash, storage). A reader that went away (the storage
   * failed, the run was stopped) destroys the stream: the wait for room then fails instead of never ending.
   */
  private async push(bytes: Buffer): Promise<void> {
    if (this.stream.destroyed) throw new Error('the archive stream was closed');
    this.offset += bytes.length;
    if (bytes.length >= GATHER) {
      await this.flush();
      return this.write(bytes);
    }
    this.gathered.push(bytes);
    this.gatheredLength += bytes.length;
    if (this.gatheredLength >= GATHER) await this.flush();
  }

  /** What `push` gathered, written. */
  private async flush(): Promise<void> {
    if (!this.gatheredLength) return;
    const bytes = Buffer.concat(this.gathered, this.gatheredLength);
    this.gathered = [];
    this.gatheredLength = 0;
    await this.write(bytes);
  }

  private async write(bytes: Buffer): Promise<void> {
    if (this.stream.destroyed) throw new Error('the archive stream was closed');
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

/** `content` in pieces of about `size` bytes (small chunks gathered, a large buffer cut). */
async function* blocks(
  content: Iterable<Buffer> | AsyncIterable<Buffer>,
  size: number,
): AsyncGenerator<Buffer> {
  let gathered: Buffer[] = [];
  let length = 0;
  for await (const chunk of content) {
    for (let at = 0; at < chunk.length;) {
      const piece =
        at === 0 && chunk.length - at <= size - length ? chunk : chunk.subarray(at, at + size - length);
      at += piece.length;
      gathered.push(piece);
      length += piece.length;
      if (length >= size) {
        yield gathered.length === 1 ? gathered[0] : Buffer.concat(gathered, length);
        gathered = [];
        length = 0;
      }
    }
  }
  if (length) yield gathered.length === 1 ? gathered[0] : Buffer.concat(gathered, length);
}

function u64(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt(value));
  return bytes;
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
  /** Where its local header starts. */
  offset: number;
  /** The general purpose bit flag (bit 0: encrypted, refused on reading). */
  flags?: number;
}

export class ZipFormatError extends Error {}

/**
 * The yauzl view of each archive (its end of central directory read once), for `openZipEntry`; entries themselves
 * keep no reference to yauzl's objects (70,000 of those, with their buffers, cost memory and garbage collection).
 */
const opened = new WeakMap<RandomAccess, Promise<yauzl.ZipFile>>();

function openArchive(archive: RandomAccess): Promise<yauzl.ZipFile> {
  return new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromRandomAccessReader(
      new AccessReader(archive),
      archive.size,
      // Names are checked by the caller (a restore refuses those that leave the filestore), not refused here.
      { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true },
      (error, file) => (error ? reject(formatError(error)) : resolve(file)),
    ),
  );
}

/** The window read at once for yauzl's small reads (the central directory, local headers). */
const WINDOW = 1024 * 1024;

/**
 * `RandomAccess` as yauzl's reader. yauzl reads the central directory 46 bytes and one name at a time: those small
 * reads are served from one window of WINDOW bytes read ahead, so that 70,000 entries cost a few reads of the
 * file or a few ranged GETs, not 140,000. Entry contents go straight through as ranged streams.
 */
class AccessReader extends yauzl.RandomAccessReader {
  private window: { start: number; bytes: Buffer } | undefined;

  constructor(private readonly archive: RandomAccess) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const out = new PassThrough();
    this.archive.read(start, end).then(
      (stream) => {
        stream.on('error', (error) => out.destroy(error));
        stream.pipe(out);
      },
      (error: Error) => out.destroy(error),
    );
    return out;
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (error: Error | null, bytesRead?: number) => void,
  ): void {
    const held = this.window;
    if (held && position >= held.start && position + length <= held.start + held.bytes.length) {
      held.bytes.copy(buffer, offset, position - held.start, position - held.start + length);
      return void queueMicrotask(() => callback(null, length));
    }
    const end = Math.min(this.archive.size, position + Math.max(length, WINDOW));
    collect(this.archive, position, end).then(
      (bytes) => {
        this.window = { start: position, bytes };
        const copied = bytes.copy(buffer, offset, 0, Math.min(length, bytes.length));
        callback(null, copied);
      },
      (error: Error) => callback(error),
    );
  }
}

/** The entries of a ZIP archive, read from its central directory (ZIP64 included). */
export async function readZipDirectory(archive: RandomAccess): Promise<ZipEntry[]> {
  // A yauzl ZipFile reads its directory once: a fresh one each time, kept for the entries' contents.
  const file = await openArchive(archive);
  opened.set(archive, Promise.resolve(file));
  return new Promise<ZipEntry[]>((resolve, reject) => {
    const entries: ZipEntry[] = [];
    file.on('entry', (entry: yauzl.Entry) => {
      entries.push({
        // Python's zipfile and Vigil write UTF-8 names (flag 11 where it matters); ASCII reads the same either way.
        name: (entry.fileName as unknown as Buffer).toString('utf8'),
        method: entry.compressionMethod,
        crc: entry.crc32,
        compressed: entry.compressedSize,
        size: entry.uncompressedSize,
        offset: entry.relativeOffsetOfLocalHeader,
        flags: entry.generalPurposeBitFlag,
      });
      file.readEntry();
    });
    file.once('end', () => resolve(entries));
    file.once('error', (error: Error) => reject(formatError(error)));
    file.readEntry();
  });
}

/** The content of one entry, inflated; its size and CRC-32 are checked at its end (a mismatch fails the stream). */
export async function openZipEntry(archive: RandomAccess, entry: ZipEntry): Promise<Readable> {
  if (entry.method !== STORE && entry.method !== DEFLATE)
    throw new ZipFormatError(`${entry.name}: compression method ${entry.method} is not supported`);
  let file = opened.get(archive);
  if (!file) {
    file = openArchive(archive);
    opened.set(archive, file);
  }
  // yauzl's entry, rebuilt from the fields its openReadStream reads (it checks the local header against them).
  const raw = Object.assign(new yauzl.Entry(), {
    fileName: entry.name,
    compressionMethod: entry.method,
    compressedSize: entry.compressed,
    uncompressedSize: entry.size,
    relativeOffsetOfLocalHeader: entry.offset,
    generalPurposeBitFlag: entry.flags ?? 0,
  });
  const zip = await file;
  const content = await new Promise<Readable>((resolve, reject) =>
    zip.openReadStream(raw, (error, stream) => (error ? reject(formatError(error)) : resolve(stream))),
  );
  // yauzl checks the size, not the CRC-32: a flipped bit in a stored entry would pass unseen.
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
  content.on('error', (error: Error) => check.destroy(formatError(error)));
  return content.pipe(check);
}

function formatError(error: Error): Error {
  return error instanceof ZipFormatError ? error : new ZipFormatError(error.message);
}

async function collect(archive: RandomAccess, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await archive.read(start, end)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
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
