// Partition values and data file paths as the Delta log spells them: typed value <-> partitionValues string,
// Hive-style partition directories (Spark's escaping), and add.path's relative URI. Pure; used by write and scan.

import * as arrow from 'apache-arrow';
import type { PrimitiveType } from './schema.js';
import { CorruptLogError, InvalidArgumentError } from '../../errors.js';

/**
 * A typed partition (or cell) value: string; number for integer/short/byte/float/double; bigint for long;
 * boolean; date as days since 1970-01-01 (number); timestamp and timestamp_ntz as microseconds since the epoch
 * (bigint); decimal(p,s) as its unscaled bigint (1.50 in decimal(5,2) is 150n); binary as its UTF-8 text.
 */
export type PartitionLiteral = string | number | bigint | boolean | null;

/** The directory name Spark and Hive give a null (or empty string) partition value. */
export const HIVE_DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

const US_PER_DAY = 86_400_000_000n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT_RANGE: Record<string, [number, number]> = {
  integer: [-2147483648, 2147483647],
  short: [-32768, 32767],
  byte: [-128, 127],
};
const DECIMAL = /^decimal\((\d+),\s*(\d+)\)$/;

// ---- dates and timestamps (proleptic Gregorian, like Spark 3 and java.time; no Date, so any int64 µs works) ----

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

// java.time's year style: four digits, '+' beyond 9999, '-' before year 0.
function yearText(y: number): string {
  if (y > 9999) return `+${y}`;
  return y < 0 ? `-${pad(-y, 4)}` : pad(y, 4);
}

/** Days since the epoch as `YYYY-MM-DD`. */
export function formatDays(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${yearText(y)}-${pad(m)}-${pad(d)}`;
}

/**
 * How a µs timestamp is written: 'iso-micros' `2024-01-01T10:00:00.000000Z` (Delta 3.3's timestamp partition
 * values), 'iso-millis' `...T10:00:00.123Z` and 'iso-millis-local' `...T10:00:00.123` (stats of timestamp and
 * timestamp_ntz; the digits below a millisecond are dropped), 'space' `2024-01-01 10:00:00[.123456]` (the
 * protocol's zone-less form, used for timestamp_ntz partition values).
 */
export type TimestampForm = 'iso-micros' | 'iso-millis' | 'iso-millis-local' | 'space';

export function formatMicros(us: bigint, form: TimestampForm): string {
  let days = us / US_PER_DAY;
  let rem = us % US_PER_DAY;
  if (rem < 0n) {
    rem += US_PER_DAY;
    days -= 1n;
  }
  const micros = Number(rem % 1_000_000n);
  const secs = Number(rem / 1_000_000n);
  const hms = `${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}`;
  const date = formatDays(Number(days));
  switch (form) {
    case 'iso-micros':
      return `${date}T${hms}.${pad(micros, 6)}Z`;
    case 'iso-millis':
      return `${date}T${hms}.${pad(Math.floor(micros / 1000), 3)}Z`;
    case 'iso-millis-local':
      return `${date}T${hms}.${pad(Math.floor(micros / 1000), 3)}`;
    case 'space':
      return micros === 0 ? `${date} ${hms}` : `${date} ${hms}.${pad(micros, 6)}`;
  }
}

const DATE_RE = /^([+-]?\d{4,})-(\d{1,2})-(\d{1,2})$/;
const TS_RE =
  /^([+-]?\d{4,})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

function checkedDays(y: string, m: string, d: string): number | undefined {
  const [yy, mm, dd] = [Number(y), Number(m), Number(d)];
  if (mm < 1 || mm > 12 || dd < 1) return undefined;
  const days = daysFromCivil(yy, mm, dd);
  // A day past the month's end (Feb 30) comes back as a different month.
  return civilFromDays(days)[1] === mm ? days : undefined;
}

/** `YYYY-MM-DD` as days since the epoch, or undefined when it is not a valid date. */
export function parseDateText(s: string): number | undefined {
  const m = DATE_RE.exec(s.trim());
  return m ? checkedDays(m[1], m[2], m[3]) : undefined;
}

/**
 * A timestamp in any form Delta logs hold (`2021-01-01 00:00:00[.ffffff]`, ISO with `T`, `Z` or `+01:00`, a bare
 * date) as µs since the epoch. Text without a zone is read as UTC: the legacy form carries the writer's session time
 * zone, which the log does not record, and delta-rs and delta-kernel read it as UTC too. timestamp_ntz (`ntz`)
 * refuses a zone. Digits below a microsecond are dropped (floor). Undefined when the text is not a timestamp.
 */
export function parseTimestampText(s: string, ntz = false): bigint | undefined {
  const m = TS_RE.exec(s.trim());
  if (!m) return undefined;
  const days = checkedDays(m[1], m[2], m[3]);
  const [h, min, sec] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (days === undefined || h > 23 || min > 59 || sec > 59) return undefined;
  let offsetMin = 0;
  if (m[8]) {
    if (ntz) return undefined;
    if (m[8] !== 'Z') {
      const digits = m[8].replace(':', '');
      offsetMin = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || 0);
      if (digits[0] === '-') offsetMin = -offsetMin;
    }
  }
  const frac = BigInt((m[7] ?? '').padEnd(9, '0').slice(0, 6) || '0');
  const us =
    BigInt(days) * US_PER_DAY + BigInt(h * 3600 + min * 60 + sec - offsetMin * 60) * 1_000_000n + frac;
  return us < INT64_MIN || us > INT64_MAX ? undefined : us;
}

// ---- decimals ----

export function decimalScale(type: PrimitiveType): { precision: number; scale: number } | undefined {
  const m = DECIMAL.exec(type);
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : undefined;
}

/** Decimal text (`-1.50`, `1.5E-3`) as an unscaled bigint at `scale`; undefined if inexact or out of precision. */
export function parseDecimalText(s: string, precision: number, scale: number): bigint | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  let digits = m[2] + (m[3] ?? '');
  let exp = -(m[3] ?? '').length + Number(m[4] ?? 0);
  // Bring to `scale` fraction digits exactly; dropping a non-zero digit would change the value.
  while (exp > -scale) {
    digits += '0';
    exp--;
  }
  while (exp < -scale) {
    if (!digits.endsWith('0')) return undefined;
    digits = digits.slice(0, -1);
    exp++;
  }
  const unscaled = BigInt(digits || '0') * (m[1] === '-' ? -1n : 1n);
  const abs = unscaled < 0n ? -unscaled : unscaled;
  return abs >= 10n ** BigInt(precision) ? undefined : unscaled;
}

/** An unscaled decimal as plain text with exactly `scale` fraction digits (`150n`, 2 -> `1.50`). */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${text}` : text;
}

