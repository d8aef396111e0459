// The write-ahead log of live ingest: entries appended to segment files and made durable by group commit (every
// submit that arrives while an fsync is in flight goes into the next write + fsync together), read back in order
// after a crash with a torn tail cut off, and deleted segment by segment once the lake holds all they carry.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { CorruptLogError, SensorlakeError } from '../errors.js';
import { FRAME_HEAD, pad8, readSegment, SEGMENT_HEADER_BYTES, segmentHeader, segmentName, SUFFIX, type WalEntry } from './wal-format.js';

export { allocFrame, FRAME_ROOM, readSegment, SEGMENT_HEADER_BYTES, type SegmentRead, type WalEntry } from './wal-format.js';

export interface WalOptions {
  dir: string;
  /** A segment is closed and a new one begun once it holds this many bytes (default 64 MiB). */
  segmentBytes?: number;
  /** false only to measure what fsync costs. */
  fsync?: boolean;
  /** Positions handed out are above this (the txn versions the lake already holds). */
  minPosition?: number;
}

interface Segment {
  file: string;
  base: number;
  /** Position of its last entry, or base - 1 when it has none. */
  last: number;
  bytes: number;
}

interface Group {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function group(): Group {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A failed group is also reported through every append's own await; this keeps an unawaited one from crashing.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface WalRecovery {
  /** Entries found, in all segments. */
  entries: number;
  /** Bytes cut off the last segment's torn tail (0 after a clean shutdown). */
  truncatedBytes: number;
}

export class Wal {
  private segments: Segment[] = [];
  private fh: fs.FileHandle | null = null;
  private next: number;
  private queue: Uint8Array[] = [];
  private queued: Group = group();
  private queueLast = 0;
  private pumping: Promise<void> | null = null;
  private failed: unknown = null;
  private closed = false;
  /** Write + fsync rounds so far: fewer than appends when group commit works. */
  groups = 0;
  readonly recovery: WalRecovery = { entries: 0, truncatedBytes: 0 };

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
    private readonly fsync: boolean,
    next: number,
  ) {
    this.next = next;
  }

  /**
   * Opens the log in `dir`: checks every segment, cuts a torn tail off the last one (only the last can be torn: a
   * segment is complete and fsync'd before the next is begun), and starts a new segment for appends.
   */
  static async open(opts: WalOptions): Promise<Wal> {
    await fs.mkdir(opts.dir, { recursive: true });
    const names = (await fs.readdir(opts.dir)).filter((n) => n.endsWith(SUFFIX) && /^\d{16}\.wal$/.test(n)).sort();
    const found: Segment[] = [];
    const recovery: WalRecovery = { entries: 0, truncatedBytes: 0 };
    let lastPosition = opts.minPosition ?? 0;
    for (let k = 0; k < names.length; k++) {
      const file = path.join(opts.dir, names[k]);
      const isLast = k === names.length - 1;
      const r = await readSegment(file);
      if (r.base === null) {
        if (!isLast) throw new CorruptLogError(`WAL ${file}: segment header is missing or damaged, and later segments exist`);
        // Creation was cut short before the header was durable: nothing in it was ever acknowledged.
        await fs.rm(file);
        recovery.truncatedBytes += r.tornBytes;
        continue;
      }
      if (r.tornBytes > 0) {
        if (!isLast) throw new CorruptLogError(`WAL ${file}: damaged entry at byte ${r.validBytes} of a closed segment (acknowledged data would be lost)`);
        const fh = await fs.open(file, 'r+');
        try {
          await fh.truncate(r.validBytes);
          await fh.sync();
        } finally {
          await fh.close();
        }
        recovery.truncatedBytes += r.tornBytes;
      }
      let last = r.base - 1;
      for (const e of r.entries) {
        if (e.position <= last || e.position <= (found.at(-1)?.last ?? -Infinity)) {
          throw new CorruptLogError(`WAL ${file}: position ${e.position} does not follow ${Math.max(last, found.at(-1)?.last ?? -Infinity)}`);
        }
        last = e.position;
      }
      recovery.entries += r.entries.length;
      found.push({ file, base: r.base, last, bytes: r.validBytes });
      // A base counts as taken even with no entry after it, so the new segment's name never collides with it.
      lastPosition = Math.max(lastPosition, last, r.base);
    }
    const wal = new Wal(opts.dir, opts.segmentBytes ?? 64 << 20, opts.fsync ?? true, lastPosition + 1);
    Object.assign(wal.recovery, recovery);
    wal.segments = found;
    await wal.startSegment(wal.next);
    return wal;
  }

  /** The position the next append gets. */
  get nextPosition(): number {
    return this.next;
  }

  /** Bytes of all segments on disk. */
  get bytes(): number {
    return this.segments.reduce((s, g) => s + g.bytes, 0);
  }

  /** Segment files in position order (for tests and diagnostics). */
  segmentFiles(): string[] {
    return this.segments.map((s) => s.file);
  }

