// Pass 1's spill to disk: rows buffered per window in memory and appended to one file per window as length-prefixed
// Arrow IPC streams whenever the buffers hold more than a row budget, so memory stays bounded whatever the input.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { decodeStaged, RowBuffer, type StagedBatch } from './rows.js';

/** Appends one segment (a complete IPC stream) to a staging file. */
export async function appendSegment(file: string, ipc: Uint8Array): Promise<void> {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(ipc.byteLength, 0);
  const fh = await fs.open(file, 'a');
  try {
    await fh.writev([head, ipc]);
  } finally {
    await fh.close();
  }
}

/** The batches of a staging file, segment after segment, one segment in memory at a time. */
export async function* readSegments(file: string): AsyncGenerator<StagedBatch> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    const head = Buffer.alloc(4);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await fh.read(head, 0, 4, pos);
      if (bytesRead === 0) return;
      const len = head.readUInt32LE(0);
      const body = new Uint8Array(len);
      let got = 0;
      while (got < len) {
        const r = await fh.read(body, got, len - got, pos + 4 + got);
        if (r.bytesRead === 0) throw new Error(`staging file ${file} is truncated at byte ${pos + 4 + got}`);
        got += r.bytesRead;
      }
      pos += 4 + len;
      yield* decodeStaged(body);
    }
  } finally {
    await fh.close();
  }
}

/** Per-window row buffers and their files under the job's staging directory. */
export class WindowSpill {
  private buffers = new Map<number, RowBuffer>();
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
      b = new RowBuffer(64);
      this.buffers.set(window, b);
    }
    return b;
  }

  /** Records that one row was pushed into `buffer(window)`; returns true when it is time to flush. */
  added(window: number): boolean {
    this.counts.set(window, (this.counts.get(window) ?? 0) + 1);
    return ++this.buffered >= this.flushRows;
  }

  /** Writes every buffered row to its window's file and frees the buffers. */
  async flush(): Promise<void> {
    for (const [w, b] of [...this.buffers].sort((a, z) => a[0] - z[0])) {
      if (b.n > 0) await appendSegment(this.fileOf(w), b.toIPC());
    }
    this.buffers.clear();
    this.buffered = 0;
  }

  /** Windows that hold rows, in increasing order. */
  windows(): number[] {
    return [...this.counts.keys()].sort((a, b) => a - b);
  }
}