// ---- partition values ----

// JS prints integral doubles without a fraction; Spark (Java) writes `2021.0`, as delta-rs's tables show.
function floatText(n: number, single: boolean): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  let text = String(n);
  if (single) {
    // The shortest text that reads back as the same float32 (Java's Float.toString does the same).
    for (let p = 1; p <= 9; p++) {
      const candidate = Number(n.toPrecision(p));
      if (Math.fround(candidate) === n) {
        text = String(candidate);
        break;
      }
    }
  }
  if (Object.is(n, -0)) return '-0.0';
  return /[.eE]/.test(text) || text.includes('Infinity') ? text : `${text}.0`;
}

function bad(value: unknown, type: PrimitiveType): InvalidArgumentError {
  const shown = typeof value === 'bigint' ? `${value}n` : typeof value === 'string' ? `'${value}'` : String(value);
  return new InvalidArgumentError(`partition value ${shown} (${typeof value}) cannot be written as a ${type} value`);
}

function micros(value: unknown, type: PrimitiveType): bigint {
  if (typeof value === 'bigint') return value;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return BigInt(value.getTime()) * 1000n;
  throw bad(value, type);
}

/**
 * The partitionValues string of a typed value (see PartitionLiteral for the JS shapes; a Date is also accepted for
 * date and timestamp columns). null and the empty string give null, which Spark also writes for an empty string.
 * timestamp is written as Delta 3.3 does, UTC ISO-8601 with six fraction digits (`2024-01-01T10:00:00.000000Z`);
 * timestamp_ntz in the protocol's zone-less form (`2024-01-01 10:00:00[.ffffff]`), since it has no zone to state.
 */
