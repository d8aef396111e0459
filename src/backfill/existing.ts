// The readings a window already has in the table, read by the engine's scan (only the columns needed are decoded,
// sensor ids kept dictionary-encoded) into the same columnar shape as incoming rows, so dedup can merge-join them
// and a rewrite can carry them over.

import * as arrow from 'apache-arrow';
import type { DeltaTable } from '../delta/table.js';
import type { KeyedRows } from './dedup.js';
import { RowBuffer } from './rows.js';

const TWO_32 = 4294967296;

/** Existing rows; `name` and `src` index the window's name and source lists (ranks are filled in later). */
export interface ExistingRows extends KeyedRows {
  name: Int32Array;
  src: Int32Array;
}

/** A growing string list with an index, shared by incoming and existing rows of one window. */
export class Names {
  readonly list: string[] = [];
  readonly index = new Map<string, number>();
  constructor(initial: string[] = []) {
    for (const s of initial) this.id(s);
  }
  id(s: string): number {
    let k = this.index.get(s);
    if (k === undefined) {
      k = this.list.length;
      this.index.set(s, k);
      this.list.push(s);
    }
    return k;
  }
}

/** Reads a Utf8 column cell by cell, decoding only where the bytes differ from the row before (files are sorted). */
function utf8Reader(col: arrow.Data, intern: (s: string) => number): (i: number) => number {
  if (arrow.DataType.isDictionary(col.type)) {
    const dict = col.dictionary!;
    const ids = Array.from({ length: dict.length }, (_, k) => intern(String(dict.get(k))));
    const keys = col.values as unknown as Int32Array;
    if (col.nullCount === 0) return (i) => ids[keys[i]];
    return (i) => (col.getValid(i) ? ids[keys[i]] : -1);
  }
  const off = col.valueOffsets as Int32Array;
  const bytes = col.values as Uint8Array;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let prevStart = -1;
  let prevEnd = -1;
  let prevId = -1;
  return (i) => {
    if (!col.getValid(i)) return -1;
    const s = off[i];
    const e = off[i + 1];
    if (prevStart >= 0 && e - s === prevEnd - prevStart && buf.compare(buf, prevStart, prevEnd, s, e) === 0) return prevId;
    prevStart = s;
    prevEnd = e;
    prevId = intern(buf.toString('utf8', s, e));
    return prevId;
  };
}

export interface ExistingScan {
  /** Rows to read: the engine prunes files by it and filters rows exactly by it. */
  where: string;
  /** Rows expected (to size the buffer: a rerun finds about as many rows as it brings). */
  rows?: number;
  /** Read value_text and source too (needed when rows are rewritten). */
  full: boolean;
}

/** Feeds `take` the scan's batches of `columns`, string columns as the files' dictionaries. */
async function eachBatch(table: DeltaTable, where: string, columns: string[], take: (b: arrow.RecordBatch) => void): Promise<void> {
  for await (const b of table.scan({ where, columns, keepDictionaries: true })) take(b);
}

/**
 * Name ids (of `known` sensors, -1 for others) of a batch's rows: the rows to keep. Dictionary-encoded ids (what the
 * scan gives) cost one lookup per dictionary word.
 */
function keptIds(b: arrow.RecordBatch, known: (s: string) => number): Int32Array {
  const n = b.numRows;
  const ids = new Int32Array(n);
  const col = b.getChild('sensor_id')!.data[0];
  if (arrow.DataType.isDictionary(col.type) && col.nullCount === 0) {
    const dict = col.dictionary!;
    const map = Int32Array.from({ length: dict.length }, (_, k) => known(String(dict.get(k))));
    const keys = col.values as unknown as Int32Array;
    for (let i = 0; i < n; i++) ids[i] = map[keys[i]];
  } else {
    const name = utf8Reader(col, known);
    for (let i = 0; i < n; i++) ids[i] = name(i);
  }
  return ids;
}

/**
 * The rows of the sensors in `names` (only those: their name ids are what `name` holds). The sensors are not put in
 * the scan's predicate: the table filters rows one value at a time, while here a file's ids are mapped through its
 * dictionary (or compared as bytes, a run at a time).
 */
