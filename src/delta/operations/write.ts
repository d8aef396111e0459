// One write transaction: append, overwrite, or replaceWhere, each a single atomic commit. Data files are written
// first (unique names, invisible until committed); the commit then adds them and removes what they replace. It
// starts from the caller's snapshot and hands back the snapshot after its commit, so a writer never replays the log.

import type * as arrow from 'apache-arrow';
import type { Storage } from '../engine/storage.js';
import type { ParquetEncoderPool, ParquetWriteOptions } from '../engine/parquet.js';
import type { Action, Add, Remove } from '../kernel/actions.js';
import { checkWritable } from '../kernel/features.js';
import { bindPredicate, evalOnPartitionValues, evalOnRows, formatPredicate, mayMatchFile, parsePredicate, type Predicate, type BoundPredicate } from '../kernel/predicate.js';
import { canonicalFileKey } from '../kernel/replay.js';
import type { TransactionFootprint } from '../kernel/conflict.js';
import { conformToSchema, toTable, type WriteInput } from '../write/conform.js';
import { writeDataFiles } from '../write/data-files.js';
import { commit, type CommitResult } from '../commit.js';
import { Snapshot } from '../snapshot.js';
import { tombstoneExpiry } from '../snapshot-advance.js';
import { takeRows } from '../arrow/columns.js';
import { writeCheckpoint } from './checkpoint.js';
import { logger } from '../../log.js';
import { scanSnapshot, collectScan } from '../scan.js';
import { PredicateViolationError, InvalidArgumentError } from '../../errors.js';

export interface WriteOptions {
  /** append (default) or overwrite; with `replaceWhere`, only matching rows are replaced. */
  mode?: 'append' | 'overwrite';
  /** Overwrite only rows matching this predicate; every written row must match it. */
  replaceWhere?: Predicate | string;
  /** Add new nullable columns found in the data to the table schema. */
  mergeSchema?: boolean;
  /** Idempotent write: skipped when the table already holds this appId at this version or later. */
  txn?: { appId: string; version: number };
  /** Sort rows within each data file, e.g. ['sensor_id', 'ts']. */
  sortBy?: string[];
  targetFileRows?: number;
  parquet?: ParquetWriteOptions;
  /** Free-form metadata recorded in commitInfo.userMetadata. */
  userMetadata?: string;
  maxRetries?: number;
  /**
   * Write the checkpoint the table's delta.checkpointInterval asks for when this commit lands on it (default true).
   * False for a writer that checkpoints on its own schedule (live ingest), so its commits never wait for one.
   */
  autoCheckpoint?: boolean;
}

export interface WriteResult {
  /** The committed version, or null when the txn was already committed and nothing was written. */
  version: number | null;
  skipped: boolean;
  filesAdded: number;
  filesRemoved: number;
  rowsWritten: number;
  bytesWritten: number;
}

function removeOf(add: Add, now: number, dataChange = true): Remove {
  return {
    path: add.path,
    deletionTimestamp: now,
    dataChange,
    extendedFileMetadata: true,
    partitionValues: add.partitionValues,
    size: add.size,
    ...(add.stats ? { stats: add.stats } : {}),
    ...(add.tags ? { tags: add.tags } : {}),
    ...(add.deletionVector ? { deletionVector: add.deletionVector } : {}),
  };
}

interface Replacement {
  removes: Remove[];
  /** Rows of partly matching files that must survive, rewritten into new files. */
  survivors: arrow.Table[];
  readFiles: Set<string>;
}

/** Finds what a replaceWhere replaces: whole files where the predicate surely holds, rewritten survivors elsewhere. */
async function planReplacement(storage: Storage, snapshot: Snapshot, bound: BoundPredicate, now: number): Promise<Replacement> {
  const out: Replacement = { removes: [], survivors: [], readFiles: new Set() };
  for (const add of snapshot.files()) {
    if (!mayMatchFile(bound, add)) continue;
    out.readFiles.add(canonicalFileKey(add.path, add.deletionVector));
    out.removes.push(removeOf(add, now));
    if (evalOnPartitionValues(bound, add.partitionValues) === true) continue;
    // A file the predicate cuts through: rows that do not match (nulls included) survive in a new file.
    const rows = await collectScan(scanSnapshot(storage, snapshotOfOne(snapshot, add)));
    const matches = evalOnRows(bound, rows, add.partitionValues);
    const keep: number[] = [];
    for (let i = 0; i < matches.length; i++) if (!matches[i]) keep.push(i);
    if (keep.length > 0) out.survivors.push(takeRows(rows, Uint32Array.from(keep)));
  }
  return out;
}

