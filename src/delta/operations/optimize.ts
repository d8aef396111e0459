// OPTIMIZE (compaction), as Spark's OPTIMIZE and delta-rs optimize.compact() do it: bin-packs each partition's small
// files into files of about the target size, rewrites each bin sorted, and commits removes and adds with
// dataChange=false, so readers see the same rows and streaming readers see no change.

import * as arrow from 'apache-arrow';
import type { Storage } from '../engine/storage.js';
import type { ParquetEncoderPool, ParquetWriteOptions } from '../engine/parquet.js';
import type { Action, Add, Remove } from '../kernel/actions.js';
import { checkWritable } from '../kernel/features.js';
import { bindPredicate, evalOnPartitionValues, formatPredicate, parsePredicate, type BoundPredicate, type Predicate } from '../kernel/predicate.js';
import { canonicalFileKey, emptyState } from '../kernel/replay.js';
import { decodeAddPath } from '../kernel/partition-values.js';
import { parseStats } from '../kernel/stats.js';
import type { TransactionFootprint } from '../kernel/conflict.js';
import { conformToSchema } from '../write/conform.js';
import { writeDataFiles, type WrittenFiles } from '../write/data-files.js';
import { commit } from '../commit.js';
import { Snapshot } from '../snapshot.js';
import { scanSnapshot, collectScan } from '../scan.js';
import { takeRanges, takeVector, withSchema } from '../arrow/columns.js';
import { sortIndices } from '../arrow/sort.js';
import { maybeCheckpoint, snapshotAfter, type Written } from './write.js';
import { logger } from '../../log.js';
import { CommitVersionTakenError, ConflictError, CorruptLogError, InvalidArgumentError } from '../../errors.js';

export interface OptimizeOptions {
  /** Compact only partitions matching this predicate, which may name partition columns only: "date = '2024-01-01'". */
  where?: Predicate | string;
  /** Size of the files to produce, in bytes. Default 128 MiB. */
  targetFileBytes?: number;
  /**
   * Files at or above this size are left as they are. Default 0.75 × targetFileBytes: rewriting a file that is
   * already three quarters of the target gains little and costs a full rewrite (write amplification).
   */
  minFileBytes?: number;
  /**
   * Rows per new file at most, and so per bin: a bin is sorted in memory, at roughly 150 bytes per row at peak for
   * sensor readings. Default 2,000,000 (as the write path's files), which keeps peak RSS well under 1 GiB; for narrow,
   * well-compressed tables it, not targetFileBytes, sets the file size (2 M readings are ~6-10 MB of Parquet).
   */
  maxRowsPerFile?: number;
  /** Row order inside each new file. Default ['sensor_id', 'ts'] when the table has both as data columns, else none. */
  sortBy?: string[];
  parquet?: ParquetWriteOptions;
  maxRetries?: number;
  /** Write the checkpoint delta.checkpointInterval asks for when the commit lands on it (default true). */
  autoCheckpoint?: boolean;
}

export interface OptimizeResult {
  /** The committed version, or null when there was nothing to compact (no commit is made). */
  version: number | null;
  filesAdded: number;
  filesRemoved: number;
  /** Partitions in which at least one bin was rewritten. */
  partitionsOptimized: number;
  /** Bytes of the files compacted (removed). */
  bytesBefore: number;
  /** Bytes of the files that replace them. */
  bytesAfter: number;
  /** Bins rewritten; each bin of small files becomes one file (more only if the inputs' bytes per row mislead). */
  numBatches: number;
  rowsRewritten: number;
}

export const DEFAULT_TARGET_FILE_BYTES = 128 * 1024 * 1024;
export const DEFAULT_MAX_ROWS_PER_FILE = 2_000_000;

export interface Bin {
  partition: string;
  files: Add[];
  bytes: number;
  rows: number;
}

