// Per-file statistics (add.stats): computed from the Arrow data about to be written, serialised as the protocol's
// JSON string, and parsed back for data skipping. Pure; the writer calls computeStats, scans call parseStats.

import * as arrow from 'apache-arrow';
import type { DataType, PrimitiveType, StructType } from './schema.js';
import { cellReader, decimalScale, formatDays, formatDecimal, formatMicros } from './partition-values.js';
import { scanLeafTyped, type BoundsKind, type LeafBounds } from './stats-scan.js';

/**
 * add.stats, nested like the schema for struct columns. Values are as the JSON holds them: numbers (longs beyond
 * ±2^53 as bigints, so statsJson keeps every digit), strings, dates `YYYY-MM-DD`, timestamps `...T...123Z`.
 */
export interface FileStats {
  numRecords: number;
  minValues: Record<string, unknown>;
  maxValues: Record<string, unknown>;
  nullCount: Record<string, unknown>;
  tightBounds?: boolean;
}

/** delta.dataSkippingNumIndexedCols's default: stats cover the first 32 leaf columns. */
export const DEFAULT_NUM_INDEXED_COLS = 32;
/** Spark's stats.truncateStringLength / delta-kernel's prefix length for string min and max. */
export const STRING_PREFIX_LENGTH = 32;

// ---- strings: Spark compares them as UTF-8 bytes, i.e. by code point, not by UTF-16 unit as JS's `<` does ----

/** Compares strings by code point (the order of their UTF-8 bytes, which Spark and Parquet use). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) {
    let x = a.charCodeAt(k);
    let y = b.charCodeAt(k);
    if (x === y) continue;
    // Surrogates (supplementary code points) sort above U+E000..U+FFFF in code point order.
    if (x >= 0xd800) x += x < 0xe000 ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y < 0xe000 ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

const ASCII_MAX = '\u007f';
const UTF8_MAX = '\u{10ffff}';
const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** Spark's truncateMinStringAgg: a prefix of `prefixLen` UTF-16 units, never splitting a surrogate pair. */
export function truncateMinString(s: string, prefixLen = STRING_PREFIX_LENGTH): string {
  if (s.length <= prefixLen) return s;
  const cut = isHigh(s.charCodeAt(prefixLen - 1)) && isLow(s.charCodeAt(prefixLen)) ? prefixLen + 1 : prefixLen;
  return s.slice(0, cut);
}

/**
 * Spark's truncateMaxStringAgg (Delta 3.x): the prefix plus a tie-breaker that sorts above whatever it cut off, so
 * the result stays >= every value: U+007F when the next character is below it, else U+10FFFF (skipping U+10FFFF
 * characters in the input, which nothing sorts above). null (no max written) if that needs over 2 * prefixLen units.
 */
export function truncateMaxString(s: string, prefixLen = STRING_PREFIX_LENGTH): string | null {
  if (s.length <= prefixLen) return s;
  let len = truncateMinString(s, prefixLen).length;
  while (len <= 2 * prefixLen) {
    if (len >= s.length) return s;
    if (s.startsWith(UTF8_MAX, len)) len += 2;
    else return s.slice(0, len) + (s.charCodeAt(len) < 0x7f ? ASCII_MAX : UTF8_MAX);
  }
  return null;
}

// ---- computing ----

type Kind = 'int' | 'long' | 'float' | 'decimal' | 'date' | 'timestamp' | 'timestamp_ntz' | 'string' | 'none';

function kindOf(t: DataType): Kind {
  if (typeof t !== 'string') return 'none';
  switch (t) {
    case 'integer':
    case 'short':
    case 'byte':
      return 'int';
    case 'long':
      return 'long';
    case 'float':
    case 'double':
      return 'float';
    case 'date':
      return 'date';
    case 'timestamp':
      return 'timestamp';
    case 'timestamp_ntz':
      return 'timestamp_ntz';
    case 'string':
      return 'string';
    case 'boolean': // Spark collects no min/max for booleans, binary or complex types: null counts only
    case 'binary':
      return 'none';
  }
  return decimalScale(t) ? 'decimal' : 'none';
}

