// Reads a snapshot's rows as Arrow batches: prunes files by partition values and stats, reads each Parquet file,
// drops rows deleted by deletion vectors, resolves column-mapped physical names, adds partition columns, and
// filters rows by the predicate so the result is exact, not just "files that may match".

import * as arrow from 'apache-arrow';
import type { Storage } from './engine/storage.js';
import type { Snapshot } from './snapshot.js';
import type { Add } from './kernel/actions.js';
import { toArrowType, type StructField, type StructType, type PrimitiveType, type DataType } from './kernel/schema.js';
import { bindPredicate, evalOnRows, mayMatchFile, parsePredicate, type Predicate, type BoundPredicate } from './kernel/predicate.js';
import { decodeAddPath, parsePartitionValue } from './kernel/partition-values.js';
import { readParquetColumns } from './engine/parquet.js';
import { loadDeletedRows } from './engine/deletion-vector-loader.js';
import { castColumn, castToDictionaryUtf8, dictionaryUtf8 } from './arrow/cast.js';
import { nullVector, takeRanges, takeRows } from './arrow/columns.js';
import { CorruptLogError, InvalidArgumentError, NotFoundError } from '../errors.js';

export interface ScanOptions {
  /** Rows to return, as a predicate or SQL text: "sensor_id = 'a' AND ts >= '2024-01-01T00:00:00Z'". */
  where?: Predicate | string;
  /**
   * Columns to return, in this order; all by default. Only these (and those `where` reads) are decoded from the data
   * files: a scan of a few columns of a wide table skips the others' pages.
   */
  columns?: string[];
  /**
   * Return string columns (top-level `string` fields) as Dictionary<Int32, Utf8>, as Parquet files written with
   * dictionary pages hold them, instead of decoding them to plain Utf8 (the default). Saves the decode and lets a
   * caller work per distinct word (e.g. map sensor ids once per file); files holding plain strings are encoded.
   */
  keepDictionaries?: boolean;
}

const PHYSICAL = 'delta.columnMapping.physicalName';
const FIELD_ID = 'delta.columnMapping.id';

/** The table's fields as the scan sees them: logical names, and the partition column values keyed logically. */
function physicalName(f: StructField, mode: 'none' | 'name' | 'id'): string {
  return mode === 'none' ? f.name : String(f.metadata?.[PHYSICAL] ?? f.name);
}

/** Partition values keyed by logical column name (column-mapped tables key them by physical name). */
export function logicalPartitionValues(add: Add, schema: StructType, mode: 'none' | 'name' | 'id'): Record<string, string | null> {
  if (mode === 'none') return add.partitionValues;
  const out: Record<string, string | null> = {};
  for (const f of schema.fields) {
    const p = physicalName(f, mode);
    if (p in add.partitionValues) out[f.name] = add.partitionValues[p];
    else if (f.name in add.partitionValues) out[f.name] = add.partitionValues[f.name];
  }
  return out;
}

function bind(snapshot: Snapshot, where: ScanOptions['where']): BoundPredicate | null {
  if (where === undefined) return null;
  return bindPredicate(typeof where === 'string' ? parsePredicate(where) : where, snapshot.schema);
}

/** The files a scan reads: every live file that may hold a matching row. */
export function selectFiles(snapshot: Snapshot, where?: ScanOptions['where']): Add[] {
  const bound = bind(snapshot, where);
  const files = snapshot.files();
  if (!bound) return files;
  const mode = snapshot.columnMappingMode;
  // Column-mapped stats are keyed by physical names; pruning then uses partition values only.
  return files.filter((f) =>
    mayMatchFile(bound, {
      partitionValues: logicalPartitionValues(f, snapshot.schema, mode),
      stats: mode === 'none' ? f.stats : null,
    }),
  );
}

function findFileColumn(fields: arrow.Field[], f: StructField, mode: 'none' | 'name' | 'id'): number {
  const phys = physicalName(f, mode);
  let i = fields.findIndex((x) => x.name === phys);
  if (i < 0 && mode === 'id') {
    const id = String(f.metadata?.[FIELD_ID] ?? '');
    i = fields.findIndex((x) => x.metadata.get('PARQUET:field_id') === id);
  }
  return i;
}

