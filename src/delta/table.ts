// The public face of the Delta engine: every capability is one call on DeltaTable. Features (backfill, ingest,
// CLI) use only this module; the kernel and engine files behind it are internal.

import * as arrow from 'apache-arrow';
import type { Storage } from './engine/storage.js';
import { LocalStorage } from './engine/local-storage.js';
import { ParquetEncoderPool } from './engine/parquet.js';
import { fromArrowSchema, type StructType } from './kernel/schema.js';
import { loadSnapshot, listLog, versionAtTimestamp, Snapshot } from './snapshot.js';
import { createTable, type CreateOptions } from './operations/create.js';
import { writeTable, type WriteData, type WriteOptions, type WriteResult } from './operations/write.js';
import { writeCheckpoint, type CheckpointResult } from './operations/checkpoint.js';
import { vacuum, type VacuumOptions, type VacuumResult } from './operations/vacuum.js';
import { readHistory, type HistoryEntry } from './operations/history.js';
import { optimize, type OptimizeOptions, type OptimizeResult } from './operations/optimize.js';
import { scanSnapshot, collectScan, selectFiles, type ScanOptions } from './scan.js';
import { toArrowSchema } from './kernel/schema.js';
import type { WriteInput } from './write/conform.js';
import { InvalidArgumentError } from '../errors.js';

export type { WriteOptions, WriteResult, CheckpointResult, VacuumOptions, VacuumResult, HistoryEntry, ScanOptions, WriteInput, WriteData };
export type { OptimizeOptions, OptimizeResult };
export { Snapshot };
export type { StructType, StructField, DataType, PrimitiveType } from './kernel/schema.js';
export { field, struct } from './kernel/schema.js';
export type { Predicate } from './kernel/predicate.js';

/** Which version to read: a version number, or the version current at a time. */
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
  private constructor(readonly storage: Storage) {}

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
    await loadSnapshot(storage);
    return new DeltaTable(storage);
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
    return loadSnapshot(this.storage, { version: at.version });
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
    return writeTable(this.storage, defaultPool(), data, opts);
  }

  /** Rows as Arrow record batches, pruned by partition values and stats, filtered exactly by `where`. */
  async *scan(opts: ScanOptions & VersionSelector = {}): AsyncGenerator<arrow.RecordBatch> {
    const snap = await this.snapshot(opts);
    yield* scanSnapshot(this.storage, snap, opts);
  }

  /** A whole scan as one Arrow table. */
  async read(opts: ScanOptions & VersionSelector = {}): Promise<arrow.Table> {
    const snap = await this.snapshot(opts);
    const schema = toArrowSchema(snap.schema);
    const out = opts.columns ? new arrow.Schema(opts.columns.map((c) => schema.fields.find((f) => f.name === c)!).filter(Boolean)) : schema;
    return collectScan(scanSnapshot(this.storage, snap, opts), out);
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

  /** commitInfo of each available commit, newest first. */
  async history(limit?: number): Promise<HistoryEntry[]> {
    return readHistory(this.storage, limit);
  }

  /** Writes a checkpoint of the latest version. */
  async checkpoint(): Promise<CheckpointResult> {
    return writeCheckpoint(this.storage, await this.snapshot());
  }

  /**
   * Compacts small files (OPTIMIZE): per partition, bins of small files are rewritten sorted into files of about
   * targetFileBytes, committed with dataChange=false. Concurrent appends never make it fail; a concurrent removal
   * of a file it compacts does (ConflictError). Returns version null when there was nothing to compact.
   */
  async optimize(opts: OptimizeOptions = {}): Promise<OptimizeResult> {
    return optimize(this.storage, defaultPool(), opts);
  }

  /** Deletes files no longer referenced within the retention period (7 days by default). */
  async vacuum(opts: VacuumOptions = {}): Promise<VacuumResult> {
    return vacuum(this.storage, await this.snapshot(), opts);
  }
}