export function serializePartitionValue(value: unknown, type: PrimitiveType): string | null {
  if (value === null || value === undefined || value === '') return null;
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw bad(value, type);
      return value;
    case 'binary':
      if (typeof value === 'string') return value;
      if (value instanceof Uint8Array) return UTF8.decode(value);
      throw bad(value, type);
    case 'boolean':
      if (typeof value !== 'boolean') throw bad(value, type);
      return value ? 'true' : 'false';
    case 'long':
    case 'integer':
    case 'short':
    case 'byte': {
      if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isInteger(value))) throw bad(value, type);
      const big = BigInt(value);
      const [lo, hi] = type === 'long' ? [INT64_MIN, INT64_MAX] : INT_RANGE[type].map(BigInt);
      if (big < lo || big > hi) throw bad(value, type);
      return big.toString();
    }
    case 'float':
    case 'double':
      if (typeof value !== 'number') throw bad(value, type);
      return floatText(value, type === 'float');
    case 'date': {
      const days =
        value instanceof Date ? Math.floor(value.getTime() / 86_400_000) : typeof value === 'number' ? value : NaN;
      if (!Number.isInteger(days)) throw bad(value, type);
      return formatDays(days);
    }
    case 'timestamp':
      return formatMicros(micros(value, type), 'iso-micros');
    case 'timestamp_ntz':
      return formatMicros(micros(value, type), 'space');
  }
  const dec = decimalScale(type);
  if (!dec) throw bad(value, type);
  const unscaled =
    typeof value === 'bigint'
      ? value
      : typeof value === 'number' || typeof value === 'string'
        ? parseDecimalText(String(value), dec.precision, dec.scale)
        : undefined;
  if (unscaled === undefined) throw bad(value, type);
  return formatDecimal(unscaled, dec.scale);
}

/** The typed value of a partitionValues string, or undefined when the text does not fit the type. */
export function tryParsePartitionValue(s: string, type: PrimitiveType): PartitionLiteral | undefined {
  switch (type) {
    case 'string':
    case 'binary':
      return s;
    case 'boolean': {
      const l = s.toLowerCase();
      return l === 'true' ? true : l === 'false' ? false : undefined;
    }
    case 'long':
    case 'integer':
    case 'short':
    case 'byte': {
      if (!/^[+-]?\d+$/.test(s.trim())) return undefined;
      const big = BigInt(s.trim());
      const [lo, hi] = type === 'long' ? [INT64_MIN, INT64_MAX] : INT_RANGE[type].map(BigInt);
      if (big < lo || big > hi) return undefined;
      return type === 'long' ? big : Number(big);
    }
    case 'float':
    case 'double': {
      const t = s.trim();
      if (!/^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|NaN|Infinity)$/.test(t)) return undefined;
      return type === 'float' ? Math.fround(Number(t)) : Number(t);
    }
    case 'date':
      return parseDateText(s);
    case 'timestamp':
      return parseTimestampText(s);
    case 'timestamp_ntz':
      return parseTimestampText(s, true);
  }
  const dec = decimalScale(type);
  return dec ? parseDecimalText(s, dec.precision, dec.scale) : undefined;
}

/**
 * The typed value of a partitionValues entry. null stays null; the empty string is null for every type but
 * string. Accepts Spark's legacy timestamps (`2021-01-01 00:00:00`) and ISO ones (`2021-01-01T00:00:00.000000Z`).
 * Throws CorruptLogError naming the value and type when the text does not fit.
 */
export function parsePartitionValue(s: string | null, type: PrimitiveType): PartitionLiteral {
  if (s === null) return null;
  if (s === '' && type !== 'string') return null;
  const v = tryParsePartitionValue(s, type);
  if (v === undefined) throw new CorruptLogError(`partition value '${s}' is not a valid ${type}`);
  return v;
}

// ---- reading typed values out of Arrow ----

function toMicros(raw: bigint, unit: arrow.TimeUnit): bigint {
  switch (unit) {
    case arrow.TimeUnit.SECOND:
      return raw * 1_000_000n;
    case arrow.TimeUnit.MILLISECOND:
      return raw * 1000n;
    case arrow.TimeUnit.MICROSECOND:
      return raw;
    case arrow.TimeUnit.NANOSECOND: {
      const q = raw / 1000n;
      return raw < 0n && q * 1000n !== raw ? q - 1n : q; // floor, as Spark does for nanosecond files
    }
  }
  return raw;
}

/**
 * A reader of one Arrow Data chunk giving each row's typed value (PartitionLiteral shapes: µs bigint timestamps,
 * day-number dates, unscaled bigint decimals), reading raw buffers where `Vector.get` would lose precision.
 * `i` is the row within the chunk. Dictionary-encoded columns read through their dictionary.
 */
