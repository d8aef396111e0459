// Advances a table state by the commits after its version, sharing everything they leave unchanged: the pure half
// of an incremental snapshot (delta-kernel-rs Snapshot::try_new_from, delta-rs update_incremental). Applying the
// JSON commits in order is what a load does after a checkpoint, so the result equals a fresh load; a checkpoint
// written meanwhile changes nothing. Only tombstones differ: expired ones may linger until the next fold.

import type { Action, Add, DomainMetadata, Metadata, Protocol, Remove, Txn } from './actions.js';
import { LayeredMap } from './layered-map.js';
import { applyActions, requireComplete, type MapWriter, type ReplayTarget } from './replay.js';
import { CorruptLogError } from '../../errors.js';

/** What a snapshot holds: maps nobody mutates, so snapshots can share them. */
export interface FrozenState {
  /** Live files by canonical key (decoded path + deletion vector). */
  files: ReadonlyMap<string, Add>;
  /** Removed files; ones past delta.deletedFileRetentionDuration may still be here (readers filter by time). */
  tombstones: ReadonlyMap<string, Remove>;
  txns: ReadonlyMap<string, Txn>;
  domains: ReadonlyMap<string, DomainMetadata>;
}

export interface VersionedState extends FrozenState {
  version: number;
  protocol: Protocol;
  metadata: Metadata;
}

/** One commit file's actions. */
export interface LogCommit {
  version: number;
  actions: Action[];
}

/** Records what replay does to a layered map as one layer of changes. */
class ChangeSet<V> implements MapWriter<V> {
  readonly changes = new Map<string, V | undefined>();
  constructor(private readonly prior: LayeredMap<V>) {}
  set(key: string, value: V): void {
    this.changes.set(key, value);
  }
  delete(key: string): void {
    // Every add deletes its key from the tombstones: record it only when there is something to delete.
    if (this.changes.has(key) || this.prior.has(key)) this.changes.set(key, undefined);
  }
}

/** A small map (txns, domains) copied on its first change. */
class CopyOnWrite<V> implements MapWriter<V> {
  private copy: Map<string, V> | null = null;
  constructor(private readonly prior: ReadonlyMap<string, V>) {}
  set(key: string, value: V): void {
    (this.copy ??= new Map(this.prior)).set(key, value);
  }
  delete(key: string): void {
    if ((this.copy ?? this.prior).has(key)) (this.copy ??= new Map(this.prior)).delete(key);
  }
  get result(): ReadonlyMap<string, V> {
    return this.copy ?? this.prior;
  }
}

/**
 * `prev` advanced by `commits`, which must be the versions right after it, in order. Tombstones deleted at or before
 * `tombstoneExpiry(metadata after the commits)` (ms since the epoch) may be dropped when their map is folded, as a
 * checkpoint written now would drop them.
 */
export function advanceState(prev: VersionedState, commits: LogCommit[], tombstoneExpiry: (metadata: Metadata) => number, where: string): VersionedState {
  if (commits.length === 0) return prev;
  const files = new ChangeSet(LayeredMap.of(prev.files));
  const tombstones = new ChangeSet(LayeredMap.of(prev.tombstones));
  const txns = new CopyOnWrite(prev.txns);
  const domains = new CopyOnWrite(prev.domains);
  const target: ReplayTarget = { version: prev.version, protocol: prev.protocol, metadata: prev.metadata, files, tombstones, txns, domains };
  for (const c of commits) {
    if (c.version !== target.version + 1) {
      throw new CorruptLogError(`${where}: cannot advance version ${target.version} by commit ${c.version}; commits must follow one another`);
    }
    applyActions(target, c.actions, c.version);
  }
  const { protocol, metadata } = requireComplete(target, where);
  const expiry = tombstoneExpiry(metadata);
  return {
    version: target.version,
    protocol,
    metadata,
    files: LayeredMap.of(prev.files).with(files.changes),
    tombstones: LayeredMap.of(prev.tombstones).with(tombstones.changes, (r) => (r.deletionTimestamp ?? 0) > expiry),
    txns: txns.result,
    domains: domains.result,
  };
}
