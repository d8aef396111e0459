// Turns conformed Arrow data into Parquet data files and their `add` actions: splits rows by partition values,
// optionally sorts each partition, cuts files to a row target, computes stats, encodes on worker threads.

import * as arrow from 'apache-arrow';
import { randomUUID } from 'node:crypto';
import type { Add } from '../kernel/actions.js';
import type { StructType, PrimitiveType } from '../kernel/schema.js';
import { struct } from '../kernel/schema.js';
import { partitionDirectory, encodeAddPath, serializePartitionValue } from '../kernel/partition-values.js';
import { computeStats, statsJson } from '../kernel/stats.js';
import type { Storage } from '../engine/storage.js';
import type { ParquetEncoderPool, ParquetWriteOptions } from '../engine/parquet.js';
import { takeRows, rawAccessor, identity } from '../arrow/columns.js';
import { sortIndices } from '../arrow/sort.js';

export interface DataFileOptions {
  partitionColumns: string[];
  /** Sort rows inside each file by these columns (ascending, nulls first), e.g. ['sensor_id', 'ts']. */
  sortBy?: string[];
  /** Rows per data file at most. */
  targetFileRows?: number;
  numIndexedCols?: number;
  parquet?: ParquetWriteOptions;
  /** Defaults to true; compaction writes with false. */
  dataChange?: boolean;
}

interface Group {
  values: Record<string, string | null>;
  rows: number[] | null;
  /** When the group's rows are one contiguous run, a zero-copy slice is enough. */
  start: number;
  end: number;
}

function groupByPartition(table: arrow.Table, schema: StructType, partitionColumns: string[]): Group[] {
  if (partitionColumns.length === 0) return [{ values: {}, rows: null, start: 0, end: table.numRows }];
  const accessors = partitionColumns.map((c) => rawAccessor(table.getChild(c)!));
  const types = partitionColumns.map((c) => schema.fields.find((f) => f.name === c)!.type as PrimitiveType);
  const groups = new Map<string, Group>();
  const order: Group[] = [];
  let lastKey: unknown = Symbol('none');
  let last: Group | null = null;
  for (let i = 0; i < table.numRows; i++) {
    const key = accessors.length === 1 ? accessors[0](i) : accessors.map((a) => String(a(i))).join('\u0000');
    if (last !== null && key === lastKey) {
      if (last.rows) last.rows.push(i);
      else if (last.end === i) last.end = i + 1;
      else {
        last.rows = [];
        for (let r = last.start; r < last.end; r++) last.rows.push(r);
        last.rows.push(i);
      }
      continue;
    }
    const mapKey = typeof key === 'bigint' ? `b${key}` : typeof key === 'string' ? `s${key}` : `${key}`;
    let g = groups.get(mapKey);
    if (!g) {
      const values: Record<string, string | null> = {};
      partitionColumns.forEach((c, k) => (values[c] = serializePartitionValue(accessors[k](i), types[k])));
      g = { values, rows: null, start: i, end: i + 1 };
      groups.set(mapKey, g);
      order.push(g);
    } else if (g.rows) g.rows.push(i);
    else if (g.end === i) g.end = i + 1;
    else {
      g.rows = [];
      for (let r = g.start; r < g.end; r++) g.rows.push(r);
      g.rows.push(i);
    }
    lastKey = key;
    last = g;
  }
  return order;
}

function dropColumns(table: arrow.Table, drop: string[]): arrow.Table {
  if (drop.length === 0) return table;
  return table.select(table.schema.fields.map((f) => f.name).filter((n) => !drop.includes(n)));
}

export interface WrittenFiles {
  adds: Add[];
  rows: number;
  bytes: number;
}

export async function writeDataFiles(
  storage: Storage,
  pool: ParquetEncoderPool,
  table: arrow.Table,
  schema: StructType,
  opts: DataFileOptions,
): Promise<WrittenFiles> {
  const target = opts.targetFileRows ?? 2_000_000;
  const dataSchema = struct(schema.fields.filter((f) => !opts.partitionColumns.includes(f.name)));
  const jobs: Promise<Add>[] = [];
  let rows = 0;
  for (const g of groupByPartition(table, schema, opts.partitionColumns)) {
    let part = g.rows ? takeRows(table, Uint32Array.from(g.rows)) : table.slice(g.start, g.end);
    part = dropColumns(part, opts.partitionColumns);
    if (opts.sortBy && opts.sortBy.length > 0) {
      const idx = sortIndices(part, opts.sortBy);
      if (idx) part = takeRows(part, idx);
    }
    const dir = partitionDirectory(opts.partitionColumns, g.values);
    for (let start = 0; start < part.numRows; start += target) {
      const chunk = part.numRows <= target ? part : part.slice(start, Math.min(part.numRows, start + target));
      rows += chunk.numRows;
      jobs.push(writeOne(storage, pool, chunk, dataSchema, g.values, dir, opts));
    }
  }
  const adds = await Promise.all(jobs);
  return { adds, rows, bytes: adds.reduce((s, a) => s + a.size, 0) };
}

async function writeOne(
  storage: Storage,
  pool: ParquetEncoderPool,
  chunk: arrow.Table,
  dataSchema: StructType,
  partitionValues: Record<string, string | null>,
  dir: string,
  opts: DataFileOptions,
): Promise<Add> {
  const stats = statsJson(computeStats(chunk, dataSchema, { numIndexedCols: opts.numIndexedCols }));
  const bytes = await pool.encode(chunk, opts.parquet);
  const codec = opts.parquet?.compression ?? 'zstd';
  const name = `part-00000-${randomUUID()}-c000.${codec === 'uncompressed' ? '' : codec + '.'}parquet`;
  const rel = dir === '' ? name : `${dir}/${name}`;
  const meta = await storage.write(rel, bytes);
  return {
    path: encodeAddPath(rel),
    partitionValues,
    size: meta.size,
    modificationTime: meta.modificationTime,
    dataChange: opts.dataChange ?? true,
    stats,
  };
}

export { identity };
