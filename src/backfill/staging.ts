// Pass 1's spill to disk: rows buffered per window in memory and appended to one file per window as segments (see
// segment.ts) whenever the buffers hold more than a row budget, so memory stays bounded whatever the input.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { rankNames, RowBuffer, type StagedBatch } from './rows.js';
import { decodeRange, encodeSegment, HEADER_BYTES, parseHeader, rangeReads, wordsRead, offsetsIn, type SegmentInfo } from './segment.js';

/** Appends the buffer's rows to a staging file as one segment (written from the arrays, without a copy). */
export async function appendSegment(file: string, rows: RowBuffer): Promise<void> {
  const fh = await fs.open(file, 'a');
  try {
    await fh.writev(encodeSegment(rows));
  } finally {
    await fh.close();
  }
}

/** A segment of a staging file: its header, where it starts, and its directory of sensor runs (null: none). */
export interface SegmentRef {
  info: SegmentInfo;
  pos: number;
  runs: Int32Array | null;
}

/** Reads a staging file's segments, whole or a range of rows at a time. */
export class StagingReader {
  private buffer = new ArrayBuffer(0);

  private constructor(
    readonly file: string,
    private readonly fh: fs.FileHandle,
    readonly segments: SegmentRef[],
  ) {}

  /** The file's segment headers and directories; null when there is no such file. */
  static async open(file: string): Promise<StagingReader | null> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    try {
      const size = (await fh.stat()).size;
      const segments: SegmentRef[] = [];
      const head = new Uint8Array(HEADER_BYTES);
      for (let pos = 0; pos < size; ) {
        await readFully(fh, head, pos, file);
        const info = parseHeader(head);
        if (!info || pos + info.bytes > size) throw new Error(`staging file ${file} has no whole segment at byte ${pos}`);
        let runs: Int32Array | null = null;
        if (info.runs > 0) {
          runs = new Int32Array(info.runs * 2);
          await readFully(fh, new Uint8Array(runs.buffer), pos + HEADER_BYTES, file);
        }
        segments.push({ info, pos, runs });
        pos += info.bytes;
      }
      return new StagingReader(file, fh, segments);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Rows [a, z) of a segment, as views of a buffer reused by the next call (copy what must outlive it). */
  async rows(seg: SegmentRef, a = 0, z = seg.info.n): Promise<StagedBatch> {
    const { reads, layout } = rangeReads(seg.info, a, z);
    if (this.buffer.byteLength < layout) this.buffer = new ArrayBuffer(layout);
    let at = 0;
    for (const r of reads) {
      await readFully(this.fh, new Uint8Array(this.buffer, at, r.bytes), seg.pos + r.at, this.file);
      at += (r.bytes + 7) & ~7;
    }
    let words: Buffer | null = null;
    if (seg.info.hasText) {
      const offsets = offsetsIn(seg.info, a, z, this.buffer);
      const w = wordsRead(seg.info, offsets[0], offsets[z - a]);
      words = Buffer.alloc(w.bytes);
      await readFully(this.fh, words, seg.pos + w.at, this.file);
    }
    return decodeRange(seg.info, a, z, this.buffer, words);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** The batches of a staging file, segment after segment; a batch is valid until the next one is asked for. */
export async function* readSegments(file: string): AsyncGenerator<StagedBatch> {
  const r = await StagingReader.open(file);
  if (!r) return;
  try {
    for (const seg of r.segments) yield await r.rows(seg);
  } finally {
    await r.close();
  }
}

/** Adds the rows of each sensor in a staging file to `counts` (by sid), from the directories where there are some. */
export async function countBySensor(file: string, counts: Float64Array): Promise<number> {
  const r = await StagingReader.open(file);
  if (!r) return 0;
  let n = 0;
  try {
    for (const seg of r.segments) {
      n += seg.info.n;
      if (seg.runs) for (let k = 0; k < seg.runs.length; k += 2) counts[seg.runs[k]] += seg.runs[k + 1];
      else {
        const b = await r.rows(seg);
        for (let i = 0; i < b.n; i++) counts[b.sid[i]]++;
      }
    }
  } finally {
    await r.close();
  }
  return n;
}

async function readFully(fh: fs.FileHandle, into: Uint8Array, at: number, file: string): Promise<void> {
  let got = 0;
  while (got < into.length) {
    const r = await fh.read(into, got, into.length - got, at + got);
    if (r.bytesRead === 0) throw new Error(`staging file ${file} is truncated at byte ${at + got}`);
    got += r.bytesRead;
  }
}

/** Emptied window buffers kept for reuse after a flush. */
const SPARE_BUFFERS = 2;

/** Per-window row buffers and their files under the job's staging directory. */
export class WindowSpill {
  private buffers = new Map<number, RowBuffer>();
  private spare: RowBuffer[] = [];
  /** Scratch for the sorted copy of a buffer being spilled. */
  private sorted: RowBuffer | undefined;
  private buffered = 0;
  /** Rows staged per window, spilled or not. */
  readonly counts = new Map<number, number>();

  constructor(
    readonly dir: string,
    private readonly flushRows: number,
    /** The run's sensor ids by index so far (spills are ordered by them); none: by index. */
    private readonly names?: () => string[],
  ) {}

  fileOf(window: number): string {
    return path.join(this.dir, `w${window}.stg`);
  }

  buffer(window: number): RowBuffer {
    let b = this.buffers.get(window);
    if (!b) {
      b = this.spare.pop() ?? new RowBuffer(64);
      this.buffers.set(window, b);
    }
    return b;
  }

  /** Whether `rows` more rows would take the buffers past the row budget. */
  wouldExceed(rows: number): boolean {
    return this.buffered > 0 && this.buffered + rows > this.flushRows;
  }

  /** Records that `rows` rows were put into `buffer(window)`; returns true when it is time to flush. */
  added(window: number, rows = 1): boolean {
    this.counts.set(window, (this.counts.get(window) ?? 0) + rows);
    this.buffered += rows;
    return this.buffered >= this.flushRows;
  }

  /** Writes every buffered row to its window's file and frees the buffers. */
  async flush(): Promise<void> {
    let rankOf: Int32Array | null = null;
    for (const [w, b] of [...this.buffers].sort((a, z) => a[0] - z[0])) {
      if (b.n === 0) continue;
      rankOf ??= this.ranks();
      this.sorted = b.sortedByRank(rankOf, this.sorted);
      await appendSegment(this.fileOf(w), this.sorted);
    }
    // The two largest emptied buffers are kept for the next windows: input read in time order fills one window at a
    // time, and a flush falls inside a window as often as not, so the rows of one flush span about two windows;
    // growing fresh buffers to a million rows after every flush would allocate them several times over.
    this.spare = [...this.buffers.values(), ...this.spare].sort((x, y) => y.capacity - x.capacity).slice(0, SPARE_BUFFERS);
    for (const b of this.spare) b.clear();
    this.buffers.clear();
    this.buffered = 0;
  }

  /** Each sensor index's rank in UTF-8 order of the ids (by index when no names were given). */
  private ranks(): Int32Array {
    if (this.names) return rankNames(this.names()).rank;
    let max = 0;
    for (const b of this.buffers.values()) for (let i = 0; i < b.n; i++) max = Math.max(max, b.sid[i]);
    return Int32Array.from({ length: max + 1 }, (_, i) => i);
  }

  /** Frees the buffers kept for reuse (once every row is spilled). */
  release(): void {
    this.spare = [];
    this.sorted = undefined;
  }

  /** Windows that hold rows, in increasing order. */
  windows(): number[] {
    return [...this.counts.keys()].sort((a, b) => a - b);
  }
}