export async function readExisting(table: DeltaTable, scan: ExistingScan, names: Names, sources: Names): Promise<ExistingRows> {
  const columns = ['ts', 'sensor_id', 'value', 'value_text', 'quality', ...(scan.full ? ['source'] : [])];
  const buf = new RowBuffer(Math.max(1024, scan.rows ?? 0));
  const known = (s: string): number => names.index.get(s) ?? -1;
  const take = (b: arrow.RecordBatch): void => {
    const n = b.numRows;
    const all = keptIds(b, known);
    // The rows to keep (of known sensors), in order, and their name ids.
    const keep = new Int32Array(n);
    const ids = new Int32Array(n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      const id = all[i];
      if (id < 0) continue;
      ids[m] = id;
      keep[m++] = i;
    }
    if (m === 0) return;
    buf.reserve(m);
    const at = buf.n;
    const tv = b.getChild('ts')!.data[0].values as unknown as BigInt64Array;
    const tw = new Int32Array(tv.buffer, tv.byteOffset, n * 2);
    const value = b.getChild('value')!.data[0];
    const vv = value.values as unknown as Float64Array;
    const textVec = b.getChild('value_text')!;
    const hasText = textVec.nullCount < n;
    const qv = b.getChild('quality')!.data[0].values as unknown as BigInt64Array;
    const qw = new Int32Array(qv.buffer, qv.byteOffset, n * 2);
    const src = scan.full ? utf8Reader(b.getChild('source')!.data[0], (s) => sources.id(s)) : null;
    // Column by column into the buffer's arrays.
    buf.sid.set(ids.subarray(0, m), at);
    if (m === n) {
      for (let i = 0; i < n; i++) buf.ts[at + i] = tw[2 * i + 1] * TWO_32 + (tw[2 * i] >>> 0);
      buf.value.set(vv.subarray(0, n), at);
      for (let i = 0; i < n; i++) buf.quality[at + i] = qw[2 * i] >>> 0;
    } else {
      for (let k = 0; k < m; k++) {
        const i = keep[k];
        buf.ts[at + k] = tw[2 * i + 1] * TWO_32 + (tw[2 * i] >>> 0);
      }
      for (let k = 0; k < m; k++) buf.value[at + k] = vv[keep[k]];
      // quality is a 32-bit StatusCode held in a long: the low word is all of it.
      for (let k = 0; k < m; k++) buf.quality[at + k] = qw[2 * keep[k]] >>> 0;
    }
    if (value.nullCount === 0) buf.valid.fill(1, at, at + m);
    else for (let k = 0; k < m; k++) buf.valid[at + k] = value.getValid(keep[k]) ? 1 : 0;
    if (src) for (let k = 0; k < m; k++) buf.file[at + k] = src(keep[k]);
    else buf.file.fill(-1, at, at + m);
    if (hasText || buf.text) {
      const text = (buf.text ??= new Array<string | null>(at).fill(null));
      for (let k = 0; k < m; k++) text[at + k] = hasText ? ((textVec.get(keep[k]) as string | null) ?? null) : null;
    }
    buf.n = at + m;
  };
  await eachBatch(table, scan.where, columns, take);
  const n = buf.n;
  return {
    n,
    rank: new Int32Array(n),
    ts: buf.ts.subarray(0, n),
    value: buf.value.subarray(0, n),
    valid: buf.valid.subarray(0, n),
    text: buf.text,
    quality: buf.quality.subarray(0, n),
    name: buf.sid.subarray(0, n),
    src: buf.file.subarray(0, n),
  };
}

/** How many table rows of the sensors in `names` the scan finds (replace mode needs no more of them). */
export async function countExisting(table: DeltaTable, scan: Pick<ExistingScan, 'where'>, names: Names): Promise<number> {
  let n = 0;
  const known = (s: string): number => names.index.get(s) ?? -1;
  const take = (b: arrow.RecordBatch): void => {
    const ids = keptIds(b, known);
    for (let i = 0; i < ids.length; i++) if (ids[i] >= 0) n++;
  };
  await eachBatch(table, scan.where, ['ts', 'sensor_id'], take);
  return n;
}