/**
 * A file column brought to the logical field: renamed (nested too) and cast to the table's type. A top-level string
 * column read with a dictionary is left so (finishColumn decodes it, after rows are filtered).
 */
function resolveColumn(v: arrow.Vector, f: StructField, mode: 'none' | 'name' | 'id', where: string, top = false): arrow.Vector {
  const target = toArrowType(f.type);
  const t = f.type as DataType;
  if (top && t === 'string' && arrow.DataType.isDictionary(v.type) && arrow.DataType.isUtf8(v.type.dictionary)) return v;
  if (mode !== 'none' && typeof t !== 'string' && t.type === 'struct' && arrow.DataType.isStruct(v.type)) {
    const fileFields = v.type.children;
    return new arrow.Vector(
      v.data.map((d) => {
        const children = t.fields.map((child) => {
          const i = findFileColumn(fileFields, child, mode);
          if (i < 0) return nullVector(toArrowType(child.type), d.length).data[0];
          return resolveColumn(new arrow.Vector([d.children[i]]), child, mode, `${where}.${child.name}`).data[0];
        });
        return arrow.makeData({ type: target as arrow.Struct, length: d.length, offset: d.offset, nullCount: d.nullCount, nullBitmap: d.nullBitmap, children });
      }),
    );
  }
  return castColumn(v, target, where);
}

function constantColumn(value: string | null, type: PrimitiveType, n: number): arrow.Vector {
  const arrowType = toArrowType(type);
  const literal = parsePartitionValue(value, type);
  if (literal === null) return nullVector(arrowType, n);
  if (type === 'timestamp' || type === 'timestamp_ntz' || type === 'long') {
    return arrow.makeVector(arrow.makeData({ type: arrowType as arrow.Int64, length: n, nullCount: 0, data: new BigInt64Array(n).fill(BigInt(literal as bigint)) }));
  }
  if (type === 'date') {
    return arrow.makeVector(arrow.makeData({ type: arrowType as arrow.DateDay, length: n, nullCount: 0, data: new Int32Array(n).fill(Number(literal)) }));
  }
  if (arrow.DataType.isDecimal(arrowType)) {
    // The literal is the unscaled value; Arrow keeps it as 128-bit little-endian two's complement words.
    const bits = BigInt.asUintN(128, literal as bigint);
    const row = [0n, 32n, 64n, 96n].map((k) => Number((bits >> k) & 0xffffffffn));
    const words = new Uint32Array(n * 4);
    for (let i = 0; i < n; i++) words.set(row, i * 4);
    return arrow.makeVector(arrow.makeData({ type: arrowType, length: n, nullCount: 0, data: words }));
  }
  return arrow.vectorFromArray(new Array(n).fill(literal), arrowType);
}

/** What a scan reads of each file and what it returns. */
interface ScanPlan {
  /** The returned columns, in order, and their Arrow schema. */
  columns: StructField[];
  schema: arrow.Schema;
  /** The returned columns and those the predicate reads: all that is decoded (or made from partition values). */
  needed: StructField[];
  bound: BoundPredicate | null;
}

/** The returned columns' Arrow schema: the table's types, with string columns as dictionaries when asked. */
export function scanSchema(snapshot: Snapshot, opts: Pick<ScanOptions, 'columns' | 'keepDictionaries'> = {}): arrow.Schema {
  return new arrow.Schema(scanColumns(snapshot, opts.columns).map((f) => new arrow.Field(f.name, outputType(f, opts.keepDictionaries ?? false), f.nullable)));
}

function outputType(f: StructField, keepDictionaries: boolean): arrow.DataType {
  return keepDictionaries && f.type === 'string' ? dictionaryUtf8() : toArrowType(f.type);
}