function statRows(f: Add): number | null {
  const n = parseStats(f.stats)?.numRecords;
  return typeof n === 'number' ? n : null;
}

/** Rows of each file: from its stats, else estimated from its size at the table's bytes per row (8 if unknown). */
function rowsOf(files: Add[]): Map<Add, number> {
  let bytes = 0;
  let rows = 0;
  for (const f of files) {
    const n = statRows(f);
    if (n !== null) {
      bytes += f.size;
      rows += n;
    }
  }
  const perRow = rows > 0 ? bytes / rows : 8;
  return new Map(files.map((f) => [f, statRows(f) ?? Math.ceil(f.size / perRow)]));
}

/**
 * The compaction plan: per partition, files below minFileBytes, in log order (for time-series appends that keeps
 * neighbouring times together), packed greedily into bins of at most targetFileBytes and maxRows. A bin of one file
 * is dropped: rewriting a file alone merges nothing (delta-rs and Spark drop such bins too), and it keeps a second
 * run a no-op.
 */
export function planBins(files: Add[], partitionColumns: string[], targetFileBytes: number, minFileBytes: number, maxRows = Infinity): Bin[] {
  const rows = rowsOf(files);
  const byPartition = new Map<string, Add[]>();
  for (const f of files) {
    if (f.size >= minFileBytes) continue;
    const key = JSON.stringify(partitionColumns.map((c) => f.partitionValues[c] ?? null));
    let list = byPartition.get(key);
    if (!list) byPartition.set(key, (list = []));
    list.push(f);
  }
  const bins: Bin[] = [];
  for (const [partition, list] of byPartition) {
    let bin: Bin = { partition, files: [], bytes: 0, rows: 0 };
    const close = (): void => {
      if (bin.files.length > 1) bins.push(bin);
      bin = { partition, files: [], bytes: 0, rows: 0 };
    };
    for (const f of list) {
      const n = rows.get(f)!;
      if (bin.files.length > 0 && (bin.bytes + f.size > targetFileBytes || bin.rows + n > maxRows)) close();
      bin.files.push(f);
      bin.bytes += f.size;
      bin.rows += n;
    }
    close();
  }
  return bins;
}

/** A view of `snapshot` holding only `files`, to read them through the normal scan path. */
function snapshotOf(snapshot: Snapshot, files: Add[]): Snapshot {
  const state = emptyState();
  state.version = snapshot.version;
  state.protocol = snapshot.protocol;
  state.metadata = snapshot.metadata;
  for (const f of files) state.files.set(canonicalFileKey(f.path, f.deletionVector), f);
  return new Snapshot(snapshot.table, snapshot.version, snapshot.protocol, snapshot.metadata, state, snapshot.timestamp);
}

interface Ranked {
  /** Per row: the rank of its value among the distinct values (JS string order), -1 for null. */
  ranks: Int32Array;
  /** The distinct values, in rank order. */
  values: string[];
}

/**
 * A string column as ranks in the order sortIndices uses (nulls first). Rows are keyed by a hash of their raw bytes,
 * checked byte for byte, never decoded one by one: a bin holds millions of rows but few distinct sensor ids.
 */