/** One Arrow chunk of a leaf column plus the struct chunks above it, whose nulls make the leaf null too. */
interface Segment {
  data: arrow.Data;
  parents: arrow.Data[];
}

function findChild(names: string[], name: string): number {
  const exact = names.indexOf(name);
  if (exact >= 0) return exact;
  const lower = name.toLowerCase();
  return names.findIndex((n) => n.toLowerCase() === lower);
}

type Acc = { min: unknown; max: unknown; nulls: number };

function scanLeaf(segments: Segment[], type: PrimitiveType, kind: Kind): Acc {
  const acc: Acc = { min: undefined, max: undefined, nulls: 0 };
  const less =
    kind === 'string'
      ? (a: unknown, b: unknown) => compareUtf8(a as string, b as string) < 0
      : (a: unknown, b: unknown) => (a as number | bigint) < (b as number | bigint);
  for (const { data, parents } of segments) {
    const read = kind === 'none' ? null : cellReader(data, type);
    for (let i = 0; i < data.length; i++) {
      const parentNull = parents.some((p) => p.nullCount !== 0 && !p.getValid(i));
      const v = parentNull ? null : read ? read(i) : data.nullCount !== 0 && !data.getValid(i) ? null : true;
      if (v === null) {
        acc.nulls++;
        continue;
      }
      if (!read || (kind === 'float' && Number.isNaN(v))) continue; // NaN is left out of min/max, as Spark does
      if (acc.min === undefined || less(v, acc.min)) acc.min = v;
      if (acc.max === undefined || less(acc.max, v)) acc.max = v;
    }
  }
  return acc;
}

const floorMs = (us: bigint): bigint => (us >= 0n || us % 1000n === 0n ? us / 1000n : us / 1000n - 1n) * 1000n;
const ceilMs = (us: bigint): bigint => (us % 1000n === 0n ? us : floorMs(us) + 1000n);

/** The JSON form of a min (`isMax` false) or max; undefined when none can be written. */
function statValue(v: unknown, kind: Kind, type: PrimitiveType, isMax: boolean): unknown {
  switch (kind) {
    case 'int':
      return v;
    case 'long':
      return Number.isSafeInteger(Number(v)) ? Number(v) : v;
    case 'float':
      return Number.isFinite(v) ? v : undefined; // JSON has no Infinity; an absent bound is always safe
    case 'decimal': {
      const dec = decimalScale(type);
      // JSON.parse reads numbers as doubles, exact to 15 digits: wider decimals get no bounds rather than wrong ones.
      return dec && dec.precision <= 15 ? Number(formatDecimal(v as bigint, dec.scale)) : undefined;
    }
    case 'date':
      return formatDays(v as number);
    case 'timestamp':
    case 'timestamp_ntz': {
      // Stats hold milliseconds: the min truncated down, the max rounded up so it still bounds every row
      // (Spark truncates both, which makes readers skip files holding rows: delta-rs issues 3133 and 2571).
      const ms = isMax ? ceilMs(v as bigint) : floorMs(v as bigint);
      return formatMicros(ms, kind === 'timestamp' ? 'iso-millis' : 'iso-millis-local');
    }
    case 'string':
      return isMax ? (truncateMaxString(v as string) ?? undefined) : truncateMinString(v as string);
    case 'none':
      return undefined;
  }
}

/**
 * Stats of a data file holding `table`, for the data columns `schema` (partition columns are not in data files
 * and not in stats). Only the first `numIndexedCols` leaf columns (default 32; negative for all) get entries;
 * columns missing from `table` count as all null. Nulls inside a null struct count as nulls of its fields.
 */
export interface StatsOptions {
  numIndexedCols?: number;
  /**
   * Bounds of a top-level column known without scanning it (a writer reads them back from the Parquet footer it
   * just encoded), in the form the typed scan gives for `kind`; null to scan the column's rows as usual.
   */
  knownBounds?: (column: string, kind: BoundsKind, chunks: readonly arrow.Data[]) => LeafBounds | null;
}

