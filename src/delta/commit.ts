// Commits a transaction's actions at the next free version: create-if-absent on the commit file, and on losing
// the race, read each winning commit, apply the conflict rules, and retry at the version after it (bounded).

import type { Storage } from './engine/storage.js';
import type { Action, CommitInfo } from './kernel/actions.js';
import { commitFileName, serializeCommit } from './kernel/actions.js';
import { checkConflict, type TransactionFootprint } from './kernel/conflict.js';
import { LOG_DIR, listLog, readCommit } from './snapshot.js';
import { latestVersion } from './kernel/log-segment.js';
import { CommitVersionTakenError } from '../errors.js';

export const ENGINE_INFO = 'sensorlake/0.1.0';

export interface CommitRequest {
  footprint: TransactionFootprint;
  /** Every action but commitInfo. */
  actions: Action[];
  commitInfo: Omit<CommitInfo, 'timestamp' | 'readVersion' | 'engineInfo'>;
  /** For idempotent writes: the txn this commit carries, to detect that a winner already did our work. */
  txn?: { appId: string; version: number };
  maxRetries?: number;
}

export type CommitResult = { version: number; attempts: number } | { alreadyCommitted: true; version: null; attempts: number };

export async function commit(storage: Storage, req: CommitRequest): Promise<CommitResult> {
  const maxRetries = req.maxRetries ?? 15;
  let version = req.footprint.readVersion + 1;
  for (let attempt = 1; attempt <= maxRetries + 1; attempt++) {
    const info: CommitInfo = {
      timestamp: Date.now(),
      ...req.commitInfo,
      readVersion: req.footprint.readVersion,
      engineInfo: ENGINE_INFO,
    };
    if (req.footprint.readVersion < 0) delete info.readVersion;
    const body = serializeCommit([{ commitInfo: info }, ...req.actions]);
    if (await storage.putIfAbsent(`${LOG_DIR}/${commitFileName(version)}`, new TextEncoder().encode(body))) {
      return { version, attempts: attempt };
    }
    // Lost the race: every commit from `version` to the latest is a winner we must be compatible with.
    const listing = await listLog(storage);
    const latest = latestVersion(listing);
    for (let v = version; v <= latest; v++) {
      const winner = await readCommit(storage, v, listing);
      if (req.txn) {
        const done = winner.some((a) => 'txn' in a && a.txn.appId === req.txn!.appId && a.txn.version >= req.txn!.version);
        if (done) return { alreadyCommitted: true, version: null, attempts: attempt };
      }
      checkConflict(req.footprint, winner, v);
    }
    version = latest + 1;
  }
  throw new CommitVersionTakenError(
    `${storage.root}: could not commit after ${maxRetries} retries; other writers kept taking the next version`,
  );
}