export function cellReader(data: arrow.Data, type: PrimitiveType): (i: number) => PartitionLiteral {
  const t = data.type as arrow.DataType;
  const valid = (i: number): boolean => data.nullCount === 0 || data.getValid(i);
  if (arrow.DataType.isDictionary(t)) {
    const dict = data.dictionary;
    if (!dict) throw new InvalidArgumentError(`dictionary column without a dictionary (type ${type})`);
    const decoded = new Map<number, PartitionLiteral>();
    const dictType = dict.type as arrow.DataType;
    const idx = data.values as ArrayLike<number | bigint>;
    return (i) => {
      if (!valid(i)) return null;
      const k = Number(idx[i]);
      let v = decoded.get(k);
      if (v === undefined) {
        v = typedFromVector(dict, k, dictType, type);
        decoded.set(k, v);
      }
      return v;
    };
  }
  if (arrow.DataType.isTimestamp(t)) {
    const values = data.values as BigInt64Array;
    const unit = t.unit;
    return (i) => (valid(i) ? toMicros(values[i], unit) : null);
  }
  if (arrow.DataType.isDate(t)) {
    if (t.unit === arrow.DateUnit.DAY) {
      const values = data.values as Int32Array;
      return (i) => (valid(i) ? values[i] : null);
    }
    const values = data.values as unknown as BigInt64Array;
    return (i) => (valid(i) ? Math.floor(Number(values[i]) / 86_400_000) : null);
  }
  if (arrow.DataType.isDecimal(t)) {
    const words = data.values as Uint32Array;
    const stride = t.bitWidth / 32;
    return (i) => (valid(i) ? decimalWords(words, i * stride, stride) : null);
  }
  if (arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t)) {
    // Arrow's own decoder drops a leading U+FEFF from every value; this one keeps the bytes' text exactly.
    const offsets = data.valueOffsets as ArrayLike<number | bigint>;
    const bytes = data.values as Uint8Array;
    return (i) => (valid(i) ? UTF8.decode(bytes.subarray(Number(offsets[i]), Number(offsets[i + 1]))) : null);
  }
  const vec = arrow.makeVector(data);
  return (i) => (valid(i) ? normalise(vec.get(i), type) : null);
}

const UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });

function decimalWords(words: Uint32Array, at: number, stride: number): bigint {
  let v = 0n;
  for (let k = stride - 1; k >= 0; k--) v = (v << 32n) | BigInt(words[at + k]);
  return BigInt.asIntN(stride * 32, v);
}

function typedFromVector(vec: arrow.Vector, index: number, t: arrow.DataType, type: PrimitiveType): PartitionLiteral {
  // Locate the chunk so the raw reader (not Vector.get) does the conversion.
  let i = index;
  for (const d of vec.data) {
    if (i < d.length) return cellReader(d, type)(i);
    i -= d.length;
  }
  throw new InvalidArgumentError(`row ${index} is past the end of a ${String(t)} column of ${vec.length} rows`);
}

function normalise(v: unknown, type: PrimitiveType): PartitionLiteral {
  if (v === null || v === undefined) return null;
  if (type === 'long') return typeof v === 'bigint' ? v : BigInt(v as number);
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Uint8Array) return UTF8.decode(v);
  return v as PartitionLiteral;
}

/** The typed value at `index` of an Arrow column (see cellReader). */
export function typedValueAt(vector: arrow.Vector, index: number, type: PrimitiveType): PartitionLiteral {
  return typedFromVector(vector, index, vector.type as arrow.DataType, type);
}

/** The partitionValues string of row `index` of an Arrow column. */
export function partitionValueAt(vector: arrow.Vector, index: number, type: PrimitiveType): string | null {
  return serializePartitionValue(typedValueAt(vector, index, type), type);
}

// ---- directories and paths ----

// Spark's ExternalCatalogUtils.charToEscape (copied from Hive's FileUtils) on a non-Windows host.
const ESCAPED = new Set<number>([
  ...Array.from({ length: 0x1f }, (_, k) => k + 1),
  ...'"#%\'*/:=?\\{[]^'.split('').map((c) => c.charCodeAt(0)),
  0x7f,
]);

/** Spark's escapePathName: `%XX` (upper-case hex) for the characters Hive reserves in partition directory names. */
export function escapePathName(s: string): string {
  let out = '';
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    out += ESCAPED.has(c) ? `%${c.toString(16).toUpperCase().padStart(2, '0')}` : s[k];
  }
  return out;
}

