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
import { decodeParquet } from './engine/parquet.js';
import { loadDeletedRows } from './engine/deletion-vector-loader.js';
import { castColumn } from './arrow/cast.js';
import { nullVector, takeRows } from './arrow/columns.js';
import { CorruptLogError, InvalidArgumentError, NotFoundError } from '../errors.js';

export interface ScanOptions {
  /** Rows to return, as a predicate or SQL text: "sensor_id = 'a' AND ts >= '2024-01-01T00:00:00Z'". */
  where?: Predicate | string;
  /** Columns to return, in this order; all by default. */
  columns?: string[];
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

/** A file column brought to the logical field: renamed (nested too) and cast to the table's type. */
function resolveColumn(v: arrow.Vector, f: StructField, mode: 'none' | 'name' | 'id', where: string): arrow.Vector {
  const target = toArrowType(f.type);
  const t = f.type as DataType;
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

async function readFile(storage: Storage, snapshot: Snapshot, add: Add, bound: BoundPredicate | null, columns: StructField[]): Promise<arrow.Table | null> {
  const decoded = decodeAddPath(add.path);
  if (!('relative' in decoded)) {
    throw new NotFoundError(`${snapshot.table}: file ${add.path} is an absolute path outside the table, which we do not read`);
  }
  const where = `${snapshot.table}/${decoded.relative}`;
  const mode = snapshot.columnMappingMode;
  const schema = snapshot.schema;
  const partitionColumns = new Set(snapshot.partitionColumns);
  const fileTable = decodeParquet(await storage.read(decoded.relative), where);
  const n = fileTable.numRows;
  // A file without rows adds nothing (and apache-arrow builds a malformed batch from zero-length columns).
  if (n === 0) return null;
  const partitionValues = logicalPartitionValues(add, schema, mode);
  const out: Record<string, arrow.Vector> = {};
  const fileFields = fileTable.schema.fields;
  // Columns the predicate needs are read even if not returned.
  for (const f of schema.fields) {
    if (partitionColumns.has(f.name)) {
      out[f.name] = constantColumn(partitionValues[f.name] ?? null, f.type as PrimitiveType, n);
      continue;
    }
    const i = findFileColumn(fileFields, f, mode);
    out[f.name] = i < 0 ? nullVector(toArrowType(f.type), n) : resolveColumn(fileTable.getChildAt(i)!, f, mode, `${where}: column ${f.name}`);
  }
  let full = new arrow.Table(out);
  let keep: Uint8Array | null = null;
  if (add.deletionVector) {
    keep = new Uint8Array(n).fill(1);
    for (const r of await loadDeletedRows(storage, add.deletionVector)) {
      if (r >= n) throw new CorruptLogError(`${where}: deletion vector deletes row ${r} but the file has ${n} rows`);
      keep[r] = 0;
    }
  }
  if (bound) {
    const mask = evalOnRows(bound, full, partitionValues);
    if (keep) for (let i = 0; i < n; i++) keep[i] &= mask[i];
    else keep = mask;
  }
  if (keep) {
    let count = 0;
    for (let i = 0; i < n; i++) count += keep[i];
    if (count === 0) return null;
    if (count < n) {
      const idx = new Uint32Array(count);
      for (let i = 0, j = 0; i < n; i++) if (keep[i]) idx[j++] = i;
      full = takeRows(full, idx);
    }
  }
  return full.select(columns.map((c) => c.name));
}

/** The rows of `snapshot`, file by file, as record batches with the table's Arrow schema (or the chosen columns). */
export function scanSnapshot(storage: Storage, snapshot: Snapshot, opts: ScanOptions = {}): AsyncGenerator<arrow.RecordBatch> {
  return scanFiles(storage, snapshot, selectFiles(snapshot, opts.where), opts);
}

/** The rows of the given data files, read as `snapshot` reads them (schema, partition values, deletion vectors). */
export async function* scanFiles(storage: Storage, snapshot: Snapshot, files: Iterable<Add>, opts: ScanOptions = {}): AsyncGenerator<arrow.RecordBatch> {
  const bound = bind(snapshot, opts.where);
  const schema = snapshot.schema;
  const columns = (opts.columns ?? schema.fields.map((f) => f.name)).map((name) => {
    const f = schema.fields.find((x) => x.name === name) ?? schema.fields.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!f) throw new InvalidArgumentError(`${snapshot.table}: scan column '${name}' is not in the table schema`);
    return f;
  });
  const outSchema = new arrow.Schema(columns.map((f) => new arrow.Field(f.name, toArrowType(f.type), f.nullable)));
  for (const add of files) {
    const t = await readFile(storage, snapshot, add, bound, columns);
    if (!t) continue;
    for (const b of t.batches) yield new arrow.RecordBatch(outSchema, b.data);
  }
}

/** Every batch of a scan gathered into one table. */
export async function collectScan(batches: AsyncIterable<arrow.RecordBatch>, schema?: arrow.Schema): Promise<arrow.Table> {
  const all: arrow.RecordBatch[] = [];
  for await (const b of batches) all.push(b);
  if (all.length === 0) return schema ? new arrow.Table(schema) : new arrow.Table();
  return new arrow.Table(all);
}
