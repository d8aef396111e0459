// Which log files make up a snapshot: the newest complete checkpoint at or below the wanted version, then
// every commit after it. Pure: works on a listing of _delta_log, so a stale or missing _last_checkpoint
// cannot mislead it.

import { CorruptLogError, NotFoundError } from '../../errors.js';

export interface LogFile {
  path: string;
  size: number;
  modificationTime: number;
}

export interface CheckpointCandidate {
  version: number;
  /** Every part, in part order: one file for a classic checkpoint. */
  parts: LogFile[];
  /** A v2 checkpoint named `n.checkpoint.<uuid>.(json|parquet)`. */
  v2: boolean;
}

export interface LogListing {
  commits: Map<number, LogFile>;
  checkpoints: CheckpointCandidate[]; // ascending by version, only complete part sets
}

export interface LogSegment {
  version: number;
  checkpoint: CheckpointCandidate | null;
  /** Commits after the checkpoint up to `version`, ascending. */
  commits: { version: number; file: LogFile }[];
}

const COMMIT = /^(\d{20})\.json$/;
const CLASSIC = /^(\d{20})\.checkpoint\.parquet$/;
const MULTI = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;
const V2 = /^(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$/;

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Sorts a raw listing of `_delta_log/` into commits and complete checkpoints. Other files are ignored. */
export function classifyLogFiles(files: LogFile[]): LogListing {
  const commits = new Map<number, LogFile>();
  const multi = new Map<string, { version: number; total: number; parts: Map<number, LogFile> }>();
  const checkpoints: CheckpointCandidate[] = [];
  for (const f of files) {
    const name = baseName(f.path);
    let m: RegExpExecArray | null;
    if ((m = COMMIT.exec(name))) commits.set(Number(m[1]), f);
    else if ((m = CLASSIC.exec(name))) checkpoints.push({ version: Number(m[1]), parts: [f], v2: false });
    else if ((m = V2.exec(name))) checkpoints.push({ version: Number(m[1]), parts: [f], v2: true });
    else if ((m = MULTI.exec(name))) {
      const version = Number(m[1]);
      const part = Number(m[2]);
      const total = Number(m[3]);
      const key = `${version}/${total}`;
      let set = multi.get(key);
      if (!set) multi.set(key, (set = { version, total, parts: new Map() }));
      set.parts.set(part, f);
    }
  }
  for (const set of multi.values()) {
    // An incomplete part set is a checkpoint whose writer died: not usable.
    if (set.parts.size !== set.total) continue;
    const parts: LogFile[] = [];
    for (let i = 1; i <= set.total; i++) {
      const p = set.parts.get(i);
      if (!p) break;
      parts.push(p);
    }
    if (parts.length === set.total) checkpoints.push({ version: set.version, parts, v2: false });
  }
  checkpoints.sort((a, b) => a.version - b.version || Number(a.v2) - Number(b.v2));
  return { commits, checkpoints };
}

export function latestVersion(listing: LogListing): number {
  let v = -1;
  for (const k of listing.commits.keys()) v = Math.max(v, k);
  for (const c of listing.checkpoints) v = Math.max(v, c.version);
  return v;
}

/**
 * The segment for `version` (latest when undefined), using the newest checkpoint at or below it unless that
 * checkpoint is in `skipCheckpoints` (one that failed to read). Throws when the log cannot reach the version.
 */
export function selectSegment(listing: LogListing, where: string, version?: number, skipCheckpoints: ReadonlySet<number> = new Set()): LogSegment {
  const latest = latestVersion(listing);
  if (latest < 0) throw new NotFoundError(`${where}: not a Delta table (no commits in _delta_log)`);
  const target = version ?? latest;
  if (target > latest) throw new NotFoundError(`${where}: version ${target} does not exist; the latest is ${latest}`);
  if (target < 0) throw new NotFoundError(`${where}: version ${target} does not exist`);
  let checkpoint: CheckpointCandidate | null = null;
  for (const c of listing.checkpoints) {
    if (c.version <= target && !skipCheckpoints.has(c.version)) checkpoint = c;
  }
  const start = checkpoint ? checkpoint.version + 1 : 0;
  const commits: { version: number; file: LogFile }[] = [];
  for (let v = start; v <= target; v++) {
    const file = listing.commits.get(v);
    if (!file) {
      if (!checkpoint && v === 0) {
        throw new NotFoundError(
          `${where}: cannot reconstruct version ${target}: no checkpoint at or below it and commit 0 is gone (log cleaned up)`,
        );
      }
      throw new CorruptLogError(`${where}: commit ${v} is missing from _delta_log, needed to reach version ${target}`);
    }
    commits.push({ version: v, file });
  }
  return { version: target, checkpoint, commits };
}