/** A view of `snapshot` holding only one file, to read that file through the normal scan path. */
function snapshotOfOne(snapshot: Snapshot, add: Add): Snapshot {
  const state = {
    version: snapshot.version,
    protocol: snapshot.protocol,
    metadata: snapshot.metadata,
    files: new Map([[canonicalFileKey(add.path, add.deletionVector), add]]),
    tombstones: new Map(),
    txns: new Map(),
    domains: new Map(),
  };
  return new Snapshot(snapshot.table, snapshot.version, snapshot.protocol, snapshot.metadata, state, snapshot.timestamp);
}

/** Every delta.checkpointInterval commits (default 10), a checkpoint keeps log replay short for fresh readers. */
export async function maybeCheckpoint(storage: Storage, after: Snapshot, enabled = true): Promise<void> {
  const interval = Number(after.metadata.configuration['delta.checkpointInterval'] ?? 10);
  if (!enabled || !(interval > 0) || after.version % interval !== 0) return;
  // The commit is already durable; a failed checkpoint only costs readers a longer replay, so it must not fail the write.
  try {
    await writeCheckpoint(storage, after);
  } catch (e) {
    logger.warn({ err: e, table: storage.root, version: after.version }, 'checkpoint failed; the commit stands');
  }
}

/** The snapshot after a commit: `before` advanced by the winners the commit loop read and by our own commit. */
export function snapshotAfter(before: Snapshot, result: CommitResult): Snapshot {
  const commits = result.version === null ? result.winners : [...result.winners, result.committed];
  return before.advancedBy(commits, (m) => tombstoneExpiry(m));
}

export interface Written<R> {
  result: R;
  /** The table after the write: the commit's version, or the latest seen when nothing was committed. */
  snapshot: Snapshot;
}

/** What a write takes: Arrow data in memory, or a stream of pieces written as they come and committed once. */
export type WriteData = WriteInput | AsyncIterable<arrow.Table | arrow.RecordBatch>;

async function* pieces(data: WriteData): AsyncGenerator<WriteInput> {
  if (Symbol.asyncIterator in data) yield* data;
  else if (Array.isArray(data) && data.length === 0) return;
  else yield data;
}

