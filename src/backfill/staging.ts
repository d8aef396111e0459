// Pass 1's spill to disk: rows buffered per window in memory and appended to one file per window as segments (see
// rows.ts) whenever the buffers hold more than a row budget, so memory stays bounded whatever the input.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { decodeSegment, RowBuffer, SEGMENT_HEADER_BYTES, segmentHeader, SID_OFFSET_PER_ROW, type StagedBatch } from './rows.js';

/** Appends the buffer's rows to a staging file as one segment (written from the arrays, without a copy). */
export async function appendSegment(file: string, rows: RowBuffer): Promise<void> {
  const fh = await fs.open(file, 'a');
  try {
    await fh.writev(rows.segment());
  } finally {
    await fh.close();
  }
}

/**
 * The batches of a staging file, segment after segment, one segment in memory at a time: a batch's arrays are views
 * of a buffer reused for the next segment, so they are valid until the next batch is asked for.
 */
export async function* readSegments(file: string): AsyncGenerator<StagedBatch> {
  let buffer = new ArrayBuffer(0);
  for await (const { head, pos, bodyBytes, fh } of segments(file)) {
    if (buffer.byteLength < bodyBytes) buffer = new ArrayBuffer(bodyBytes);
    const body = new Uint8Array(buffer, 0, bodyBytes);
    await readFully(fh, body, pos + head.length, file);
    yield decodeSegment(head, body);
  }
}

/** Only the sensor column of each segment of a staging file (to count rows per sensor without reading the rest). */
export async function* readSids(file: string): AsyncGenerator<Int32Array> {
  let buffer = new ArrayBuffer(0);
  for await (const { head, pos, n, fh } of segments(file)) {
    if (buffer.byteLength < n * 4) buffer = new ArrayBuffer(n * 4);
    const sids = new Int32Array(buffer, 0, n);
    await readFully(fh, new Uint8Array(buffer, 0, n * 4), pos + head.length + SID_OFFSET_PER_ROW * n, file);
    yield sids;
  }
}

async function readFully(fh: fs.FileHandle, into: Uint8Array, at: number, file: string): Promise<void> {
  let got = 0;
  while (got < into.length) {
    const r = await fh.read(into, got, into.length - got, at + got);
    if (r.bytesRead === 0) throw new Error(`staging file ${file} is truncated at byte ${at + got}`);
    got += r.bytesRead;
  }
}

/** The segment headers of a staging file with where each starts; an absent file has none. */
async function* segments(file: string): AsyncGenerator<{ head: Uint8Array; pos: number; n: number; bodyBytes: number; fh: fs.FileHandle }> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    const head = new Uint8Array(SEGMENT_HEADER_BYTES);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await fh.read(head, 0, head.length, pos);
      if (bytesRead === 0) return;
      const h = bytesRead === head.length ? segmentHeader(head) : null;
      if (!h) throw new Error(`staging file ${file} has no segment header at byte ${pos}`);
      yield { head, pos, n: h.n, bodyBytes: h.bodyBytes, fh };
      pos += head.length + h.bodyBytes;
    }
  } finally {
    await fh.close();
  }
}

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
  ) {}

  fileOf(window: number): string {
    return path.join(this.dir, `w${window}.arrow`);
  }

  buffer(window: number): RowBuffer {
    let b = this.buffers.get(window);
    if (!b) {
      b = this.spare.pop() ?? new RowBuffer(64);
      this.buffers.set(window, b);
    }
    return b;
  }

  /** Records that `rows` rows were put into `buffer(window)`; returns true when it is time to flush. */
  added(window: number, rows = 1): boolean {
    this.counts.set(window, (this.counts.get(window) ?? 0) + rows);
    this.buffered += rows;
    return this.buffered >= this.flushRows;
  }

  /** Writes every buffered row to its window's file and frees the buffers. */
  async flush(): Promise<void> {
    for (const [w, b] of [...this.buffers].sort((a, z) => a[0] - z[0])) {
      if (b.n === 0) continue;
      this.sorted = b.sortedBySid(this.sorted);
      await appendSegment(this.fileOf(w), this.sorted);
    }
    // A couple of emptied buffers are kept for the next windows: input read in time order fills one window at a
    // time, and growing a fresh buffer to a million rows after every flush would allocate it several times over.
    for (const b of this.buffers.values()) {
      if (this.spare.length >= 2) break;
      b.clear();
      this.spare.push(b);
    }
    this.buffers.clear();
    this.buffered = 0;
  }

  /** Windows that hold rows, in increasing order. */
  windows(): number[] {
    return [...this.counts.keys()].sort((a, b) => a - b);
  }
}
