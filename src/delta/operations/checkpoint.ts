// Writes a classic checkpoint of a snapshot: one Parquet file of its reconciled actions, then _last_checkpoint.
// The Parquet file appears atomically (temp + rename), so a crash leaves either no checkpoint or a whole one.

import type { Storage } from '../engine/storage.js';
import type { Action } from '../kernel/actions.js';
import { checkpointFileName } from '../kernel/actions.js';
import { encodeCheckpoint } from '../engine/checkpoint-parquet.js';
import { LOG_DIR, type Snapshot } from '../snapshot.js';
import { retentionMs } from './retention.js';

export interface CheckpointResult {
  version: number;
  /** Actions in the checkpoint. */
  size: number;
  sizeInBytes: number;
  numOfAddFiles: number;
}

export async function writeCheckpoint(storage: Storage, snapshot: Snapshot, now = Date.now()): Promise<CheckpointResult> {
  const expiry = now - retentionMs(snapshot.metadata.configuration, 'delta.deletedFileRetentionDuration', 7 * 24 * 3600_000);
  const actions: Action[] = [{ protocol: snapshot.protocol }, { metaData: snapshot.metadata }];
  for (const txn of snapshot.txns()) actions.push({ txn });
  for (const d of snapshot.domainMetadata().values()) actions.push({ domainMetadata: d });
  const adds = snapshot.files();
  for (const add of adds) actions.push({ add });
  // Tombstones stay until their retention passes, so VACUUM and concurrent readers still see them.
  for (const remove of snapshot.tombstones().values()) {
    if ((remove.deletionTimestamp ?? 0) > expiry) actions.push({ remove });
  }
  const bytes = encodeCheckpoint(actions);
  await storage.write(`${LOG_DIR}/${checkpointFileName(snapshot.version)}`, bytes);
  const result: CheckpointResult = { version: snapshot.version, size: actions.length, sizeInBytes: bytes.length, numOfAddFiles: adds.length };
  await storage.write(`${LOG_DIR}/_last_checkpoint`, new TextEncoder().encode(JSON.stringify(result)));
  return result;
}
