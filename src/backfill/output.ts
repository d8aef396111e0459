// Builds the Arrow table a window commit writes to `readings`: incoming and carried-over rows merged in
// (sensor_id, ts) order (the order data files are sorted in, so the writer's sort finds them in order already).

import * as arrow from 'apache-arrow';
import type { KeyedRows } from './dedup.js';
import type { PartitionScheme } from './lake.js';
import { monthText, US_PER_DAY } from './plan.js';

const TWO_32 = 4294967296;

export interface OutputPart {
  rows: KeyedRows;
  /** Row indices in key order. */
  idx: Uint32Array;
  /** Source-name id of each row. */
  src: Int32Array;
}

/** A dictionary-encoded string column; key -1 is null. */
function dictColumn(keys: Int32Array, words: string[]): arrow.Data {
  const dictionary = arrow.vectorFromArray(words, new arrow.Utf8());
  const type = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
  let nulls = 0;
  for (let i = 0; i < keys.length; i++) if (keys[i] < 0) nulls++;
  if (nulls === 0) return arrow.makeData({ type, length: keys.length, nullCount: 0, data: keys, dictionary });
  const bits = new Uint8Array((keys.length + 7) >> 3);
  for (let i = 0; i < keys.length; i++) {
    if (keys[i] >= 0) bits[i >> 3] |= 1 << (i & 7);
    else keys[i] = 0;
  }
  return arrow.makeData({ type, length: keys.length, nullCount: nulls, nullBitmap: bits, data: keys, dictionary });
}

/**
 * The readings to write as tables of at most `pieceRows` rows, built one at a time as they are asked for (so that
 * only one piece's columns exist at once). `rankNames[r]` is the sensor id of rank r; `sources[k]` the source name
 * of id k.
 */
export function* readingPieces(parts: OutputPart[], rankNames: string[], sources: string[], partition: PartitionScheme, pieceRows: number): Generator<arrow.Table> {
  const total = parts.reduce((s, p) => s + p.idx.length, 0);
  const pos = parts.map(() => 0);
  for (let done = 0; done < total; ) {
    const m = Math.min(pieceRows, total - done);
    yield buildPiece(parts, pos, m, rankNames, sources, partition);
    done += m;
  }
}

const EMPTY_INT = new Int32Array(0);
const EMPTY_FLOAT = new Float64Array(0);
const EMPTY_BYTES = new Uint8Array(0);

/** Whether idx[base, base + m) is base0, base0 + 1, ...: rows already in place, taken as views, not gathered. */
function contiguous(idx: Uint32Array, base: number, m: number): boolean {
  const first = idx[base];
  if (m === 0 || idx[base + m - 1] !== first + m - 1) return false;
  for (let o = 1; o < m; o++) if (idx[base + o] !== first + o) return false;
  return true;
}