function rankStrings(v: arrow.Vector<arrow.Utf8>): Ranked {
  const d = v.data[0];
  const vo = d.valueOffsets;
  const bytes = d.values;
  const byHash = new Map<number, number[]>();
  const firstRow: number[] = [];
  const ranks = new Int32Array(d.length);
  const same = (a: number, b: number): boolean => {
    const len = vo[a + 1] - vo[a];
    if (vo[b + 1] - vo[b] !== len) return false;
    for (let k = 0; k < len; k++) if (bytes[vo[a] + k] !== bytes[vo[b] + k]) return false;
    return true;
  };
  const nullable = d.nullCount > 0;
  for (let i = 0; i < d.length; i++) {
    if (nullable && !d.getValid(i)) {
      ranks[i] = -1;
      continue;
    }
    let h = 0x811c9dc5; // FNV-1a
    for (let k = vo[i]; k < vo[i + 1]; k++) h = Math.imul(h ^ bytes[k], 0x01000193);
    let ids = byHash.get(h);
    if (!ids) byHash.set(h, (ids = []));
    let id = ids.find((x) => same(firstRow[x], i));
    if (id === undefined) {
      id = firstRow.length;
      firstRow.push(i);
      ids.push(id);
    }
    ranks[i] = id;
  }
  const order = firstRow.map((r, id) => ({ id, s: v.get(r)! })).sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0));
  const rankOf = new Int32Array(order.length);
  order.forEach((o, r) => (rankOf[o.id] = r));
  for (let i = 0; i < ranks.length; i++) if (ranks[i] >= 0) ranks[i] = rankOf[ranks[i]];
  return { ranks, values: order.map((o) => o.s) };
}

const DICT_UTF8 = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());

/** A ranked string column, rows in `idx` order, as dictionary strings (the encoder writes them dictionary-encoded). */
function dictionaryColumn(r: Ranked, idx: Uint32Array | null): arrow.Vector {
  const n = r.ranks.length;
  const keys = new Int32Array(n);
  let nulls = 0;
  for (let i = 0; i < n; i++) if ((keys[i] = r.ranks[idx ? idx[i] : i]) < 0) nulls++;
  let nullBitmap: Uint8Array | undefined;
  if (nulls > 0) {
    nullBitmap = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      if (keys[i] >= 0) nullBitmap[i >> 3] |= 1 << (i & 7);
      else keys[i] = 0;
    }
  }
  const dictionary = arrow.vectorFromArray(r.values, new arrow.Utf8());
  return arrow.makeVector(arrow.makeData({ type: DICT_UTF8, length: n, nullCount: nulls, nullBitmap, data: keys, dictionary }));
}

/**
 * `rows` (one chunk per input file) as one chunk in sortBy order, ready for writeDataFiles. The sort runs on cheap
 * keys (string columns as ranks, fixed-width columns straight from one chunk); sorted string keys are emitted as
 * dictionary columns, which skips copying millions of short strings.
 */
function sortBin(rows: arrow.Table, sortBy: string[]): arrow.Table {
  const flat = takeRanges(rows, [0, rows.numRows]);
  if (sortBy.length === 0) return flat;
  const keys: Record<string, arrow.Vector> = {};
  const ranked = new Map<string, Ranked>();
  for (const c of sortBy) {
    const v = flat.getChild(c)!;
    if (arrow.DataType.isUtf8(v.type)) {
      const r = rankStrings(v as arrow.Vector<arrow.Utf8>);
      ranked.set(c, r);
      keys[c] = arrow.makeVector(r.ranks);
    } else keys[c] = v;
  }
  const idx = sortIndices(new arrow.Table(keys), sortBy);
  const fields = flat.schema.fields.map((f) => (ranked.has(f.name) ? new arrow.Field(f.name, DICT_UTF8, f.nullable) : f));
  const columns: Record<string, arrow.Vector> = {};
  for (const f of flat.schema.fields) {
    const r = ranked.get(f.name);
    columns[f.name] = r ? dictionaryColumn(r, idx) : idx ? takeVector(flat.getChild(f.name)!, idx) : flat.getChild(f.name)!;
  }
  return withSchema(new arrow.Schema(fields), columns);
}

function removeOf(add: Add, now: number): Remove {
  return {
    path: add.path,
    deletionTimestamp: now,
    dataChange: false,
    extendedFileMetadata: true,
    partitionValues: add.partitionValues,
    size: add.size,
    ...(add.stats ? { stats: add.stats } : {}),
    ...(add.tags ? { tags: add.tags } : {}),
  };
}

function positive(v: number, name: string, where: string): number {
  if (!Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`${where}: optimize ${name} must be a positive number of bytes, got ${v}`);
  return v;
}