export function computeStats(table: arrow.Table, schema: StructType, opts: StatsOptions = {}): FileStats {
  let budget = opts.numIndexedCols ?? DEFAULT_NUM_INDEXED_COLS;
  if (budget < 0) budget = Number.POSITIVE_INFINITY;
  const numRecords = table.numRows;
  const topNames = table.schema.fields.map((f) => f.name);
  const topChunks = (name: string): Segment[] | null => {
    const k = findChild(topNames, name);
    return k < 0 ? null : (table.getChildAt(k)?.data ?? []).map((data) => ({ data, parents: [] }));
  };

  const walk = (fields: StructType['fields'], segmentsOf: (name: string) => Segment[] | null, top: boolean) => {
    const out = { min: {} as Record<string, unknown>, max: {} as Record<string, unknown>, nulls: {} as Record<string, unknown> };
    for (const f of fields) {
      if (budget <= 0) break;
      const segments = segmentsOf(f.name);
      if (typeof f.type !== 'string' && f.type.type === 'struct') {
        const child = walk(f.type.fields, (name) => {
          if (!segments) return null;
          const result: Segment[] = [];
          for (const s of segments) {
            const names = (s.data.type as arrow.DataType).children.map((c) => c.name);
            const k = findChild(names, name);
            if (k < 0) return null;
            result.push({ data: s.data.children[k], parents: [...s.parents, s.data] });
          }
          return result;
        }, false);
        if (Object.keys(child.nulls).length > 0) out.nulls[f.name] = child.nulls;
        if (Object.keys(child.min).length > 0) out.min[f.name] = child.min;
        if (Object.keys(child.max).length > 0) out.max[f.name] = child.max;
        continue;
      }
      budget--; // arrays, maps and binaries take an indexed slot (and get a null count) like any leaf
      if (!segments) {
        out.nulls[f.name] = numRecords;
        continue;
      }
      const kind = kindOf(f.type);
      const type = f.type as PrimitiveType;
      let acc: Acc | null = null;
      if (kind !== 'decimal' && segments.every((s) => s.parents.length === 0)) {
        const chunks = segments.map((s) => s.data);
        // The data's own column name: the footer names columns as written, not as the schema spells them.
        if (top && opts.knownBounds) acc = opts.knownBounds(topNames[findChild(topNames, f.name)], kind, chunks);
        acc ??= scanLeafTyped(chunks, kind);
      }
      acc ??= scanLeaf(segments, type, kind);
      out.nulls[f.name] = acc.nulls;
      if (acc.min === undefined) continue;
      const min = statValue(acc.min, kind, type, false);
      const max = statValue(acc.max, kind, type, true);
      if (min !== undefined) out.min[f.name] = min;
      if (max !== undefined) out.max[f.name] = max;
    }
    return out;
  };

  const all = walk(schema.fields, topChunks, true);
  return { numRecords, minValues: all.min, maxValues: all.max, nullCount: all.nulls };
}

// ---- JSON ----

function writeJson(v: unknown): string | undefined {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : undefined;
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const text = writeJson(x);
    if (text !== undefined) parts.push(`${JSON.stringify(k)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/** The add.stats string: keys in protocol order, bigints written with every digit, non-finite numbers left out. */
export function statsJson(s: FileStats): string {
  const ordered: Record<string, unknown> = {
    numRecords: s.numRecords,
    minValues: s.minValues,
    maxValues: s.maxValues,
    nullCount: s.nullCount,
  };
  if (s.tightBounds !== undefined) ordered.tightBounds = s.tightBounds;
  return writeJson(ordered) as string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * add.stats parsed; null when absent or unusable (not JSON, not an object, numRecords missing or not a count), so
 * a scan just skips no file on its account. Missing minValues/maxValues/nullCount read as empty.
 */
export function parseStats(json: string | null | undefined): FileStats | null {
  if (typeof json !== 'string' || json === '') return null;
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (!isRecord(v)) return null;
  const n = v.numRecords;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return null;
  const stats: FileStats = {
    numRecords: n,
    minValues: isRecord(v.minValues) ? v.minValues : {},
    maxValues: isRecord(v.maxValues) ? v.maxValues : {},
    nullCount: isRecord(v.nullCount) ? v.nullCount : {},
  };
  if (typeof v.tightBounds === 'boolean') stats.tightBounds = v.tightBounds;
  return stats;
}
