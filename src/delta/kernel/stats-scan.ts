// Min, max and null count of a top-level leaf column in one pass over its typed arrays: the fast path of
// computeStats (stats.ts) for the common physical layouts. Results equal the generic cell-by-cell reader's exactly;
// any layout not handled here returns null and the generic reader runs instead.

import * as arrow from 'apache-arrow';

export interface LeafBounds {
  /** undefined when no row has a value that bounds (all null, or all NaN). */
  min: unknown;
  max: unknown;
  nulls: number;
}

/** The kinds of stats value computeStats asks for (see kindOf there). */
export type BoundsKind = 'int' | 'long' | 'float' | 'date' | 'timestamp' | 'timestamp_ntz' | 'string' | 'none';

type AnyData = arrow.Data<arrow.DataType>;

// Arrow JS slices cut value buffers and value offsets to the slice but keep the validity bitmap whole: bit
// `offset + i` is row i. Strings' UTF-8 bytes are left whole; value offsets index into them.
function validity(d: AnyData): Uint8Array | null {
  return d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0 ? d.nullBitmap : null;
}

function isSignedInt(t: arrow.DataType, maxBits: number): boolean {
  return arrow.DataType.isInt(t) && t.isSigned && t.bitWidth <= maxBits;
}

function isTimestampMicros(t: arrow.DataType): boolean {
  return arrow.DataType.isTimestamp(t) && t.unit === arrow.TimeUnit.MICROSECOND;
}

export type BoundsLayout = 'number' | 'int64' | 'utf8' | 'dict-utf8' | 'nulls';

/**
 * Which loop reads `t` for `kind`, or null when only the generic reader can. The layout also fixes the form of the
 * bounds: JS numbers ('number'), bigints ('int64') or strings ('utf8', 'dict-utf8').
 */
export function layoutOf(t: arrow.DataType, kind: BoundsKind): BoundsLayout | null {
  switch (kind) {
    case 'none':
      return 'nulls';
    case 'int':
      return isSignedInt(t, 32) ? 'number' : null;
    case 'long':
      return isSignedInt(t, 32) ? 'number' : isSignedInt(t, 64) ? 'int64' : null;
    case 'float':
      return arrow.DataType.isFloat(t) && t.precision !== arrow.Precision.HALF ? 'number' : null;
    case 'date':
      return arrow.DataType.isDate(t) && t.unit === arrow.DateUnit.DAY ? 'number' : null;
    case 'timestamp':
    case 'timestamp_ntz':
      return isTimestampMicros(t) ? 'int64' : null;
    case 'string':
      if (arrow.DataType.isUtf8(t)) return 'utf8';
      if (arrow.DataType.isDictionary(t) && arrow.DataType.isUtf8(t.dictionary) && t.indices.bitWidth <= 32) return 'dict-utf8';
      return null;
  }
  return null;
}

/** Bounds of `chunks` (one column's Data chunks, no struct parents), or null if their layout is not handled. */
export function scanLeafTyped(chunks: readonly AnyData[], kind: BoundsKind): LeafBounds | null {
  if (chunks.length === 0) return { min: undefined, max: undefined, nulls: 0 };
  const layout = layoutOf(chunks[0].type, kind);
  if (layout === null || chunks.some((c) => layoutOf(c.type, kind) !== layout)) return null;
  switch (layout) {
    case 'nulls':
      return { min: undefined, max: undefined, nulls: chunks.reduce((s, c) => s + c.nullCount, 0) };
    case 'number':
      return scanNumbers(chunks, kind === 'float');
    case 'int64':
      return scanInt64(chunks);
    case 'utf8':
      return scanUtf8(chunks);
    case 'dict-utf8':
      return scanDictUtf8(chunks);
  }
}

function scanNumbers(chunks: readonly AnyData[], skipNaN: boolean): LeafBounds {
  let min = 0;
  let max = 0;
  let seen = false;
  let nulls = 0;
  for (const d of chunks) {
    const values = d.values as unknown as ArrayLike<number>;
    const bits = validity(d);
    const n = d.length;
    nulls += bits ? d.nullCount : 0;
    let i = 0;
    // Seed min and max from the first value that counts, then a tight loop over the rest.
    if (!seen) {
      for (; i < n; i++) {
        const j = d.offset + i;
        if (bits && (bits[j >> 3] & (1 << (j & 7))) === 0) continue;
        const x = values[i];
        if (skipNaN && x !== x) continue;
        min = max = x;
        seen = true;
        i++;
        break;
      }
    }
    if (bits) {
      for (; i < n; i++) {
        const j = d.offset + i;
        if ((bits[j >> 3] & (1 << (j & 7))) === 0) continue;
        const x = values[i];
        if (x < min) min = x;
        else if (x > max) max = x; // NaN fails both tests, so it never becomes a bound
      }
    } else {
      for (; i < n; i++) {
        const x = values[i];
        if (x < min) min = x;
        else if (x > max) max = x;
      }
    }
  }
  return seen ? { min, max, nulls } : { min: undefined, max: undefined, nulls };
}

