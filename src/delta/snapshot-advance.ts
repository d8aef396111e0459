// Brings a snapshot up to date by reading only the commits after it (the replay itself is kernel/advance.ts). The
// log is probed by name, N+1.json, N+2.json, ... until one is absent, not listed: on a local disk a listing reads
// the whole _delta_log directory, which a commit a second grows by 86,400 files a day. Commits are contiguous and
// appear whole (create-if-absent), so the probe sees exactly the commits a listing would.

import type { Storage } from './engine/storage.js';
import { commitFileName, parseCommit, type Metadata } from './kernel/actions.js';
import { LOG_DIR, loadSnapshot, type ReadCommit, type Snapshot } from './snapshot.js';
import { retentionMs } from './operations/retention.js';
import { NotFoundError } from '../errors.js';

const WEEK_MS = 7 * 24 * 3600_000;

export function commitPath(version: number): string {
  return `${LOG_DIR}/${commitFileName(version)}`;
}

/** Commits `from`, `from + 1`, ... up to `to` or the first one absent, with their files' size and time. */
export async function readCommitsFrom(storage: Storage, from: number, to = Infinity): Promise<ReadCommit[]> {
  const out: ReadCommit[] = [];
  for (let v = from; v <= to; v++) {
    const path = commitPath(v);
    const file = await storage.head(path);
    if (!file) break;
    let bytes: Uint8Array;
    try {
      bytes = await storage.read(path);
    } catch (e) {
      if (e instanceof NotFoundError) break; // deleted between the two calls: as if never seen
      throw e;
    }
    out.push({ version: v, actions: parseCommit(new TextDecoder().decode(bytes), `${storage.root}/${path}`), file });
  }
  return out;
}

/** Tombstones deleted at or before this time are past the table's retention: a checkpoint written now drops them. */
export function tombstoneExpiry(metadata: Metadata, now = Date.now()): number {
  try {
    return now - retentionMs(metadata.configuration, 'delta.deletedFileRetentionDuration', WEEK_MS);
  } catch {
    return -Infinity; // an unreadable retention setting: keep every tombstone, as a checkpoint would fail anyway
  }
}

/** Is the commit file `snapshot` was read at still the one it read? If not, the log was deleted or rewritten. */
async function stillCurrent(storage: Storage, snapshot: Snapshot): Promise<boolean> {
  if (!snapshot.tip) return false;
  const now = await storage.head(commitPath(snapshot.version));
  return now !== null && now.size === snapshot.tip.size && now.modificationTime === snapshot.tip.modificationTime;
}

/**
 * The snapshot at `version` (the latest when undefined) reached from `snapshot` by reading only the commits after
 * it. Falls back to a full load when it cannot be reached that way: an older version, or a log that no longer holds
 * the commit `snapshot` was read at (deleted, or a table recreated in its place).
 */
export async function advanceSnapshot(storage: Storage, snapshot: Snapshot, version?: number): Promise<Snapshot> {
  if ((version !== undefined && version < snapshot.version) || !(await stillCurrent(storage, snapshot))) {
    return loadSnapshot(storage, { version });
  }
  const commits = await readCommitsFrom(storage, snapshot.version + 1, version);
  // A version beyond the latest: the full load reports it as it would without the cache.
  if (version !== undefined && snapshot.version + commits.length < version) return loadSnapshot(storage, { version });
  return snapshot.advancedBy(commits, (m) => tombstoneExpiry(m));
}
