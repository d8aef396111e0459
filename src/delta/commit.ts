// Commits a transaction's actions at the next free version: create-if-absent on the commit file, and on losing
// the race, read each winning commit, apply the conflict rules, and retry at the version after it (bounded). The
// winners and our own commit come back as read, so the writer can advance its snapshot without reading the log.

import type { Storage } from './engine/storage.js';
import type { Action, CommitInfo } from './kernel/actions.js';
import { parseCommit, serializeCommit } from './kernel/actions.js';
import { checkConflict, type TransactionFootprint } from './kernel/conflict.js';
import type { ReadCommit } from './snapshot.js';
import { commitPath, readCommitsFrom } from './snapshot-advance.js';
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

export type CommitResult =
  | { version: number; attempts: number; winners: ReadCommit[]; committed: ReadCommit }
  | { alreadyCommitted: true; version: null; attempts: number; winners: ReadCommit[] };

export async function commit(storage: Storage, req: CommitRequest): Promise<CommitResult> {
  const maxRetries = req.maxRetries ?? 15;
  let version = req.footprint.readVersion + 1;
  /** Commits other writers made after our read version, in order. */
  const winners: ReadCommit[] = [];
  for (let attempt = 1; attempt <= maxRetries + 1; attempt++) {
    const info: CommitInfo = {
      timestamp: Date.now(),
      ...req.commitInfo,
      readVersion: req.footprint.readVersion,
      engineInfo: ENGINE_INFO,
    };
    if (req.footprint.readVersion < 0) delete info.readVersion;
    const body = serializeCommit([{ commitInfo: info }, ...req.actions]);
    const path = commitPath(version);
    if (await storage.putIfAbsent(path, new TextEncoder().encode(body))) {
      // Parsed back from its bytes, so the snapshot built from it equals what any reader of the file gets.
      const committed: ReadCommit = { version, actions: parseCommit(body, `${storage.root}/${path}`), file: await storage.head(path) };
      return { version, attempts: attempt, winners, committed };
    }
    // Lost the race: every commit from `version` to the latest is a winner we must be compatible with.
    for (const w of await readCommitsFrom(storage, version)) {
      winners.push(w);
      if (req.txn) {
        const done = w.actions.some((a) => 'txn' in a && a.txn.appId === req.txn!.appId && a.txn.version >= req.txn!.version);
        if (done) return { alreadyCommitted: true, version: null, attempts: attempt, winners };
      }
      checkConflict(req.footprint, w.actions, w.version);
    }
    version = req.footprint.readVersion + 1 + winners.length;
  }
  throw new CommitVersionTakenError(
    `${storage.root}: could not commit after ${maxRetries} retries; other writers kept taking the next version`,
  );
}