function boundWhere(snapshot: Snapshot, where: OptimizeOptions['where']): BoundPredicate | null {
  if (where === undefined) return null;
  const bound = bindPredicate(typeof where === 'string' ? parsePredicate(where) : where, snapshot.schema);
  const other = bound.columns.filter((c) => !snapshot.partitionColumns.includes(c));
  if (other.length > 0) {
    // Spark refuses these too: compaction rewrites whole files, and a data-column predicate cuts through them.
    throw new InvalidArgumentError(
      `${snapshot.table}: optimize where may use partition columns only (${snapshot.partitionColumns.join(', ') || 'the table has none'}); '${other.join("', '")}' is not one`,
    );
  }
  return bound;
}

function defaultSortBy(snapshot: Snapshot, given: string[] | undefined): string[] {
  const data = snapshot.schema.fields.map((f) => f.name).filter((n) => !snapshot.partitionColumns.includes(n));
  if (given === undefined) return ['sensor_id', 'ts'].every((c) => data.includes(c)) ? ['sensor_id', 'ts'] : [];
  const missing = given.filter((c) => !data.includes(c));
  if (missing.length > 0) throw new InvalidArgumentError(`${snapshot.table}: optimize sortBy column(s) '${missing.join("', '")}' are not data columns of the table`);
  return given;
}

async function deleteFiles(storage: Storage, adds: Add[]): Promise<void> {
  for (const a of adds) {
    const d = decodeAddPath(a.path);
    if ('relative' in d) await storage.delete(d.relative).catch((e: unknown) => logger.warn({ err: e, file: d.relative }, 'could not delete an uncommitted file'));
  }
}

