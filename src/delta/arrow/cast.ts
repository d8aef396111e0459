// Brings a column read from some writer's Parquet file to the exact Arrow type our scans promise for its Delta
// type: dictionary strings decoded (by byte copy, no JS strings), timestamp zone labels fixed. Anything else that
// differs is a file that does not match its table, and is an error rather than wrong rows.

import * as arrow from 'apache-arrow';
import { CorruptLogError } from '../../errors.js';
import { identity, takeVector } from './columns.js';

function decodeDictionaryUtf8(v: arrow.Vector): arrow.Vector<arrow.Utf8> {
  const chunks: arrow.Data<arrow.Utf8>[] = [];
  for (const d of v.data) {
    const dict = d.dictionary!;
    const flatDict = dict.data.length === 1 ? dict : takeVector(dict, identity(dict.length));
    const dd = flatDict.data[0];
    const dvo = dd.valueOffsets as Int32Array;
    const dbytes = dd.values as Uint8Array;
    const keys = d.values as unknown as ArrayLike<number>;
    const n = d.length;
    const offsets = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (d.getValid(i)) {
        const k = keys[i];
        total += dvo[k + 1] - dvo[k];
      }
      offsets[i + 1] = total;
    }
    const bytes = new Uint8Array(total);
    let nulls: Uint8Array | undefined;
    if (d.nullCount > 0) nulls = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      if (!d.getValid(i)) continue;
      if (nulls) nulls[i >> 3] |= 1 << (i & 7);
      const k = keys[i];
      bytes.set(dbytes.subarray(dvo[k], dvo[k + 1]), offsets[i]);
    }
    chunks.push(
      arrow.makeData({ type: new arrow.Utf8(), length: n, nullCount: d.nullCount, nullBitmap: nulls, valueOffsets: offsets, data: bytes }),
    );
  }
  return new arrow.Vector(chunks);
}

/** compareTypes is a type guard; wrapping it keeps the caller's types from narrowing to never. */
export function typesEqual(a: arrow.DataType, b: arrow.DataType): boolean {
  return arrow.util.compareTypes(a, b);
}

function relabel<T extends arrow.DataType>(v: arrow.Vector, type: T): arrow.Vector<T> {
  return new arrow.Vector(v.data.map((d) => d.clone(type))) as arrow.Vector<T>;
}

function sameStorage(a: arrow.DataType, b: arrow.DataType): boolean {
  if (arrow.DataType.isTimestamp(a) && arrow.DataType.isTimestamp(b)) {
    // A file timestamp not adjusted to UTC (older delta-rs wrote these) read into a `timestamp` column keeps its raw
    // µs as UTC, as delta-rs does (and Spark in a UTC session); UTC instants into `timestamp_ntz` Spark refuses, as we do.
    return a.unit === b.unit && (!a.timezone || !!b.timezone);
  }
  return typesEqual(a, b);
}

export function castColumn(v: arrow.Vector, target: arrow.DataType, where: string): arrow.Vector {
  if (typesEqual(v.type, target)) return v;
  if (arrow.DataType.isDictionary(v.type)) {
    const decoded = arrow.DataType.isUtf8(v.type.dictionary) ? decodeDictionaryUtf8(v) : null;
    if (decoded) return castColumn(decoded, target, where);
  }
  if (arrow.DataType.isLargeUtf8(v.type) && arrow.DataType.isUtf8(target)) {
    return arrow.vectorFromArray([...v] as (string | null)[], target);
  }
  if (sameStorage(v.type, target)) return relabel(v, target);
  if (arrow.DataType.isStruct(v.type) && arrow.DataType.isStruct(target)) {
    // Children are matched by position here; the scan has already renamed and reordered them.
    return new arrow.Vector(
      v.data.map((d) => {
        const children = target.children.map((f, i) => {
          const child = d.children[i];
          return castColumn(new arrow.Vector([child]), f.type, `${where}.${f.name}`).data[0];
        });
        return arrow.makeData({ type: target, length: d.length, offset: d.offset, nullCount: d.nullCount, nullBitmap: d.nullBitmap, children });
      }),
    );
  }
  if (arrow.DataType.isList(v.type) && arrow.DataType.isList(target)) {
    return new arrow.Vector(
      v.data.map((d) => {
        const child = castColumn(new arrow.Vector([d.children[0]]), target.children[0].type, `${where}[]`);
        return arrow.makeData({ type: target, length: d.length, offset: d.offset, nullCount: d.nullCount, nullBitmap: d.nullBitmap, valueOffsets: d.valueOffsets, child: child.data[0] });
      }),
    );
  }
  if (arrow.DataType.isMap(v.type) && arrow.DataType.isMap(target)) {
    return new arrow.Vector(
      v.data.map((d) => {
        const entries = castColumn(new arrow.Vector([d.children[0]]), target.children[0].type, `${where}{}`);
        return arrow.makeData({ type: target, length: d.length, offset: d.offset, nullCount: d.nullCount, nullBitmap: d.nullBitmap, valueOffsets: d.valueOffsets, child: entries.data[0] });
      }),
    );
  }
  throw new CorruptLogError(`${where}: the file stores type ${String(v.type)} where the table schema says ${String(target)}`);
}