function scanColumns(snapshot: Snapshot, names: string[] | undefined): StructField[] {
  const schema = snapshot.schema;
  return (names ?? schema.fields.map((f) => f.name)).map((name) => {
    const f = schema.fields.find((x) => x.name === name) ?? schema.fields.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!f) throw new InvalidArgumentError(`${snapshot.table}: scan column '${name}' is not in the table schema`);
    return f;
  });
}

function planScan(snapshot: Snapshot, opts: ScanOptions): ScanPlan {
  const bound = bind(snapshot, opts.where);
  const columns = scanColumns(snapshot, opts.columns);
  // The predicate reads partition columns from the file's partition values: only returned ones are materialised.
  const partition = new Set(snapshot.partitionColumns);
  const names = new Set([...columns.map((f) => f.name), ...(bound?.columns ?? []).filter((c) => !partition.has(c))]);
  // Rows are counted through a column, so a predicate on partition columns alone (no column asked) keeps them.
  if (names.size === 0) for (const c of bound?.columns ?? []) names.add(c);
  const needed = snapshot.schema.fields.filter((f) => names.has(f.name));
  return { columns, schema: scanSchema(snapshot, opts), needed, bound };
}

/** A returned column in its promised type: string dictionaries kept (as Int32-keyed) or decoded to Utf8. */
function finishColumn(v: arrow.Vector, type: arrow.DataType, where: string): arrow.Vector {
  return arrow.DataType.isDictionary(type) ? castToDictionaryUtf8(v, type as arrow.Dictionary<arrow.Utf8, arrow.Int32>, where) : castColumn(v, type, where);
}

/**
 * One data file's rows: only the needed columns are decoded (by physical name or field id under column mapping),
 * partition columns are made from the add's partition values, deletion vectors and the predicate drop rows by their
 * position in the file (projection keeps every row, so positions hold), batch by batch.
 */
async function* readFile(storage: Storage, snapshot: Snapshot, add: Add, plan: ScanPlan): AsyncGenerator<arrow.RecordBatch> {
  const decoded = decodeAddPath(add.path);
  if (!('relative' in decoded)) {
    throw new NotFoundError(`${snapshot.table}: file ${add.path} is an absolute path outside the table, which we do not read`);
  }
  const where = `${snapshot.table}/${decoded.relative}`;
  const mode = snapshot.columnMappingMode;
  const partitionColumns = new Set(snapshot.partitionColumns);
  // Each needed data column's name in the file (absent: the column was added after the file was written).
  const fileNames = new Map<string, string>();
  const { table: fileTable, rows: n } = await readParquetColumns(await storage.read(decoded.relative), where, (fileSchema) => {
    for (const f of plan.needed) {
      if (partitionColumns.has(f.name)) continue;
      const i = findFileColumn(fileSchema.fields, f, mode);
      if (i >= 0) fileNames.set(f.name, fileSchema.fields[i].name);
    }
    return [...new Set(fileNames.values())];
  });
  // A file without rows adds nothing (and apache-arrow builds a malformed batch from zero-length columns).
  if (n === 0) return;
  const partitionValues = logicalPartitionValues(add, snapshot.schema, mode);
  // Column-mapped stats are keyed by physical names, which the predicate does not know.
  const stats = mode === 'none' ? add.stats : null;
  let deleted: Uint8Array | null = null;
  if (add.deletionVector) {
    deleted = new Uint8Array(n);
    for (const r of await loadDeletedRows(storage, add.deletionVector)) {
      if (r >= n) throw new CorruptLogError(`${where}: deletion vector deletes row ${r} but the file has ${n} rows`);
      deleted[r] = 1;
    }
  }
  if (plan.needed.length === 0) {
    // Nothing to decode (no columns asked, no predicate): the rows are only counted.
    let count = n;
    if (deleted) for (let i = 0; i < n; i++) count -= deleted[i];
    if (count > 0) yield emptyBatch(plan.schema, count);
    return;
  }
  const out: Record<string, arrow.Vector> = {};
  for (const f of plan.needed) {
    const name = fileNames.get(f.name);
    if (partitionColumns.has(f.name)) out[f.name] = constantColumn(partitionValues[f.name] ?? null, f.type as PrimitiveType, n);
    else if (name === undefined) out[f.name] = nullVector(toArrowType(f.type), n);
    else out[f.name] = resolveColumn(fileTable.getChild(name)!, f, mode, `${where}: column ${f.name}`, true);
  }
  // Cut into aligned batches (every column one chunk per batch), so rows are filtered and gathered chunk by chunk.
  let start = 0;
  for (const batch of new arrow.Table(out).batches) {
    const rows = batch.numRows;
    let keep: Uint8Array | null = deleted ? deleted.slice(start, start + rows).map((d) => 1 - d) : null;
    start += rows;
    let part = new arrow.Table([batch]);
    if (plan.bound) {
      const mask = evalOnRows(plan.bound, part, partitionValues, stats);
      if (keep) for (let i = 0; i < rows; i++) keep[i] &= mask[i];
      else keep = mask;
    }
    if (keep) {
      let count = 0;
      for (let i = 0; i < rows; i++) count += keep[i];
      if (count === 0) continue;
      if (plan.columns.length === 0) {
        yield emptyBatch(plan.schema, count);
        continue;
      }
      if (count < rows) part = keepRows(part.select(plan.columns.map((c) => c.name)), keep, count);
    }
    const children = plan.schema.fields.map((f) => finishColumn(part.getChild(f.name)!, f.type, `${where}: column ${f.name}`).data[0]);
    yield new arrow.RecordBatch(plan.schema, arrow.makeData({ type: new arrow.Struct(plan.schema.fields), length: part.numRows, nullCount: 0, children }));
  }
}

