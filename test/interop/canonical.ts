// The canonical row encoding of test/interop/peer.py, applied to our own Arrow output, so rows read by
// sensorlake, Spark and delta-rs compare with deep equality. Reads raw buffers: Arrow's get() turns
// 64-bit timestamps into lossy float milliseconds.
import * as arrow from 'apache-arrow';

/** A row in the canonical encoding (described at the top of peer.py): column name -> canonical value. */
export type CanonicalRow = Record<string, unknown>;

const US_PER_DAY = 86_400_000_000n;
const MS_PER_DAY = 86_400_000;

/**
 * Rows of `table` in the canonical encoding, sorted by their JSON text. `deltaTypes` (column -> Delta
 * type string) decides ambiguous columns: an Int32 `date`, an Int64 `timestamp`, a Float64 `float`.
 */
export function canonicalRows(table: arrow.Table, deltaTypes?: Record<string, string>): CanonicalRow[] {
  const names = table.schema.fields.map((f) => f.name);
  const columns = names.map((name, k) => {
    const out: unknown[] = [];
    for (const data of table.getChildAt(k)?.data ?? []) {
      for (let i = 0; i < data.length; i++) out.push(canonicalValue(data, i, deltaTypes?.[name]));
    }
    return out;
  });
  const rows: CanonicalRow[] = [];
  for (let r = 0; r < table.numRows; r++) {
    const row: CanonicalRow = {};
    names.forEach((name, k) => (row[name] = columns[k][r]));
    rows.push(row);
  }
  return sortRows(rows);
}

/** Sorts rows (or any JSON values) by their JSON text, as peer.py does; returns a new array. */
export function sortRows<T>(rows: readonly T[]): T[] {
  return rows
    .map((row) => [JSON.stringify(row), row] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, row]) => row);
}

/** Python's str(Decimal) of unscaled * 10^-scale: plain unless the exponent is positive or tiny. */
export function pythonDecimalString(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString();
  const exp = -scale;
  const leftDigits = exp + digits.length;
  const dot = exp <= 0 && leftDigits > -6 ? leftDigits : 1;
  let text: string;
  if (dot <= 0) text = '0.' + '0'.repeat(-dot) + digits;
  else if (dot >= digits.length) text = digits + '0'.repeat(dot - digits.length);
  else text = digits.slice(0, dot) + '.' + digits.slice(dot);
  if (leftDigits !== dot) {
    const e = leftDigits - dot;
    text += 'E' + (e >= 0 ? '+' : '-') + Math.abs(e);
  }
  return (negative ? '-' : '') + text;
}

