// The public face of the Delta engine: every capability is one call on DeltaTable. Features (backfill, ingest,
// CLI) use only this module; the kernel and engine files behind it are internal. A DeltaTable keeps the latest
// snapshot it loaded or committed and moves it forward by the commits after it, so a long-lived writer (live
// ingest, a commit a second) never replays the log from its last checkpoint.

import * as arrow from 'apache-arrow';
import type { Storage } from './engine/storage.js';
import { LocalStorage } from './engine/local-storage.js';
import { ParquetEncoderPool } from './engine/parquet.js';
import { fromArrowSchema, type StructType } from './kernel/schema.js';
import { loadSnapshot, listLog, readCommit, versionAtTimestamp, Snapshot } from './snapshot.js';
import { advanceSnapshot } from './snapshot-advance.js';
import { createTable, type CreateOptions } from './operations/create.js';
import { writeTable, type WriteData, type WriteOptions, type WriteResult } from './operations/write.js';
import { writeCheckpoint, type CheckpointResult } from './operations/checkpoint.js';
import { vacuum, type VacuumOptions, type VacuumResult } from './operations/vacuum.js';
import { readHistory, type HistoryEntry } from './operations/history.js';
import { optimize, type OptimizeOptions, type OptimizeResult } from './operations/optimize.js';
import { scanSnapshot, scanFiles, collectScan, scanSchema, selectFiles, type ScanOptions } from './scan.js';
import type { Add } from './kernel/actions.js';
import type { WriteInput } from './write/conform.js';
import { InvalidArgumentError } from '../errors.js';

export type { WriteOptions, WriteResult, CheckpointResult, VacuumOptions, VacuumResult, HistoryEntry, ScanOptions, WriteInput, WriteData };
export type { OptimizeOptions, OptimizeResult };
export { Snapshot };
export type { StructType, StructField, DataType, PrimitiveType } from './kernel/schema.js';
export { field, struct } from './kernel/schema.js';
export type { Predicate } from './kernel/predicate.js';

/** Which version to read: a version number, or the version current at a time. */
/** One commit's txns and the rows it added; see DeltaTable.commitChanges. */
export interface CommitChanges {
  version: number;
  txns: Map<string, number>;
  /** Data files the commit added with dataChange. */
  files: number;
  scan(): AsyncGenerator<arrow.RecordBatch>;
}

export interface VersionSelector {
  version?: number;
  timestamp?: Date | string | number;
}

export interface TableCreateOptions extends Omit<CreateOptions, 'schema'> {
  /** A Delta schema, or an Arrow schema to derive it from. */
  schema: StructType | arrow.Schema;
}

let sharedPool: ParquetEncoderPool | null = null;
function defaultPool(): ParquetEncoderPool {
  sharedPool ??= new ParquetEncoderPool();
  return sharedPool;
}

/** Stops the shared Parquet encoder workers (they never hold the process open; this frees them early). */
export async function shutdownWorkers(): Promise<void> {
  const p = sharedPool;
  sharedPool = null;
  await p?.close();
}

export class DeltaTable {
  /** The newest snapshot this instance has seen: where the next read or write starts. */
  private cached: Snapshot | null;

  private constructor(
    readonly storage: Storage,
    cached: Snapshot | null = null,
  ) {
    this.cached = cached;
  }

  get location(): string {
    return this.storage.root;
  }

  /** Creates a new table at `location`; fails if one exists. */
  static async create(location: string | Storage, opts: TableCreateOptions): Promise<DeltaTable> {
    const storage = typeof location === 'string' ? new LocalStorage(location) : location;
    const schema = opts.schema instanceof arrow.Schema ? fromArrowSchema(opts.schema) : opts.schema;
    await createTable(storage, { ...opts, schema });
    return new DeltaTable(storage);
  }

  /** Opens an existing table (its latest snapshot is checked now, so a missing or unreadable table fails here). */
  static async open(location: string | Storage): Promise<DeltaTable> {
    const storage = typeof location === 'string' ? new LocalStorage(location) : location;
    return new DeltaTable(storage, await loadSnapshot(storage));
  }

  /** The table state at the latest version, a given version, or the version current at a timestamp. */
  async snapshot(at: VersionSelector = {}): Promise<Snapshot> {
    if (at.version !== undefined && at.timestamp !== undefined) {
      throw new InvalidArgumentError(`${this.location}: give a version or a timestamp, not both`);
    }
    if (at.timestamp !== undefined) {
      const ms = at.timestamp instanceof Date ? at.timestamp.getTime() : typeof at.timestamp === 'number' ? at.timestamp : Date.parse(at.timestamp);
      if (Number.isNaN(ms)) throw new InvalidArgumentError(`${this.location}: '${String(at.timestamp)}' is not a timestamp`);
      const listing = await listLog(this.storage);
      return loadSnapshot(this.storage, { version: versionAtTimestamp(listing, ms, this.location), listing });
    }
    if (at.version !== undefined && (this.cached === null || at.version < this.cached.version)) return loadSnapshot(this.storage, { version: at.version });
    return this.advance(at.version);
  }

