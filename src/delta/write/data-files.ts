// Turns conformed Arrow data into Parquet data files and their `add` actions: splits rows by partition values,
// optionally sorts each partition, cuts files to a row target, computes stats, encodes on worker threads.

import * as arrow from 'apache-arrow';
import { randomUUID } from 'node:crypto';
import type { Add } from '../kernel/actions.js';
import type { StructType, PrimitiveType } from '../kernel/schema.js';
import { struct } from '../kernel/schema.js';
import { partitionDirectory, encodeAddPath, serializePartitionValue, cellReader, type PartitionLiteral } from '../kernel/partition-values.js';
import { computeStats, statsJson } from '../kernel/stats.js';
import type { Storage } from '../engine/storage.js';
import type { ParquetEncoderPool, ParquetWriteOptions } from '../engine/parquet.js';
import { readFooterStats, footerBounds } from '../engine/parquet-footer.js';
import { takeRows, takeRanges, identity } from '../arrow/columns.js';
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
  /** The group's rows as [start, end) pairs in row order; one pair when they are contiguous (a zero-copy slice). */
  runs: number[];
  rows: number;
}

function addRun(g: Group, start: number, end: number): void {
  if (end <= start) return;
  const last = g.runs.length - 1;
  if (last > 0 && g.runs[last] === start) g.runs[last] = end;
  else g.runs.push(start, end);
  g.rows += end - start;
}

/** Whether a partition column chunk can be grouped by comparing raw typed-array values. */
function rawKeyed(d: arrow.Data): boolean {
  const t = d.type as arrow.DataType;
  return d.nullCount === 0 && (arrow.DataType.isInt(t) || (arrow.DataType.isDate(t) && t.unit === arrow.DateUnit.DAY) || arrow.DataType.isTimestamp(t));
}

/**
 * Rows grouped by partition values, groups in order of first appearance. Work is per run of equal keys, not per
 * row: a value is read and serialised only where the key changes, so time-ordered data costs one pass of compares.
 */
function groupByPartition(table: arrow.Table, schema: StructType, partitionColumns: string[]): Group[] {
  const n = table.numRows;
  if (partitionColumns.length === 0) return [{ values: {}, runs: [0, n], rows: n }];
  const types = partitionColumns.map((c) => schema.fields.find((f) => f.name === c)!.type as PrimitiveType);
  const groups = new Map<string, Group>();
  const order: Group[] = [];
  let current: Group | null = null;
  let runStart = 0;
  // Groups are keyed by their serialised values, so equal partitions meet in one group whatever the raw form.
  const switchTo = (row: number, literals: PartitionLiteral[]): void => {
    if (current) addRun(current, runStart, row);
    const values: Record<string, string | null> = {};
    partitionColumns.forEach((c, k) => (values[c] = serializePartitionValue(literals[k], types[k])));
    const key = JSON.stringify(partitionColumns.map((c) => values[c]));
    let g = groups.get(key);
    if (!g) {
      g = { values, runs: [], rows: 0 };
      groups.set(key, g);
      order.push(g);
    }
    current = g;
    runStart = row;
  };
  let base = 0;
  let prev: unknown[] | null = null;
  for (const batch of table.batches) {
    const len = batch.numRows;
    const datas = partitionColumns.map((c) => batch.getChild(c)!.data[0] as arrow.Data);
    const readers = datas.map((d, k) => cellReader(d, types[k]));
    if (datas.length === 1 && rawKeyed(datas[0])) {
      const values = datas[0].values as unknown as ArrayLike<number | bigint>;
      let i = 0;
      while (i < len) {
        const key = values[i];
        if (prev === null || prev[0] !== key) {
          switchTo(base + i, [readers[0](i)]);
          prev = [key];
        }
        let j = i + 1;
        while (j < len && values[j] === key) j++;
        i = j;
      }
    } else {
      for (let i = 0; i < len; i++) {
        const lits = readers.map((r) => r(i));
        if (prev === null || lits.some((v, k) => v !== prev![k])) {
          switchTo(base + i, lits);
          prev = lits;
        }
      }
    }
    base += len;
  }
  if (current) addRun(current, runStart, n);
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
  // Encodes run on the workers while this thread prepares the next file; one file waits ready beyond those being
  // encoded, so a worker never idles and at most pool + 1 files' buffers are held.
  const inFlight = new Set<Promise<unknown>>();
  const limit = pool.concurrency + 1;
  let failed = false; // after a failure no further file is started; Promise.all below reports the error
  let rows = 0;
  const data = dropColumns(table, opts.partitionColumns); // before any rows are copied, so these are not
  const groups = groupByPartition(table, schema, opts.partitionColumns);
  pool.warm(groups.reduce((n, g) => n + Math.ceil(g.rows / target), 0));
  for (const g of groups) {
    if (failed) break;
    const r = g.runs;
    let part = r.length === 2 ? data.slice(r[0], r[1]) : takeRanges(data, r);
    if (opts.sortBy && opts.sortBy.length > 0) {
      const idx = sortIndices(part, opts.sortBy);
      if (idx) part = takeRows(part, idx);
    }
    const dir = partitionDirectory(opts.partitionColumns, g.values);
    for (let start = 0; start < part.numRows; start += target) {
      const chunk = part.numRows <= target ? part : part.slice(start, Math.min(part.numRows, start + target));
      rows += chunk.numRows;
      while (inFlight.size >= limit) await Promise.race(inFlight);
      if (failed) break;
      const job = writeOne(storage, pool, chunk, dataSchema, g.values, dir, opts);
      const settled: Promise<void> = job.then(
        () => void inFlight.delete(settled),
        () => {
          failed = true;
          inFlight.delete(settled);
        },
      );
      inFlight.add(settled);
      jobs.push(job);
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
  // The rows' stats come from the footer of the encoded file: arrow-rs computed min, max and null counts while
  // encoding, so this thread does not scan the rows again (it scans only columns the footer cannot vouch for).
  const bytes = await pool.encode(chunk, opts.parquet);
  const footer = readFooterStats(bytes);
  const stats = statsJson(
    computeStats(chunk, dataSchema, {
      numIndexedCols: opts.numIndexedCols,
      knownBounds: footer ? (column, kind, chunks) => footerBounds(footer, column, kind, chunks) : undefined,
    }),
  );
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