/** 64-bit integers compared as (signed high word, unsigned low word) pairs, so no BigInt is made per row. */
function scanInt64(chunks: readonly AnyData[]): LeafBounds {
  let minChunk = -1;
  let minRow = 0;
  let maxChunk = -1;
  let maxRow = 0;
  let minHi = 0;
  let minLo = 0;
  let maxHi = 0;
  let maxLo = 0;
  let nulls = 0;
  chunks.forEach((d, c) => {
    const v = d.values as unknown as BigInt64Array;
    const hi = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
    const lo = new Uint32Array(v.buffer, v.byteOffset, v.length * 2);
    const bits = validity(d);
    nulls += bits ? d.nullCount : 0;
    for (let i = 0; i < d.length; i++) {
      if (bits) {
        const j = d.offset + i;
        if ((bits[j >> 3] & (1 << (j & 7))) === 0) continue;
      }
      const h = hi[2 * i + 1];
      const l = lo[2 * i];
      if (minChunk < 0) {
        minHi = maxHi = h;
        minLo = maxLo = l;
        minChunk = maxChunk = c;
        minRow = maxRow = i;
        continue;
      }
      if (h < minHi || (h === minHi && l < minLo)) {
        minHi = h;
        minLo = l;
        minChunk = c;
        minRow = i;
      } else if (h > maxHi || (h === maxHi && l > maxLo)) {
        maxHi = h;
        maxLo = l;
        maxChunk = c;
        maxRow = i;
      }
    }
  });
  if (minChunk < 0) return { min: undefined, max: undefined, nulls };
  const at = (c: number, i: number): bigint => (chunks[c].values as unknown as BigInt64Array)[i];
  return { min: at(minChunk, minRow), max: at(maxChunk, maxRow), nulls };
}

// Strings compare as UTF-8 bytes, which orders them by code point, as compareUtf8 does on decoded text.
function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let k = 0; k < n; k++) {
    const x = a[as + k] - b[bs + k];
    if (x !== 0) return x;
  }
  return ae - as - (be - bs);
}

// Kept as in cellReader (partition-values.ts): a leading U+FEFF is part of the value, not a byte-order mark.
const UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });

interface ByteRange {
  bytes: Uint8Array;
  start: number;
  end: number;
}

function scanUtf8(chunks: readonly AnyData[]): LeafBounds {
  let min: ByteRange | null = null;
  let max: ByteRange | null = null;
  let nulls = 0;
  for (const d of chunks) {
    const offsets = d.valueOffsets as Int32Array;
    const bytes = d.values as Uint8Array;
    const bits = validity(d);
    nulls += bits ? d.nullCount : 0;
    let minB: Uint8Array = min?.bytes ?? bytes;
    let minS: number = min?.start ?? 0;
    let minE: number = min?.end ?? 0;
    let maxB: Uint8Array = max?.bytes ?? bytes;
    let maxS: number = max?.start ?? 0;
    let maxE: number = max?.end ?? 0;
    let seen = min !== null;
    let prevS = -1;
    let prevE = -1;
    for (let i = 0; i < d.length; i++) {
      if (bits) {
        const j = d.offset + i;
        if ((bits[j >> 3] & (1 << (j & 7))) === 0) continue;
      }
      const s = offsets[i];
      const e = offsets[i + 1];
      if (!seen) {
        minB = maxB = bytes;
        minS = maxS = s;
        minE = maxE = e;
        seen = true;
        continue;
      }
      if (s === prevS && e === prevE) continue; // the same bytes again (deduplicated values)
      prevS = s;
      prevE = e;
      if (compareBytes(bytes, s, e, minB, minS, minE) < 0) {
        minB = bytes;
        minS = s;
        minE = e;
      } else if (compareBytes(bytes, s, e, maxB, maxS, maxE) > 0) {
        maxB = bytes;
        maxS = s;
        maxE = e;
      }
    }
    if (seen) {
      min = { bytes: minB, start: minS, end: minE };
      max = { bytes: maxB, start: maxS, end: maxE };
    }
  }
  if (!min || !max) return { min: undefined, max: undefined, nulls };
  return { min: UTF8.decode(min.bytes.subarray(min.start, min.end)), max: UTF8.decode(max.bytes.subarray(max.start, max.end)), nulls };
}

/** Dictionary strings: mark the entries valid rows use, then bound those entries only. */
function scanDictUtf8(chunks: readonly AnyData[]): LeafBounds | null {
  let nulls = 0;
  const used = new Map<arrow.Vector, Uint8Array>();
  for (const d of chunks) {
    const dict = d.dictionary;
    // A valid index may point at a null entry, a null per row: the generic reader counts those.
    if (!dict || dict.nullCount > 0 || !dict.data.every((dd) => arrow.DataType.isUtf8(dd.type))) return null;
    let mark = used.get(dict);
    if (!mark) used.set(dict, (mark = new Uint8Array(dict.length)));
    const idx = d.values as unknown as ArrayLike<number>;
    const bits = validity(d);
    nulls += bits ? d.nullCount : 0;
    for (let i = 0; i < d.length; i++) {
      if (bits) {
        const j = d.offset + i;
        if ((bits[j >> 3] & (1 << (j & 7))) === 0) continue;
      }
      mark[idx[i]] = 1;
    }
  }
  let min: ByteRange | null = null;
  let max: ByteRange | null = null;
  for (const [dict, mark] of used) {
    let base = 0;
    for (const dd of dict.data as unknown as AnyData[]) {
      const offsets = dd.valueOffsets as Int32Array;
      const bytes = dd.values as Uint8Array;
      for (let k = 0; k < dd.length; k++) {
        if (mark[base + k] === 0) continue;
        const r = { bytes, start: offsets[k], end: offsets[k + 1] };
        if (!min || compareBytes(r.bytes, r.start, r.end, min.bytes, min.start, min.end) < 0) min = r;
        if (!max || compareBytes(r.bytes, r.start, r.end, max.bytes, max.start, max.end) > 0) max = r;
      }
      base += dd.length;
    }
  }
  if (!min || !max) return { min: undefined, max: undefined, nulls };
  return { min: UTF8.decode(min.bytes.subarray(min.start, min.end)), max: UTF8.decode(max.bytes.subarray(max.start, max.end)), nulls };
}