  /** The cached snapshot moved to `version` (the latest when undefined), which then becomes the cache. */
  private async advance(version?: number): Promise<Snapshot> {
    const from = this.cached;
    const snap = from ? await advanceSnapshot(this.storage, from, version) : await loadSnapshot(this.storage, { version });
    this.keep(snap, from);
    return snap;
  }

  /**
   * Caches `snap`, derived from `from`, unless a concurrent call cached a newer one meanwhile. When nothing else was
   * cached it wins even if older: the log was rewritten underneath and `snap` is a fresh load of what is there now.
   */
  private keep(snap: Snapshot, from: Snapshot | null): void {
    if (this.cached === from || snap.version >= (this.cached?.version ?? -1)) this.cached = snap;
  }

  async version(): Promise<number> {
    return (await this.snapshot()).version;
  }

  /**
   * Writes Arrow data as one atomic commit: append (default), overwrite, or overwrite with replaceWhere. `data` may
   * be an async stream of tables or batches, written piece by piece in bounded memory and committed once. A write
   * of no rows still commits (its txn, its removes), so an idempotent job can mark an empty step done.
   */
  async write(data: WriteData, opts: WriteOptions = {}): Promise<WriteResult> {
    const from = await this.advance();
    const { result, snapshot } = await writeTable(this.storage, defaultPool(), from, data, opts);
    this.keep(snapshot, from);
    return result;
  }

  /** Rows as Arrow record batches, pruned by partition values and stats, filtered exactly by `where`. */
  async *scan(opts: ScanOptions & VersionSelector = {}): AsyncGenerator<arrow.RecordBatch> {
    const snap = await this.snapshot(opts);
    yield* scanSnapshot(this.storage, snap, opts);
  }

  /** A whole scan as one Arrow table. */
  async read(opts: ScanOptions & VersionSelector = {}): Promise<arrow.Table> {
    const snap = await this.snapshot(opts);
    return collectScan(scanSnapshot(this.storage, snap, opts), scanSchema(snap, opts));
  }

  /** Paths of the data files a scan with `where` would read, for handing to another engine (e.g. DuckDB). */
  async files(opts: Pick<ScanOptions, 'where'> & VersionSelector = {}): Promise<string[]> {
    const snap = await this.snapshot(opts);
    return selectFiles(snap, opts.where).map((f) => f.path);
  }

  /** The last version committed under `appId` (Delta txn), as of the chosen snapshot. */
  async txnVersion(appId: string, at: VersionSelector = {}): Promise<number | undefined> {
    return (await this.snapshot(at)).txnVersion(appId);
  }

  /**
   * What one commit did: the txns it carried, and a scan of the rows its data files added (adds with dataChange, so an
   * OPTIMIZE rewrite yields nothing), read with the table's latest schema. For followers of a table, such as live
   * anomaly checks reading each micro-batch once.
   */
  async commitChanges(version: number, opts: ScanOptions = {}): Promise<CommitChanges> {
    const actions = await readCommit(this.storage, version);
    const txns = new Map<string, number>();
    const adds: Add[] = [];
    for (const a of actions) {
      if ('txn' in a) txns.set(a.txn.appId, a.txn.version);
      else if ('add' in a && a.add.dataChange) adds.push(a.add);
    }
    const snap = await this.snapshot();
    if (snap.version < version) throw new InvalidArgumentError(`${this.location}: version ${version} is newer than the table's ${snap.version}`);
    return { version, txns, files: adds.length, scan: () => scanFiles(this.storage, snap, adds, opts) };
  }

  /** commitInfo of each available commit, newest first. */
  async history(limit?: number): Promise<HistoryEntry[]> {
    return readHistory(this.storage, limit);
  }

  /** Writes a checkpoint of the latest version (for a writer that passes autoCheckpoint: false, on its own schedule). */
  async checkpoint(): Promise<CheckpointResult> {
    return writeCheckpoint(this.storage, await this.advance());
  }

  /**
   * Compacts small files (OPTIMIZE): per partition, bins of small files are rewritten sorted into files of about
   * targetFileBytes, committed with dataChange=false. Concurrent appends never make it fail; a concurrent removal
   * of a file it compacts does (ConflictError). Returns version null when there was nothing to compact.
   */
  async optimize(opts: OptimizeOptions = {}): Promise<OptimizeResult> {
    const from = await this.advance();
    const { result, snapshot } = await optimize(this.storage, defaultPool(), from, opts);
    this.keep(snapshot, from);
    return result;
  }

  /** Deletes files no longer referenced within the retention period (7 days by default). */
  async vacuum(opts: VacuumOptions = {}): Promise<VacuumResult> {
    return vacuum(this.storage, await this.advance(), opts);
  }
}
