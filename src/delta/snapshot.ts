// Loads the table state of one version: lists _delta_log, picks the newest readable checkpoint, replays the
// commits after it. A stale, missing or corrupt _last_checkpoint cannot mislead it: the listing decides, and a
// checkpoint that fails to read is skipped for an older one (or a full replay). snapshot-advance.ts moves a loaded
// snapshot forward by the commits after it instead.

import type { Storage } from './engine/storage.js';
import type { Action, Add, Metadata, Protocol, Txn, CommitInfo } from './kernel/actions.js';
import { parseCommit } from './kernel/actions.js';
import { classifyLogFiles, selectSegment, type LogFile, type LogListing, type CheckpointCandidate } from './kernel/log-segment.js';
import { applyActions, emptyState, requireComplete } from './kernel/replay.js';
import { advanceState, type FrozenState, type LogCommit } from './kernel/advance.js';
import { parseSchema, type StructType } from './kernel/schema.js';
import { checkReadable, columnMappingMode } from './kernel/features.js';
import { decodeCheckpoint } from './engine/checkpoint-parquet.js';
import { NotFoundError } from '../errors.js';

export const LOG_DIR = '_delta_log';

/** A commit as read from the log, with its file's size and time (null when the file vanished after the read). */
export interface ReadCommit extends LogCommit {
  file: LogFile | null;
}

/** One version of a table. Immutable: advancing it (advancedBy) makes a new snapshot that shares its maps. */
export class Snapshot {
  private parsedSchema: StructType | null = null;

  constructor(
    readonly table: string,
    readonly version: number,
    readonly protocol: Protocol,
    readonly metadata: Metadata,
    private readonly state: FrozenState,
    /** When this version was committed (ms since the epoch), as readers agree on it. */
    readonly timestamp: number,
    /**
     * The commit file of this version as it was read (null if unknown): a later advance checks that it is still the
     * same file, and reloads from scratch when the log was deleted or rewritten underneath.
     */
    readonly tip: LogFile | null = null,
  ) {}

  get schema(): StructType {
    this.parsedSchema ??= parseSchema(this.metadata.schemaString, `${this.table}: metaData.schemaString`);
    return this.parsedSchema;
  }

  get partitionColumns(): string[] {
    return this.metadata.partitionColumns;
  }

  get columnMappingMode(): 'none' | 'name' | 'id' {
    return columnMappingMode(this.metadata);
  }

  /** Live data files. */
  files(): Add[] {
    return [...this.state.files.values()];
  }

  /** Live files keyed by canonical file key (decoded path + deletion vector). */
  fileMap(): ReadonlyMap<string, Add> {
    return this.state.files;
  }

  /** Removed files. Ones past delta.deletedFileRetentionDuration may be among them: filter by deletionTimestamp. */
  tombstones(): FrozenState['tombstones'] {
    return this.state.tombstones;
  }

  /** The last version committed by an idempotent writer, or undefined when it never committed. */
  txnVersion(appId: string): number | undefined {
    return this.state.txns.get(appId)?.version;
  }

  txns(): Txn[] {
    return [...this.state.txns.values()];
  }

  domainMetadata(): FrozenState['domains'] {
    return this.state.domains;
  }

  /** Total rows in live files, from stats; null when some file has none. */
  numRecords(): number | null {
    let n = 0;
    for (const f of this.state.files.values()) {
      if (!f.stats) return null;
      try {
        const s = JSON.parse(f.stats) as { numRecords?: number };
        if (typeof s.numRecords !== 'number') return null;
        n += s.numRecords - (f.deletionVector?.cardinality ?? 0);
      } catch {
        return null;
      }
    }
    return n;
  }

  /**
   * This snapshot moved forward by `commits`, the versions right after it, in order; this one is left as it was.
   * Tombstones deleted at or before `tombstoneExpiry(metadata)` may be dropped from memory.
   */
  advancedBy(commits: ReadCommit[], tombstoneExpiry: (metadata: Metadata) => number): Snapshot {
    if (commits.length === 0) return this;
    const next = advanceState({ ...this.state, version: this.version, protocol: this.protocol, metadata: this.metadata }, commits, tombstoneExpiry, this.table);
    checkReadable(next.protocol, this.table);
    const last = commits[commits.length - 1];
    // As commitTimestamps does for a listing: file times forced to increase, unless the commit has an in-commit timestamp.
    let timestamp = this.timestamp;
    for (const c of commits) timestamp = Math.max(c.file?.modificationTime ?? 0, timestamp + 1);
    const ict = inCommitTimestamp(last.actions);
    return new Snapshot(this.table, next.version, next.protocol, next.metadata, next, ict ?? timestamp, last.file);
  }
}

function inCommitTimestamp(actions: Action[]): number | undefined {
  const info = actions.find((a): a is { commitInfo: CommitInfo } => 'commitInfo' in a)?.commitInfo;
  return typeof info?.inCommitTimestamp === 'number' ? info.inCommitTimestamp : undefined;
}

export async function listLog(storage: Storage, fromVersion = 0): Promise<LogListing> {
  return classifyLogFiles(await storage.list(LOG_DIR, fromVersion > 0 ? String(fromVersion).padStart(20, '0') : ''));
}

/**
 * The version _last_checkpoint names, if the file exists and makes sense. Only a hint for where to start listing:
 * the listing itself decides, so a stale, missing or corrupt _last_checkpoint costs time, never correctness.
 */