/**
 * The rows of `part` that `keep` marks (count of them). Files are sorted, so kept rows mostly come in runs (a time
 * range cut at a file's end, a run of sensors): one run is a zero-copy slice, a few are block copies.
 */
function keepRows(part: arrow.Table, keep: Uint8Array, count: number): arrow.Table {
  const ranges: number[] = [];
  for (let i = 0; i < keep.length; i++) {
    if (!keep[i]) continue;
    const from = i;
    while (i < keep.length && keep[i]) i++;
    ranges.push(from, i);
  }
  if (ranges.length === 2) return part.slice(ranges[0], ranges[1]);
  // A run costs a few calls per column; below ~16 rows a run, gathering row by row is as cheap.
  if ((ranges.length / 2) * 16 <= count) return takeRanges(part, ranges);
  const idx = new Uint32Array(count);
  for (let i = 0, j = 0; i < keep.length; i++) if (keep[i]) idx[j++] = i;
  return takeRows(part, idx);
}

/** A batch of `rows` rows and no columns (a scan of no columns: rows counted, nothing decoded). */
function emptyBatch(schema: arrow.Schema, rows: number): arrow.RecordBatch {
  return new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length: rows, nullCount: 0, children: [] }));
}

/** The rows of `snapshot`, file by file, as record batches with the table's Arrow schema (or the chosen columns). */
export function scanSnapshot(storage: Storage, snapshot: Snapshot, opts: ScanOptions = {}): AsyncGenerator<arrow.RecordBatch> {
  return scanFiles(storage, snapshot, selectFiles(snapshot, opts.where), opts);
}

/** The rows of the given data files, read as `snapshot` reads them (schema, partition values, deletion vectors). */
export async function* scanFiles(storage: Storage, snapshot: Snapshot, files: Iterable<Add>, opts: ScanOptions = {}): AsyncGenerator<arrow.RecordBatch> {
  const plan = planScan(snapshot, opts);
  for (const add of files) yield* readFile(storage, snapshot, add, plan);
}

/** Every batch of a scan gathered into one table. */
export async function collectScan(batches: AsyncIterable<arrow.RecordBatch>, schema?: arrow.Schema): Promise<arrow.Table> {
  const all: arrow.RecordBatch[] = [];
  for await (const b of batches) all.push(b);
  if (all.length === 0) return schema ? new arrow.Table(schema) : new arrow.Table();
  return new arrow.Table(all);
}