/** The canonical value at index `i` of one Arrow chunk (arrow-js keeps `values` pre-sliced to the chunk). */
export function canonicalValue(data: arrow.Data, i: number, deltaType?: string): unknown {
  const type = data.type;
  if (type.typeId === arrow.Type.Null || !data.getValid(i)) return null;
  if (arrow.DataType.isDictionary(type)) {
    const dict = data.dictionary;
    if (!dict) throw new Error(`dictionary column without a dictionary at index ${i}`);
    return vectorValue(dict, Number((data.values as ArrayLike<number | bigint>)[i]), deltaType);
  }
  if (arrow.DataType.isInt(type)) {
    const v = (data.values as ArrayLike<number | bigint>)[i];
    if (deltaType === 'date') return isoDate(BigInt(v) * US_PER_DAY);
    if (deltaType === 'integer' || deltaType === 'short' || deltaType === 'byte') return Number(v);
    return type.bitWidth === 64 || deltaType === 'long' ? String(v) : v;
  }
  if (arrow.DataType.isFloat(type)) {
    const raw = (data.values as ArrayLike<number>)[i];
    const v = type.precision === arrow.Precision.HALF ? halfToNumber(raw) : raw;
    return canonicalFloat(deltaType === 'float' ? Math.fround(v) : v);
  }
  if (arrow.DataType.isBool(type)) {
    const bit = data.offset + i;
    return (((data.values as Uint8Array)[bit >> 3] >> (bit & 7)) & 1) === 1;
  }
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type)) {
    return new TextDecoder().decode(variableBytes(data, i));
  }
  if (arrow.DataType.isBinary(type) || arrow.DataType.isLargeBinary(type)) return hex(variableBytes(data, i));
  if (arrow.DataType.isFixedSizeBinary(type)) {
    return hex((data.values as Uint8Array).subarray(i * type.byteWidth, (i + 1) * type.byteWidth));
  }
  if (arrow.DataType.isDecimal(type)) return pythonDecimalString(decimalUnscaled(data, i, type.bitWidth), type.scale);
  if (arrow.DataType.isDate(type)) {
    if (type.unit === arrow.DateUnit.DAY) return isoDate(BigInt((data.values as Int32Array)[i]) * US_PER_DAY);
    return isoDate(BigInt((data.values as BigInt64Array)[i]) * 1000n);
  }
  if (arrow.DataType.isTimestamp(type)) return String(toMicros((data.values as BigInt64Array)[i], type.unit));
  if (arrow.DataType.isStruct(type)) {
    // Struct children are sliced in step with their parent, so they share its index.
    const row: CanonicalRow = {};
    type.children.forEach((f, k) => (row[f.name] = canonicalValue(data.children[k], i)));
    return row;
  }
  if (arrow.DataType.isList(type) || arrow.DataType.isLargeList(type)) {
    const [begin, end] = offsetsAt(data, i);
    return range(begin, end).map((j) => canonicalValue(data.children[0], j));
  }
  if (arrow.DataType.isFixedSizeList(type)) {
    const size = type.listSize;
    return range(i * size, (i + 1) * size).map((j) => canonicalValue(data.children[0], j));
  }
  if (arrow.DataType.isMap(type)) {
    const [begin, end] = offsetsAt(data, i);
    const [keys, values] = data.children[0].children;
    const pairs = range(begin, end).map((j) => [canonicalValue(keys, j), canonicalValue(values, j)] as const);
    return pairs
      .map(([k, v]) => [JSON.stringify(k), [k, v]] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([, pair]) => [...pair]);
  }
  if (arrow.DataType.isUtf8View(type) || arrow.DataType.isBinaryView(type)) {
    const v: unknown = arrow.makeVector(data).get(i);
    return v instanceof Uint8Array ? hex(v) : v;
  }
  throw new Error(`canonicalValue: unsupported Arrow type ${String(type)} at index ${i}`);
}

function vectorValue(vector: arrow.Vector, index: number, deltaType?: string): unknown {
  let i = index;
  for (const chunk of vector.data) {
    if (i < chunk.length) return canonicalValue(chunk, i, deltaType);
    i -= chunk.length;
  }
  throw new Error(`dictionary index ${index} outside a dictionary of ${vector.length} values`);
}

function canonicalFloat(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

function toMicros(v: bigint, unit: arrow.TimeUnit): bigint {
  switch (unit) {
    case arrow.TimeUnit.SECOND:
      return v * 1_000_000n;
    case arrow.TimeUnit.MILLISECOND:
      return v * 1000n;
    case arrow.TimeUnit.MICROSECOND:
      return v;
    case arrow.TimeUnit.NANOSECOND:
      return floorDiv(v, 1000n); // as peer.py: floor, not truncation toward zero
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function isoDate(micros: bigint): string {
  return new Date(Number(floorDiv(micros, US_PER_DAY)) * MS_PER_DAY).toISOString().slice(0, 10);
}

function variableBytes(data: arrow.Data, i: number): Uint8Array {
  const [begin, end] = offsetsAt(data, i);
  return (data.values as Uint8Array).subarray(begin, end);
}

function offsetsAt(data: arrow.Data, i: number): [number, number] {
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  return [Number(offsets[i]), Number(offsets[i + 1])];
}

function decimalUnscaled(data: arrow.Data, i: number, bitWidth: number): bigint {
  const words = bitWidth / 32;
  const values = data.values as Uint32Array;
  let v = 0n;
  for (let w = words - 1; w >= 0; w--) v = (v << 32n) | BigInt(values[i * words + w]);
  return BigInt.asIntN(bitWidth, v); // little-endian two's complement
}

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function range(begin: number, end: number): number[] {
  return Array.from({ length: Math.max(0, end - begin) }, (_, k) => begin + k);
}
