// Conflict rules for optimistic concurrency, in the order Spark's ConflictChecker applies them (delta-rs mirrors
// it). Pure: given what our transaction read and wrote, and the actions of each commit that won the race,
// decide whether our commit may still go in at a later version.

import type { Action } from './actions.js';
import { canonicalFileKey } from './replay.js';
import type { BoundPredicate } from './predicate.js';
import { mayMatchFile } from './predicate.js';
import { ConflictError } from '../../errors.js';

export interface TransactionFootprint {
  /** The table this transaction is for, for messages. */
  table: string;
  readVersion: number;
  /** Only adds files, read nothing: concurrent appends cannot affect it. */
  isBlindAppend: boolean;
  /** Rows the transaction depends on: 'all' for an overwrite, a predicate for replaceWhere, 'none' for a blind append. */
  readPredicate: BoundPredicate | 'all' | 'none';
  /** Canonical keys of files read (and removed) by the transaction. */
  readFiles: ReadonlySet<string>;
  /** Canonical keys of files the transaction removes. */
  removedFiles: ReadonlySet<string>;
  /** appIds the transaction writes txn actions for. */
  txnAppIds: ReadonlySet<string>;
  changesMetadata: boolean;
  /**
   * False when none of the transaction's file actions changes data (compaction: removes and adds with
   * dataChange=false). Absent means true.
   */
  dataChange?: boolean;
}

/** Throws ConflictError naming the rule and the winning version when `winner` invalidates our transaction. */
export function checkConflict(ours: TransactionFootprint, winner: Action[], winnerVersion: number): void {
  const where = `${ours.table}: concurrent commit ${winnerVersion} (ours read version ${ours.readVersion})`;
  for (const a of winner) {
    if ('protocol' in a) throw new ConflictError(`${where} changed the protocol`);
  }
  for (const a of winner) {
    if ('metaData' in a) throw new ConflictError(`${where} changed the table metadata`);
  }
  if (ours.changesMetadata) {
    // A metadata change (schema evolution, create) reads the whole table's shape: any data change conflicts.
    for (const a of winner) {
      if (('add' in a && a.add.dataChange) || ('remove' in a && a.remove.dataChange)) {
        throw new ConflictError(`${where} changed data while we changed the table metadata`);
      }
    }
  }
  // A transaction that changes no data runs at snapshot isolation, as in Spark (OptimisticTransaction's
  // getIsolationLevelToUse picks SnapshotIsolation when every file action has dataChange=false, and the
  // ConflictChecker then checks no concurrently added files; delta-rs does the same). The reason: a compaction
  // rewrites rows it read without changing them, so rows a concurrent append adds, even into the partitions it
  // compacts, are neither lost nor duplicated; the new files stay live beside the compacted ones. What can break it
  // is a winner removing a file it compacted (checked below) or changing protocol or metadata (checked above).
  const snapshotIsolation = ours.dataChange === false;
  if (!ours.isBlindAppend && ours.readPredicate !== 'none' && !snapshotIsolation) {
    for (const a of winner) {
      if (!('add' in a) || !a.add.dataChange) continue;
      if (ours.readPredicate === 'all' || mayMatchFile(ours.readPredicate, a.add)) {
        throw new ConflictError(`${where} added file ${a.add.path}, which matches what we read`);
      }
    }
  }
  for (const a of winner) {
    if (!('remove' in a)) continue;
    const key = canonicalFileKey(a.remove.path, a.remove.deletionVector);
    if (ours.removedFiles.has(key)) {
      throw new ConflictError(`${where} also removed file ${a.remove.path}`);
    }
    if (ours.readFiles.has(key)) {
      throw new ConflictError(`${where} removed file ${a.remove.path}, which we read`);
    }
  }
  for (const a of winner) {
    if ('txn' in a && ours.txnAppIds.has(a.txn.appId)) {
      throw new ConflictError(`${where} wrote a transaction for appId '${a.txn.appId}' too`);
    }
  }
}
