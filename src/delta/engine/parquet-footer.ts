// Column statistics read back from the footer of a Parquet file we just encoded. arrow-rs computes min, max and null
// count of every column chunk as it encodes, so a writer's add.stats can take them from there instead of a second pass
// over the rows on the main thread (0.6 s of CPU per 10 M sensor rows). Only bounds provably equal to what
// computeStats's own scan gives are returned; for anything else the caller scans the rows as before.

import type * as arrow from 'apache-arrow';
import { Compact, footerStart } from './thrift-compact.js';
import { layoutOf, type BoundsKind, type LeafBounds } from '../kernel/stats-scan.js';

// Parquet physical types (parquet.thrift `Type`).
const INT32 = 1;
const INT64 = 2;
const FLOAT = 4;
const DOUBLE = 5;
const BYTE_ARRAY = 6;

// Thrift compact type ids of the fields read here.
const T_TRUE = 1;
const T_FALSE = 2;
const T_I32 = 5;
const T_I64 = 6;
const T_BINARY = 8;
const T_LIST = 9;
const T_STRUCT = 12;

/** One column chunk's statistics as the footer holds them: raw PLAIN-encoded bounds, exact unless flagged. */
export interface ChunkStats {
  physicalType: number;
  rows: number;
  nulls: number | null;
  min: Uint8Array | null;
  max: Uint8Array | null;
  /** False when the writer flagged the bound as inexact (e.g. a truncated string); arrow-rs flags absent ones too. */
  minExact: boolean;
  maxExact: boolean;
}

/** Statistics of every top-level leaf column (path of length 1), one entry per row group, in row group order. */
export type FooterStats = Map<string, ChunkStats[]>;

const UTF8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function readStatistics(r: Compact, out: ChunkStats): void {
  for (let f = r.field(0); f; f = r.field(f.id)) {
    if (f.id === 3 && f.type === T_I64) out.nulls = r.i32();
    else if (f.id === 5 && f.type === T_BINARY) out.max = r.binary();
    else if (f.id === 6 && f.type === T_BINARY) out.min = r.binary();
    else if (f.id === 7 && (f.type === T_TRUE || f.type === T_FALSE)) out.maxExact = f.type === T_TRUE;
    else if (f.id === 8 && (f.type === T_TRUE || f.type === T_FALSE)) out.minExact = f.type === T_TRUE;
    else r.skip(f.type, true);
  }
}

/** ColumnMetaData: physical type, path, value count and statistics; the path as its parts. */
function readColumnMeta(r: Compact, rows: number): { path: string[]; stats: ChunkStats } {
  const stats: ChunkStats = { physicalType: -1, rows, nulls: null, min: null, max: null, minExact: true, maxExact: true };
  const path: string[] = [];
  for (let f = r.field(0); f; f = r.field(f.id)) {
    if (f.id === 1 && f.type === T_I32) stats.physicalType = r.i32();
    else if (f.id === 3 && f.type === T_LIST) {
      const l = r.list();
      for (let i = 0; i < l.size; i++) path.push(UTF8.decode(r.binary()));
    } else if (f.id === 12 && f.type === T_STRUCT) readStatistics(r, stats);
    else r.skip(f.type, true);
  }
  return { path, stats };
}

function readRowGroup(r: Compact, out: FooterStats): void {
  // Thrift writes fields in id order, but num_rows (3) comes after columns (1): collect, then stamp the count.
  const chunks: { path: string[]; stats: ChunkStats }[] = [];
  let rows = -1;
  for (let f = r.field(0); f; f = r.field(f.id)) {
    if (f.id === 1 && f.type === T_LIST) {
      const l = r.list();
      for (let i = 0; i < l.size; i++) {
        let meta: { path: string[]; stats: ChunkStats } | null = null;
        for (let g = r.field(0); g; g = r.field(g.id)) {
          if (g.id === 3 && g.type === T_STRUCT) meta = readColumnMeta(r, -1);
          else r.skip(g.type, true);
        }
        if (meta) chunks.push(meta);
      }
    } else if (f.id === 3 && f.type === T_I64) rows = r.i32();
    else r.skip(f.type, true);
  }
  for (const { path, stats } of chunks) {
    if (path.length !== 1) continue;
    stats.rows = rows;
    const list = out.get(path[0]);
    if (list) list.push(stats);
    else out.set(path[0], [stats]);
  }
}