export async function lastCheckpointHint(storage: Storage): Promise<number | null> {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(await storage.read(`${LOG_DIR}/_last_checkpoint`))) as { version?: unknown };
    return typeof parsed.version === 'number' && Number.isInteger(parsed.version) && parsed.version >= 0 ? parsed.version : null;
  } catch {
    return null;
  }
}

export async function readCommit(storage: Storage, version: number, listing?: LogListing): Promise<Action[]> {
  const path = listing?.commits.get(version)?.path ?? `${LOG_DIR}/${String(version).padStart(20, '0')}.json`;
  const bytes = await storage.read(path);
  return parseCommit(new TextDecoder().decode(bytes), `${storage.root}/${path}`);
}

async function readCheckpoint(storage: Storage, cp: CheckpointCandidate): Promise<Action[]> {
  const actions: Action[] = [];
  for (const part of cp.parts) {
    const where = `${storage.root}/${part.path}`;
    const bytes = await storage.read(part.path);
    const partActions = part.path.endsWith('.json') ? parseCommit(new TextDecoder().decode(bytes), where) : decodeCheckpoint(bytes, where);
    for (const a of partActions) {
      if ('sidecar' in a) {
        // v2 checkpoints keep their file actions in sidecar files under _delta_log/_sidecars/.
        const sidecarPath = `${LOG_DIR}/_sidecars/${decodeURIComponent(String(a.sidecar.path))}`;
        actions.push(...decodeCheckpoint(await storage.read(sidecarPath), `${storage.root}/${sidecarPath}`));
      } else actions.push(a);
    }
  }
  return actions;
}

/**
 * The commit timestamp of each version, as Delta readers agree on it: the commit file's modification time, forced to
 * increase (Spark's rule), or the in-commit timestamp when that feature is on.
 */
export function commitTimestamps(listing: LogListing): Map<number, number> {
  const versions = [...listing.commits.keys()].sort((a, b) => a - b);
  const out = new Map<number, number>();
  let prev = -Infinity;
  for (const v of versions) {
    const t = Math.max(listing.commits.get(v)!.modificationTime, prev + 1);
    out.set(v, t);
    prev = t;
  }
  return out;
}

export interface LoadOptions {
  version?: number;
  /** Reuse a listing taken a moment ago. */
  listing?: LogListing;
}

export async function loadSnapshot(storage: Storage, opts: LoadOptions = {}): Promise<Snapshot> {
  let listing = opts.listing;
  if (!listing) {
    const hint = await lastCheckpointHint(storage);
    if (hint !== null && (opts.version === undefined || opts.version >= hint)) {
      const partial = await listLog(storage, hint);
      // Trust the short listing only if the hinted checkpoint is really there; otherwise list everything.
      if (partial.checkpoints.some((c) => c.version === hint)) listing = partial;
    }
    listing ??= await listLog(storage);
  }
  return loadFromListing(storage, listing, opts.version, opts.listing === undefined);
}

async function loadFromListing(storage: Storage, initial: LogListing, version: number | undefined, mayRelist: boolean): Promise<Snapshot> {
  const where = storage.root;
  let listing = initial;
  const skipped = new Set<number>();
  for (;;) {
    let segment;
    try {
      segment = selectSegment(listing, where, version, skipped);
    } catch (e) {
      // A short listing from _last_checkpoint whose checkpoint proved unreadable: retry with the whole log.
      if (!mayRelist) throw e;
      mayRelist = false;
      listing = await listLog(storage);
      continue;
    }
    const state = emptyState();
    if (segment.checkpoint) {
      let actions: Action[];
      try {
        actions = await readCheckpoint(storage, segment.checkpoint);
      } catch {
        // A checkpoint a crash left half-written, or one that vanished: fall back to an older start. If none is
        // left, selectSegment reports that the log cannot reach the version.
        skipped.add(segment.checkpoint.version);
        continue;
      }
      applyActions(state, actions, segment.checkpoint.version);
    }
    let ict: number | undefined;
    for (const c of segment.commits) {
      const actions = await readCommit(storage, c.version, listing);
      applyActions(state, actions, c.version);
      if (c.version === segment.version) ict = inCommitTimestamp(actions);
    }
    state.version = segment.version;
    const { protocol, metadata } = requireComplete(state, where);
    checkReadable(protocol, where);
    const timestamp = ict ?? commitTimestamps(listing).get(segment.version) ?? listing.checkpoints.find((c) => c.version === segment.version)?.parts[0].modificationTime ?? 0;
    return new Snapshot(where, segment.version, protocol, metadata, state, timestamp, listing.commits.get(segment.version) ?? null);
  }
}

/** The version that was current at `timestampMs`: the latest commit at or before it. */
export function versionAtTimestamp(listing: LogListing, timestampMs: number, where: string): number {
  const times = commitTimestamps(listing);
  let best = -1;
  let earliest = Infinity;
  for (const [v, t] of times) {
    earliest = Math.min(earliest, t);
    if (t <= timestampMs && v > best) best = v;
  }
  if (best < 0) {
    throw new NotFoundError(
      `${where}: no version at or before ${new Date(timestampMs).toISOString()}; the earliest available commit is at ${
        Number.isFinite(earliest) ? new Date(earliest).toISOString() : 'none'
      }`,
    );
  }
  return best;
}