  /** Every entry with a position above `after`, segment by segment in position order. */
  async *entries(after = -Infinity): AsyncGenerator<WalEntry> {
    for (const s of this.segments.slice()) {
      if (s.last <= after) continue;
      const r = await readSegment(s.file);
      for (const e of r.entries) if (e.position > after) yield e;
    }
  }

  /**
   * Appends a frame from allocFrame (its position is written into it) and returns the position with a promise that
   * resolves once the entry is durable. Entries are written in position order.
   */
  append(frame: Uint8Array): { position: number; durable: Promise<void> } {
    if (this.closed) throw new SensorlakeError(`WAL ${this.dir}: closed`);
    if (this.failed) throw new SensorlakeError(`WAL ${this.dir}: an earlier write or fsync failed; restart to recover from the log`, { cause: this.failed });
    const position = this.next++;
    const view = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    // The body length excludes the zero padding: recovery finds the next frame at pad8(head + length).
    const len = view.readUInt32LE(0);
    if (len < 8 || pad8(FRAME_HEAD + len) !== frame.byteLength) throw new SensorlakeError(`WAL ${this.dir}: append takes a frame made by allocFrame`);
    view.writeDoubleLE(position, FRAME_HEAD);
    view.writeUInt32LE(crc32(view.subarray(FRAME_HEAD, FRAME_HEAD + len)), 4);
    this.queue.push(frame);
    this.queueLast = position;
    const durable = this.queued.promise;
    this.pumping ??= this.pump();
    return { position, durable };
  }

  /** Resolves when everything appended so far is durable (or has failed). */
  async idle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  /** Closes the log (after pending appends are durable); segments stay for the next open. */
  async close(): Promise<void> {
    await this.idle();
    this.closed = true;
    await this.fh?.close();
    this.fh = null;
  }

  /**
   * Deletes closed segments whose every entry is at or below `committed` (the active one stays, so positions
   * survive restarts). Returns the files deleted.
   */
  async release(committed: number): Promise<string[]> {
    const gone: string[] = [];
    while (this.segments.length > 1 && this.segments[0].last <= committed) {
      const s = this.segments.shift()!;
      await fs.rm(s.file, { force: true });
      gone.push(s.file);
    }
    return gone;
  }

  /** Closed segments `release(committed)` would delete. */
  releasable(committed: number): number {
    let k = 0;
    while (k < this.segments.length - 1 && this.segments[k].last <= committed) k++;
    return k;
  }

  private async startSegment(base: number): Promise<void> {
    const file = path.join(this.dir, segmentName(base));
    const fh = await fs.open(file, 'wx');
    await fh.write(segmentHeader(base), 0, SEGMENT_HEADER_BYTES, 0);
    if (this.fsync) {
      await fh.sync();
      await syncDir(this.dir);
    }
    await this.fh?.close();
    this.fh = fh;
    this.segments.push({ file, base, last: base - 1, bytes: SEGMENT_HEADER_BYTES });
    // Segments left empty by earlier runs (opened, never written) carry nothing: the new base covers their position.
    const empty = this.segments.filter((s, k) => k < this.segments.length - 1 && s.last < s.base);
    for (const s of empty) await fs.rm(s.file, { force: true });
    this.segments = this.segments.filter((s) => !empty.includes(s));
  }

  /** One write + one fsync per group, groups one after the other: appends made meanwhile form the next group. */
  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const frames = this.queue;
        const g = this.queued;
        const last = this.queueLast;
        const first = last - frames.length + 1;
        this.queue = [];
        this.queued = group();
        try {
          if (this.failed) throw this.failed;
          let bytes = 0;
          for (const f of frames) bytes += f.byteLength;
          let active = this.segments.at(-1)!;
          if (active.bytes + bytes > this.segmentBytes && active.last >= active.base) {
            await this.startSegment(first);
            active = this.segments.at(-1)!;
          }
          let written = 0;
          while (written < bytes) {
            const r = await this.fh!.writev(written === 0 ? frames : remaining(frames, written), active.bytes + written);
            if (r.bytesWritten <= 0) throw new SensorlakeError(`WAL ${active.file}: write made no progress at byte ${active.bytes + written}`);
            written += r.bytesWritten;
          }
          if (this.fsync) await this.fh!.datasync();
          this.groups++;
          active.bytes += bytes;
          active.last = last;
          g.resolve();
        } catch (e) {
          // After a failed fsync the page cache may no longer hold what was written: nothing more is acknowledged.
          this.failed ??= e;
          g.reject(e);
        }
      }
    } finally {
      this.pumping = null;
    }
  }
}

/** The frames past the first `skip` bytes (after a short write). */
function remaining(frames: Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const f of frames) {
    const end = at + f.byteLength;
    if (end > skip) out.push(at >= skip ? f : f.subarray(skip - at));
    at = end;
  }
  return out;
}