export async function writeTable(storage: Storage, pool: ParquetEncoderPool, snapshot: Snapshot, data: WriteData, opts: WriteOptions = {}): Promise<Written<WriteResult>> {
  const where = storage.root;
  const mode = opts.mode ?? 'append';
  const kind = opts.replaceWhere !== undefined ? 'replaceWhere' : mode;
  if (opts.replaceWhere !== undefined && mode !== 'overwrite') {
    throw new InvalidArgumentError(`${where}: replaceWhere needs mode 'overwrite'`);
  }
  checkWritable(snapshot.protocol, snapshot.metadata, kind, where);
  const skip: WriteResult = { version: null, skipped: true, filesAdded: 0, filesRemoved: 0, rowsWritten: 0, bytesWritten: 0 };
  if (opts.txn) {
    const done = snapshot.txnVersion(opts.txn.appId);
    if (done !== undefined && done >= opts.txn.version) return { result: skip, snapshot };
  }
  const now = Date.now();
  let removes: Remove[] = [];
  let survivors: arrow.Table[] = [];
  let readFiles = new Set<string>();
  let predicateText: string | undefined;
  let bound: BoundPredicate | null = null;
  if (kind === 'replaceWhere') {
    const predicate = typeof opts.replaceWhere === 'string' ? parsePredicate(opts.replaceWhere) : opts.replaceWhere!;
    bound = bindPredicate(predicate, snapshot.schema);
    predicateText = formatPredicate(predicate);
    ({ removes, survivors, readFiles } = await planReplacement(storage, snapshot, bound, now));
  } else if (mode === 'overwrite') {
    for (const add of snapshot.files()) {
      removes.push(removeOf(add, now));
      readFiles.add(canonicalFileKey(add.path, add.deletionVector));
    }
  }

  const fileOpts = {
    partitionColumns: snapshot.partitionColumns,
    sortBy: opts.sortBy,
    targetFileRows: opts.targetFileRows,
    numIndexedCols: Number(snapshot.metadata.configuration['delta.dataSkippingNumIndexedCols'] ?? 32),
    parquet: opts.parquet,
  };
  // Pieces are conformed, checked and written one at a time, so a stream larger than memory still lands in one
  // commit. Files of a write that fails midway are never committed: invisible to readers, and vacuum removes them.
  let schema = snapshot.schema;
  const added: string[] = [];
  const adds: Add[] = [];
  let rows = 0;
  let bytes = 0;
  for await (const piece of pieces(data)) {
    const input = toTable(piece);
    if (input.numRows === 0) continue;
    const conformed = conformToSchema(input, schema, { mergeSchema: opts.mergeSchema ?? false, table: where });
    schema = conformed.schema;
    added.push(...conformed.added);
    if (bound) {
      const mask = evalOnRows(bound, conformed.table);
      let bad = 0;
      let first = -1;
      for (let i = 0; i < mask.length; i++) {
        if (!mask[i]) {
          bad++;
          if (first < 0) first = rows + i;
        }
      }
      if (bad > 0) {
        throw new PredicateViolationError(
          `${where}: replaceWhere ${predicateText}: ${bad} written row(s) fall outside the predicate (first at row ${first}); nothing was committed`,
        );
      }
    }
    const written = await writeDataFiles(storage, pool, conformed.table, conformed.schema, fileOpts);
    adds.push(...written.adds);
    rows += written.rows;
    bytes += written.bytes;
  }
  for (const s of survivors) {
    const sc = conformToSchema(s, schema, { mergeSchema: false, table: where });
    adds.push(...(await writeDataFiles(storage, pool, sc.table, sc.schema, fileOpts)).adds);
  }

  const actions: Action[] = [];
  const schemaChanged = added.length > 0;
  if (schemaChanged) {
    actions.push({ metaData: { ...snapshot.metadata, schemaString: JSON.stringify(schema) } });
  }
  if (opts.txn) actions.push({ txn: { appId: opts.txn.appId, version: opts.txn.version, lastUpdated: now } });
  for (const r of removes) actions.push({ remove: r });
  for (const a of adds) actions.push({ add: a });

  const footprint: TransactionFootprint = {
    table: where,
    readVersion: snapshot.version,
    isBlindAppend: kind === 'append' && !schemaChanged,
    readPredicate: kind === 'append' ? 'none' : kind === 'overwrite' ? 'all' : bound!,
    readFiles,
    removedFiles: new Set(removes.map((r) => canonicalFileKey(r.path, r.deletionVector))),
    txnAppIds: new Set(opts.txn ? [opts.txn.appId] : []),
    changesMetadata: schemaChanged,
  };
  const operationParameters: Record<string, unknown> = {
    mode: mode === 'append' ? 'Append' : 'Overwrite',
    partitionBy: JSON.stringify(snapshot.partitionColumns),
  };
  if (predicateText !== undefined) operationParameters.predicate = JSON.stringify([predicateText]);
  const result = await commit(storage, {
    footprint,
    actions,
    txn: opts.txn,
    maxRetries: opts.maxRetries,
    commitInfo: {
      operation: 'WRITE',
      operationParameters,
      isBlindAppend: footprint.isBlindAppend,
      operationMetrics: {
        numFiles: String(adds.length),
        numOutputRows: String(rows),
        numOutputBytes: String(bytes),
        numRemovedFiles: String(removes.length),
      },
      ...(opts.userMetadata !== undefined ? { userMetadata: opts.userMetadata } : {}),
    },
  });
  const after = snapshotAfter(snapshot, result);
  if (result.version === null) return { result: skip, snapshot: after };
  await maybeCheckpoint(storage, after, opts.autoCheckpoint ?? true);
  return {
    result: { version: result.version, skipped: false, filesAdded: adds.length, filesRemoved: removes.length, rowsWritten: rows, bytesWritten: bytes },
    snapshot: after,
  };
}
