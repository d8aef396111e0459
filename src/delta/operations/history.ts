// The table's history: each available commit's commitInfo, newest first, with the commit time readers agree on.

import type { Storage } from '../engine/storage.js';
import type { CommitInfo } from '../kernel/actions.js';
import { commitTimestamps, listLog, readCommit } from '../snapshot.js';

export interface HistoryEntry {
  version: number;
  /** Commit time (ms since the epoch): commitInfo.timestamp, else the commit file's time. */
  timestamp: number;
  operation: string | null;
  operationParameters: Record<string, unknown>;
  operationMetrics: Record<string, unknown>;
  readVersion: number | null;
  isBlindAppend: boolean | null;
  engineInfo: string | null;
  commitInfo: CommitInfo | null;
}

export async function readHistory(storage: Storage, limit?: number): Promise<HistoryEntry[]> {
  const listing = await listLog(storage);
  const times = commitTimestamps(listing);
  const versions = [...listing.commits.keys()].sort((a, b) => b - a).slice(0, limit ?? Infinity);
  const out: HistoryEntry[] = [];
  for (const version of versions) {
    const info = (await readCommit(storage, version, listing)).find((a): a is { commitInfo: CommitInfo } => 'commitInfo' in a)?.commitInfo ?? null;
    out.push({
      version,
      timestamp: typeof info?.timestamp === 'number' ? info.timestamp : times.get(version)!,
      operation: info?.operation ?? null,
      operationParameters: info?.operationParameters ?? {},
      operationMetrics: info?.operationMetrics ?? {},
      readVersion: typeof info?.readVersion === 'number' ? info.readVersion : null,
      isBlindAppend: typeof info?.isBlindAppend === 'boolean' ? info.isBlindAppend : null,
      engineInfo: info?.engineInfo ?? null,
      commitInfo: info,
    });
  }
  return out;
}
