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