export async function optimize(storage: Storage, pool: ParquetEncoderPool, snapshot: Snapshot, opts: OptimizeOptions = {}): Promise<Written<OptimizeResult>> {
  const where = storage.root;
  checkWritable(snapshot.protocol, snapshot.metadata, 'compact', where);
  const target = positive(opts.targetFileBytes ?? DEFAULT_TARGET_FILE_BYTES, 'targetFileBytes', where);
  const minFileBytes = positive(opts.minFileBytes ?? Math.floor(target * 0.75), 'minFileBytes', where);
  const bound = boundWhere(snapshot, opts.where);
  const sortBy = defaultSortBy(snapshot, opts.sortBy);
  const selected = bound ? snapshot.files().filter((f) => evalOnPartitionValues(bound, f.partitionValues) === true) : snapshot.files();
  const maxRows = positive(opts.maxRowsPerFile ?? DEFAULT_MAX_ROWS_PER_FILE, 'maxRowsPerFile', where);
  const bins = planBins(selected, snapshot.partitionColumns, target, minFileBytes, maxRows);
  const result: OptimizeResult = { version: null, filesAdded: 0, filesRemoved: 0, partitionsOptimized: 0, bytesBefore: 0, bytesAfter: 0, numBatches: 0, rowsRewritten: 0 };
  if (bins.length === 0) return { result, snapshot };

  const schema = snapshot.schema;
  const fileOpts = {
    partitionColumns: snapshot.partitionColumns,
    numIndexedCols: Number(snapshot.metadata.configuration['delta.dataSkippingNumIndexedCols'] ?? 32),
    parquet: opts.parquet,
    dataChange: false,
  };
  const adds: Add[] = [];
  // One bin is read while the previous one is sorted and encoded: at most two bins' rows are in memory, and the
  // main thread decodes while the workers encode.
  let pending: Promise<WrittenFiles> | null = null;
  let pendingRows = 0;
  const settle = async (): Promise<void> => {
    if (!pending) return;
    const w = await pending;
    pending = null;
    adds.push(...w.adds);
    if (w.rows !== pendingRows) throw new CorruptLogError(`${where}: optimize read ${pendingRows} rows of a bin but wrote ${w.rows}`);
    result.rowsRewritten += w.rows;
  };
  try {
    for (const bin of bins) {
      const rows: arrow.Table = await collectScan(scanSnapshot(storage, snapshotOf(snapshot, bin.files)));
      const expected = bin.files.every((f) => statRows(f) !== null) ? bin.rows : null;
      if (expected !== null && expected !== rows.numRows) {
        throw new CorruptLogError(`${where}: optimize read ${rows.numRows} rows from ${bin.files.length} files whose stats say ${expected}`);
      }
      await settle();
      if (rows.numRows === 0) continue; // files without rows are removed and replaced by nothing
      // Rows per file from the inputs' bytes per row, so output files come out near the target size.
      const targetFileRows = Math.min(maxRows, Math.max(1, Math.round((target * rows.numRows) / Math.max(1, bin.bytes))));
      const conformed = conformToSchema(rows, schema, { mergeSchema: false, table: where });
      pendingRows = rows.numRows;
      pending = writeDataFiles(storage, pool, sortBin(conformed.table, sortBy), schema, { ...fileOpts, targetFileRows });
      pending.catch(() => undefined); // awaited by settle(); a rejection before that is not unhandled
    }
    await settle();
  } catch (e) {
    await pending?.then((w) => adds.push(...w.adds), () => undefined);
    await deleteFiles(storage, adds);
    throw e;
  }

  const now = Date.now();
  const removed = bins.flatMap((b) => b.files);
  const actions: Action[] = [...removed.map((f) => ({ remove: removeOf(f, now) })), ...adds.map((a) => ({ add: a }))];
  const keys = new Set(removed.map((f) => canonicalFileKey(f.path, f.deletionVector)));
  // The footprint of a dataChange=false rewrite: it read exactly the files it compacts, under the partition predicate.
  // conflict.ts runs it at snapshot isolation, as Spark does: concurrent appends do not conflict, a concurrent
  // remove of a compacted file (replaceWhere, delete, another OPTIMIZE) does.
  const footprint: TransactionFootprint = {
    table: where,
    readVersion: snapshot.version,
    isBlindAppend: false,
    readPredicate: bound ?? 'all',
    readFiles: keys,
    removedFiles: keys,
    txnAppIds: new Set(),
    changesMetadata: false,
    dataChange: false,
  };
  result.filesRemoved = removed.length;
  result.filesAdded = adds.length;
  result.bytesBefore = removed.reduce((s, f) => s + f.size, 0);
  result.bytesAfter = adds.reduce((s, a) => s + a.size, 0);
  result.numBatches = bins.length;
  result.partitionsOptimized = new Set(bins.map((b) => b.partition)).size;
  let committed;
  try {
    committed = await commit(storage, {
      footprint,
      actions,
      maxRetries: opts.maxRetries,
      commitInfo: {
        operation: 'OPTIMIZE',
        operationParameters: { predicate: JSON.stringify(bound ? [formatPredicate(bound.predicate)] : []), targetSize: String(target) },
        isBlindAppend: false,
        operationMetrics: {
          numRemovedFiles: String(result.filesRemoved),
          numAddedFiles: String(result.filesAdded),
          numRemovedBytes: String(result.bytesBefore),
          numAddedBytes: String(result.bytesAfter),
          numBatches: String(result.numBatches),
          totalConsideredFiles: String(selected.length),
          totalFilesSkipped: String(selected.length - removed.length),
        },
      },
    });
  } catch (e) {
    // These two mean no attempt was committed, so the new files are garbage nobody can reference.
    if (e instanceof ConflictError || e instanceof CommitVersionTakenError) await deleteFiles(storage, adds);
    throw e;
  }
  result.version = committed.version;
  const after = snapshotAfter(snapshot, committed);
  if (committed.version !== null) await maybeCheckpoint(storage, after, opts.autoCheckpoint ?? true);
  return { result, snapshot: after };
}