/** Spark's unescapePathName: each `%XX` back to its character; a `%` without two hex digits stays as it is. */
export function unescapePathName(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * The Hive-style directory of a partition, `col=value/col2=value2`, in `columns` order, with names and values
 * escaped as Spark escapes them and null (or empty) as __HIVE_DEFAULT_PARTITION__. `values` holds the
 * partitionValues strings; a missing column is an error.
 */
export function partitionDirectory(columns: string[], values: Record<string, string | null>): string {
  return columns
    .map((c) => {
      if (!(c in values)) throw new InvalidArgumentError(`partition column '${c}' has no value in ${JSON.stringify(values)}`);
      const v = values[c];
      return `${escapePathName(c)}=${v === null || v === '' ? HIVE_DEFAULT_PARTITION : escapePathName(v)}`;
    })
    .join('/');
}

// java.net.URI's legal path characters, which Hadoop's Path.toUri (and so Spark's add.path) leaves as they are:
// unreserved, the punctuation `,;$&+=`, `@` and `/`. ':' is legal too but we encode it, so that no relative path
// can read as `scheme:...`. Non-ASCII characters stay as they are, bar controls and spaces (Java's "other").
const URI_KEEP = /[A-Za-z0-9\-_.!~*'(),;$&+=@/]/;
const NON_ASCII_QUOTED = /[\u0080-\u009f\p{Zs}\p{Zl}\p{Zp}]/u;

/**
 * add.path for a data file at `relativeFilePath` (the on-disk path under the table root, `/`-separated): a
 * relative URI, percent-encoded once as Spark writes it, so the on-disk directory `a%3Ab` becomes `a%253Ab`.
 */
export function encodeAddPath(relativeFilePath: string): string {
  if (relativeFilePath === '' || relativeFilePath.startsWith('/')) {
    throw new InvalidArgumentError(`data file path '${relativeFilePath}' must be relative to the table root`);
  }
  if (/[\uD800-\uDFFF]/u.test(relativeFilePath)) {
    throw new InvalidArgumentError(`data file path '${relativeFilePath}' holds a lone UTF-16 surrogate`);
  }
  const encoder = new TextEncoder();
  let out = '';
  for (const ch of relativeFilePath) {
    const keep = ch.length === 1 && ch.charCodeAt(0) < 0x80 ? URI_KEEP.test(ch) : !NON_ASCII_QUOTED.test(ch);
    if (keep) out += ch;
    else for (const b of encoder.encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Where an add.path (or remove.path) points: `{ relative }`, the on-disk path under the table root, `/`-separated;
 * or `{ absolute }`, an absolute local filesystem path (from `file:/x`, `file:///x`, `file://localhost/x` or an
 * unqualified `/x`), or for any other scheme (`s3://...`, `file://host/...`) the URI exactly as written, which
 * starts with `scheme:` and so never looks like a local path. Relative paths are not normalised: a caller resolving
 * one must check it stays under the table root (`..` is legal in a URI).
 */
export type DecodedAddPath = { relative: string } | { absolute: string };

function percentDecode(s: string, where: string): string {
  if (!s.includes('%')) return s;
  const encoder = new TextEncoder();
  const bytes: number[] = [];
  for (let k = 0; k < s.length; ) {
    if (s[k] === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(k + 1, k + 3))) {
      bytes.push(parseInt(s.slice(k + 1, k + 3), 16));
      k += 3;
    } else {
      const cp = s.codePointAt(k) as number;
      const ch = String.fromCodePoint(cp);
      for (const b of encoder.encode(ch)) bytes.push(b);
      k += ch.length;
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(new Uint8Array(bytes));
  } catch {
    throw new CorruptLogError(`${where}: '${s}' percent-decodes to invalid UTF-8`);
  }
}

/** The file an add.path names (see DecodedAddPath). */
export function decodeAddPath(path: string): DecodedAddPath {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(path);
  if (scheme) {
    if (scheme[1].toLowerCase() !== 'file') return { absolute: path };
    let rest = path.slice(scheme[0].length);
    if (rest.startsWith('//')) {
      const slash = rest.indexOf('/', 2);
      const host = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
      if (host !== '' && host.toLowerCase() !== 'localhost') return { absolute: path };
      rest = slash < 0 ? '/' : rest.slice(slash);
    }
    return { absolute: percentDecode(rest, 'add.path') };
  }
  const decoded = percentDecode(path, 'add.path');
  return path.startsWith('/') ? { absolute: decoded } : { relative: decoded };
}