/** The next `m` rows of the parts (advancing `pos`), merged in key order, as one table. */
function buildPiece(parts: OutputPart[], pos: number[], m: number, rankNames: string[], sources: string[], partition: PartitionScheme): arrow.Table {
  const tsW = new Int32Array(2 * m);
  const single = parts.length === 1 && partition !== 'month';
  // Taken as views of the rows where they are in place (see below): not allocated for nothing then.
  const inPlace = single && contiguous(parts[0].idx, pos[0], m);
  let sensor: Int32Array = inPlace ? EMPTY_INT : new Int32Array(m);
  let value: Float64Array = inPlace ? EMPTY_FLOAT : new Float64Array(m);
  let validBits = inPlace ? EMPTY_BYTES : new Uint8Array((m + 7) >> 3);
  let nulls = 0;
  let text: (string | null)[] | null = null;
  const qW = new Int32Array(2 * m);
  let src: Int32Array = inPlace ? EMPTY_INT : new Int32Array(m);
  const date = new Int32Array(m);
  const monthKeys = partition === 'month' ? new Int32Array(m) : null;
  const months = new Map<string, number>();
  let lastDay = Number.NaN;
  let lastMonth = 0;
  if (single) {
    // One part (every first load, and merges that keep existing rows): column by column, each a straight gather, or
    // a view where the rows are in place already (a window without duplicates).
    const { rows: r, idx } = parts[0];
    const { ts, rank, valid, quality } = r;
    const srcOf = parts[0].src;
    const val = r.value;
    const base = pos[0];
    // The day of the row before, as [dayStart, dayEnd) in µs: rows in key order change days rarely.
    let dayStart = Infinity;
    let dayEnd = -Infinity;
    let day = 0;
    for (let o = 0; o < m; o++) {
      const t = ts[idx[base + o]];
      const hi = Math.floor(t / TWO_32);
      tsW[2 * o] = (t - hi * TWO_32) | 0;
      tsW[2 * o + 1] = hi;
      if (t < dayStart || t >= dayEnd) {
        day = Math.floor(t / US_PER_DAY);
        dayStart = day * US_PER_DAY;
        dayEnd = dayStart + US_PER_DAY;
      }
      date[o] = day;
    }
    for (let o = 0; o < m; o++) qW[2 * o] = quality[idx[base + o]] | 0;
    let allValid = true;
    if (inPlace) {
      const from = idx[base];
      sensor = rank.subarray(from, from + m);
      src = srcOf.subarray(from, from + m);
      for (let i = from; i < from + m; i++) {
        if (!valid[i]) {
          allValid = false;
          break;
        }
      }
      if (allValid) value = val.subarray(from, from + m);
      else {
        value = new Float64Array(m);
        validBits = new Uint8Array((m + 7) >> 3);
      }
    } else {
      for (let o = 0; o < m; o++) sensor[o] = rank[idx[base + o]];
      for (let o = 0; o < m; o++) src[o] = srcOf[idx[base + o]];
      allValid = false;
    }
    if (!allValid) {
      for (let o = 0; o < m; o++) {
        const i = idx[base + o];
        if (valid[i]) {
          value[o] = val[i];
          validBits[o >> 3] |= 1 << (o & 7);
        } else nulls++;
      }
    }
    if (r.text) {
      for (let o = 0; o < m; o++) {
        const tx = r.text[idx[base + o]];
        if (tx !== null) {
          text ??= new Array<string | null>(m).fill(null);
          text[o] = tx;
        }
      }
    }
    pos[0] += m;
  }
  for (let o = single ? m : 0; o < m; o++) {
    // The part whose next row has the smallest key (parts are few: incoming and carried-over).
    let best = 0;
    for (let p = 1; p < parts.length; p++) {
      if (pos[p] >= parts[p].idx.length) continue;
      if (pos[best] >= parts[best].idx.length) {
        best = p;
        continue;
      }
      const a = parts[p].rows;
      const i = parts[p].idx[pos[p]];
      const b = parts[best].rows;
      const j = parts[best].idx[pos[best]];
      if (a.rank[i] < b.rank[j] || (a.rank[i] === b.rank[j] && a.ts[i] < b.ts[j])) best = p;
    }
    const part = parts[best];
    const i = part.idx[pos[best]++];
    const r = part.rows;
    const t = r.ts[i];
    const hi = Math.floor(t / TWO_32);
    tsW[2 * o] = t - hi * TWO_32;
    tsW[2 * o + 1] = hi;
    sensor[o] = r.rank[i];
    if (r.valid[i]) {
      value[o] = r.value[i];
      validBits[o >> 3] |= 1 << (o & 7);
    } else nulls++;
    const tx = r.text ? r.text[i] : null;
    if (tx !== null) {
      text ??= new Array<string | null>(m).fill(null);
      text[o] = tx;
    }
    qW[2 * o] = r.quality[i] | 0;
    src[o] = part.src[i];
    const day = Math.floor(t / US_PER_DAY);
    date[o] = day;
    if (monthKeys) {
      if (day !== lastDay) {
        lastDay = day;
        const mt = monthText(t);
        lastMonth = months.get(mt) ?? months.size;
        months.set(mt, lastMonth);
      }
      monthKeys[o] = lastMonth;
    }
  }
  const columns: Record<string, arrow.Vector> = {
    ts: arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: m, nullCount: 0, data: new BigInt64Array(tsW.buffer) })),
    sensor_id: arrow.makeVector(dictColumn(sensor, rankNames)),
    value: arrow.makeVector(arrow.makeData({ type: new arrow.Float64(), length: m, nullCount: nulls, ...(nulls ? { nullBitmap: validBits } : {}), data: value })),
    value_text: text
      ? arrow.vectorFromArray(text, new arrow.Utf8())
      : arrow.makeVector(arrow.makeData({ type: new arrow.Utf8(), length: m, nullCount: m, nullBitmap: new Uint8Array((m + 7) >> 3), valueOffsets: new Int32Array(m + 1), data: new Uint8Array(0) })),
    quality: arrow.makeVector(arrow.makeData({ type: new arrow.Int64(), length: m, nullCount: 0, data: new BigInt64Array(qW.buffer) })),
    source: arrow.makeVector(dictColumn(src, sources)),
    date: arrow.makeVector(arrow.makeData({ type: new arrow.DateDay(), length: m, nullCount: 0, data: date })),
  };
  if (monthKeys) columns.month = arrow.makeVector(dictColumn(monthKeys, [...months.keys()]));
  return new arrow.Table(columns);
}