/** The Arrow type scans give string columns when asked to keep dictionaries. */
export function dictionaryUtf8(): arrow.Dictionary<arrow.Utf8, arrow.Int32> {
  return new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
}

/**
 * A string column as `type` (Dictionary<Int32, Utf8>): a file's dictionary-encoded column as read (only relabelled,
 * or its keys widened), any other string column encoded here (foreign writers that stored plain strings).
 */
export function castToDictionaryUtf8(v: arrow.Vector, type: arrow.Dictionary<arrow.Utf8, arrow.Int32>, where: string): arrow.Vector {
  const chunks = v.data.map((d) => {
    const t = d.type as arrow.DataType;
    if (arrow.DataType.isDictionary(t) && arrow.DataType.isUtf8(t.dictionary) && arrow.DataType.isInt(t.indices) && d.dictionary) {
      if (t.indices.bitWidth === 32 && t.indices.isSigned) return d.clone(type);
      // Keys of another width (pyarrow may write int8/int16 ones): values are already cut to the slice, see columns.ts.
      const keys = Int32Array.from(d.values as unknown as ArrayLike<number>, Number);
      return arrow.makeData({ type, length: d.length, nullCount: d.nullCount, nullBitmap: sliceBitmap(d), data: keys, dictionary: d.dictionary });
    }
    return encodeDictionary(castColumn(new arrow.Vector([d]), new arrow.Utf8(), where).data[0] as arrow.Data<arrow.Utf8>, type);
  });
  return new arrow.Vector(chunks);
}

/** The validity bitmap of `d` re-based to start at its first row (makeData takes it so with offset 0). */
function sliceBitmap(d: arrow.Data): Uint8Array | undefined {
  if (d.nullCount === 0 || !d.nullBitmap) return undefined;
  const bytes = (d.length + 7) >> 3;
  if (d.offset % 8 === 0) return d.nullBitmap.slice(d.offset >> 3, (d.offset >> 3) + bytes);
  const out = new Uint8Array(bytes);
  for (let i = 0; i < d.length; i++) if (d.getValid(i)) out[i >> 3] |= 1 << (i & 7);
  return out;
}

/** Encodes plain strings as a dictionary, comparing bytes (no UTF-8 decoding: the words keep their exact bytes). */
function encodeDictionary(d: arrow.Data<arrow.Utf8>, type: arrow.Dictionary<arrow.Utf8, arrow.Int32>): arrow.Data {
  const offsets = d.valueOffsets;
  const bytes = d.values;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ids = new Map<string, number>();
  const firstRow: number[] = [];
  const keys = new Int32Array(d.length);
  let total = 0;
  const allNull = d.nullCount === d.length;
  for (let i = 0; i < d.length && !allNull; i++) {
    if (d.nullCount !== 0 && !d.getValid(i)) continue;
    const s = buf.toString('latin1', offsets[i], offsets[i + 1]); // one JS char per byte: a byte-exact map key
    let k = ids.get(s);
    if (k === undefined) {
      k = firstRow.length;
      ids.set(s, k);
      firstRow.push(i);
      total += offsets[i + 1] - offsets[i];
    }
    keys[i] = k;
  }
  const wordOffsets = new Int32Array(firstRow.length + 1);
  const wordBytes = new Uint8Array(total);
  firstRow.forEach((i, k) => {
    wordBytes.set(bytes.subarray(offsets[i], offsets[i + 1]), wordOffsets[k]);
    wordOffsets[k + 1] = wordOffsets[k] + offsets[i + 1] - offsets[i];
  });
  const words = arrow.makeVector(arrow.makeData({ type: new arrow.Utf8(), length: firstRow.length, nullCount: 0, valueOffsets: wordOffsets, data: wordBytes }));
  return arrow.makeData({ type, length: d.length, nullCount: d.nullCount, nullBitmap: sliceBitmap(d), data: keys, dictionary: words });
}