/** The footer's statistics of top-level columns; null when the bytes do not end in a Parquet footer. */
export function readFooterStats(bytes: Uint8Array): FooterStats | null {
  const start = footerStart(bytes);
  if (start === null) return null;
  const r = new Compact(bytes, start);
  const out: FooterStats = new Map();
  for (let f = r.field(0); f; f = r.field(f.id)) {
    if (f.id === 4 && f.type === T_LIST) {
      const l = r.list();
      for (let i = 0; i < l.size; i++) readRowGroup(r, out);
    } else r.skip(f.type, true);
  }
  return out;
}

// ---- bounds in computeStats's form --------------------------------------------------------------------------

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return a[k] - b[k];
  return a.length - b.length;
}

/** A PLAIN-encoded bound as the value the typed scan would give for `layout`; undefined when it cannot be read. */
function decode(b: Uint8Array, physical: number, layout: 'number' | 'int64'): number | bigint | undefined {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (layout === 'int64') return physical === INT64 && b.length === 8 ? view.getBigInt64(0, true) : undefined;
  if (physical === INT32 && b.length === 4) return view.getInt32(0, true);
  if (physical === FLOAT && b.length === 4) return view.getFloat32(0, true);
  if (physical === DOUBLE && b.length === 8) return view.getFloat64(0, true);
  return undefined;
}

/**
 * Bounds of top-level column `name` from the footer, in the form computeStats's typed scan gives for `kind` over the
 * column's Arrow `chunks`, or null when the footer cannot vouch for them: a layout the typed scan does not handle,
 * a physical type other than the one that layout implies, missing null counts or bounds, a bound flagged inexact
 * (arrow-rs truncates long strings), a NaN bound, or dictionary strings whose dictionary holds nulls.
 */
export function footerBounds(footer: FooterStats, name: string, kind: BoundsKind, chunks: readonly arrow.Data[]): LeafBounds | null {
  const stats = footer.get(name);
  if (!stats || stats.length === 0 || chunks.length === 0) return null;
  const layout = layoutOf(chunks[0].type, kind);
  if (layout === null || layout === 'nulls' || chunks.some((c) => layoutOf(c.type, kind) !== layout)) return null;
  if (layout === 'dict-utf8' && chunks.some((c) => !c.dictionary || c.dictionary.nullCount > 0)) return null;
  let nulls = 0;
  for (const s of stats) {
    if (s.nulls === null || (s.min === null) !== (s.max === null) || (s.min !== null && !(s.minExact && s.maxExact))) return null;
    // A chunk holding values has bounds, except floats that are all NaN (left out of min/max by both).
    if (s.min === null && s.nulls < s.rows && s.physicalType !== FLOAT && s.physicalType !== DOUBLE) return null;
    nulls += s.nulls;
  }
  if (layout === 'utf8' || layout === 'dict-utf8') {
    let min: Uint8Array | null = null;
    let max: Uint8Array | null = null;
    for (const s of stats) {
      if (s.physicalType !== BYTE_ARRAY) return null;
      if (s.min === null || s.max === null) continue;
      if (min === null || compareBytes(s.min, min) < 0) min = s.min;
      if (max === null || compareBytes(s.max, max) > 0) max = s.max;
    }
    return min && max ? { min: UTF8.decode(min), max: UTF8.decode(max), nulls } : { min: undefined, max: undefined, nulls };
  }
  let min: number | bigint | undefined;
  let max: number | bigint | undefined;
  for (const s of stats) {
    if (s.min === null || s.max === null) continue;
    const lo = decode(s.min, s.physicalType, layout);
    const hi = decode(s.max, s.physicalType, layout);
    if (lo === undefined || hi === undefined || lo !== lo || hi !== hi) return null; // unreadable or NaN
    if (min === undefined || lo < min) min = lo;
    if (max === undefined || hi > max) max = hi;
  }
  return { min, max, nulls };
}
