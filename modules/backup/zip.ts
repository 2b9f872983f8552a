import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, Readable, Transform } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import yazl from 'yazl';

/**
 * ZIP archives written with yazl and read with yauzl, as streams, in the layout Python's `zipfile` (and so Odoo's
 * database manager) reads: deflated entries, sizes and CRC in a data descriptor after each streamed entry, ZIP64
 * records only where a size, an offset or the number of entries needs them. This file adapts them to what the
 * backup runner needs: one entry at a time with backpressure, and reads through `RandomAccess` (a local file, or
 * ranged GETs of a stored object) rather than a file descriptor.
 */

const STORE = 0;
const DEFLATE = 8;

/**
 * yazl keeps every entry in `entries` and, each time it moves on, scans that array from its start for the first
 * entry not written yet: O(n²) in the number of entries (70,000 filestore files took minutes; yazl pull request
 * #91, not merged in 3.3.1). The entries it finished are therefore set aside here while writing and handed back
 * before the central directory is written, where yazl needs them all. Guarded: if yazl's internals change shape,
 * nothing is moved and only the speed is lost.
 */
interface YazlInternals {
  entries?: { state?: number }[];
}
const YAZL_FILE_DATA_DONE = 3;

/** The archive's bytes come out of `stream`; entries go in one after the other. */
export class ZipWriter {
  private readonly zip = new yazl.ZipFile();
  readonly stream = this.zip.outputStream as PassThrough;
  private readonly mtime: Date;
  /** Entries yazl finished writing, set aside (see YazlInternals). */
  private readonly written: unknown[] = [];

  constructor(now: Date = new Date()) {
    // yazl writes MS-DOS local time fields; zipfile reads those: shift so that they carry the UTC time.
    this.mtime = new Date(now.getTime() + now.getTimezoneOffset() * 60_000);
  }

  /**
   * Appends one entry whose content is read from `source`, deflated unless `store`; resolves once the content was
   * read to its end (the next entry's source is not opened before), rejects if the source fails or if whoever
   * read the archive went away (the stream was destroyed).
   */
  async add(
    name: string,
    source: Readable | Buffer | string,
    options: { store?: boolean } = {},
  ): Promise<void> {
    if (this.stream.destroyed) throw new Error('the archive stream was closed');
    this.setAsideWritten();
    const entryOptions = { mtime: this.mtime, compress: !options.store, forceDosTimestamp: true };
    if (typeof source === 'string' || Buffer.isBuffer(source)) {
      // Small contents in memory (the manifest, tests): no stream machinery per entry.
      this.zip.addBuffer(Buffer.from(source), name, entryOptions);
      return this.writtenOut(this.lastEntry());
    }
    let entry: { state?: number } | undefined;
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        source.off('end', ended).off('error', settle).off('close', sourceClosed);
        this.stream.off('close', streamClosed);
        if (!error) return resolve();
        source.destroy();
        reject(error);
      };
      const ended = () => settle();
      const sourceClosed = () => settle(new Error(`${name}: its source closed before its end`));
      const streamClosed = () => settle(new Error('the archive stream was closed'));
      source.once('end', ended).once('error', settle).once('close', sourceClosed);
      this.stream.once('close', streamClosed);
      this.zip.addReadStreamLazy(name, entryOptions, (callback) => callback(null, source));
      entry = this.lastEntry();
    });
    // Read to its end; now deflated to its end and handed to the stream's reader.
    await this.writtenOut(entry);
  }

  private lastEntry(): { state?: number } | undefined {
    const entries = (this.zip as unknown as YazlInternals).entries;
    return Array.isArray(entries) ? entries[entries.length - 1] : undefined;
  }

  /**
   * Waits until yazl wrote `last` (a buffer is deflated on the thread pool, then written when its turn comes; a
   * stream's deflater flushes after its source ended) and the stream has room again: entries never pile up in
   * memory ahead of the reader, and a reader that went away fails the entry instead of leaving it waiting.
   */
  private async writtenOut(last: { state?: number } | undefined): Promise<void> {
    for (;;) {
      if (this.stream.destroyed) throw new Error('the archive stream was closed');
      if (this.stream.writableNeedDrain)
        await new Promise<void>((resolve) => {
          const done = () => {
            this.stream.off('drain', done).off('close', done);
            resolve();
          };
          this.stream.once('drain', done).once('close', done);
        });
      else if (last && last.state !== YAZL_FILE_DATA_DONE)
        await new Promise((resolve) => setImmediate(resolve));
      else return;
    }
  }

  /** Writes the central directory and ends the stream; resolves when all of it was handed to the stream's reader. */
  finish(): Promise<void> {
    if (this.stream.destroyed) return Promise.reject(new Error('the archive stream was closed'));
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        this.stream.off('finish', finished).off('close', closed);
        if (error) reject(error);
        else resolve();
      };
      const finished = () => settle();
      const closed = () => settle(new Error('the archive stream was closed'));
      this.stream.once('finish', finished).once('close', closed);
      const internals = this.zip as unknown as YazlInternals;
      if (Array.isArray(internals.entries)) internals.entries = [...this.written, ...internals.entries] as [];
      this.written.length = 0;
      this.zip.end();
    });
  }

  private setAsideWritten(): void {
    const internals = this.zip as unknown as YazlInternals;
    const entries = internals.entries;
    if (!Array.isArray(entries)) return;
    let done = 0;
    while (done < entries.length && entries[done].state === YAZL_FILE_DATA_DONE) done++;
    if (done === 0) return;
    for (const entry of entries.splice(0, done)) this.written.push(entry);
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
