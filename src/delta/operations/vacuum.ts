// VACUUM: deletes data files no version within the retention period can need. A file goes only when no live file
// or unexpired tombstone names it and it is older than the retention; `_`- and `.`-prefixed directories (the log,
// Spark's hidden dirs) are never touched.

import type { Storage, FileMeta } from '../engine/storage.js';
import type { Snapshot } from '../snapshot.js';
import { decodeAddPath } from '../kernel/partition-values.js';
import { dvRelativePath } from '../kernel/deletion-vector.js';
import type { DeletionVectorDescriptor } from '../kernel/actions.js';
import { retentionMs } from './retention.js';
import { InvalidArgumentError } from '../../errors.js';

export interface VacuumOptions {
  /** Files younger than this are kept; defaults to delta.deletedFileRetentionDuration (7 days). */
  retentionHours?: number;
  dryRun?: boolean;
  /** Refuse a retention shorter than the table's (default true), as Spark does, to protect running readers. */
  enforceRetentionDuration?: boolean;
  now?: number;
}

export interface VacuumResult {
  dryRun: boolean;
  /** Files deleted (or, in a dry run, that would be). */
  files: string[];
  bytes: number;
}

/** Spark's rule: a name starting with '_' or '.' is hidden, unless it is a partition directory (has '='). */
function isHidden(path: string): boolean {
  return path.split('/').some((seg) => (seg.startsWith('_') || seg.startsWith('.')) && !seg.includes('='));
}

function referencedPath(path: string): string | null {
  const d = decodeAddPath(path);
  return 'relative' in d ? d.relative : null;
}

export async function vacuum(storage: Storage, snapshot: Snapshot, opts: VacuumOptions = {}): Promise<VacuumResult> {
  const now = opts.now ?? Date.now();
  const tableRetention = retentionMs(snapshot.metadata.configuration, 'delta.deletedFileRetentionDuration', 7 * 24 * 3600_000);
  const retention = opts.retentionHours === undefined ? tableRetention : opts.retentionHours * 3600_000;
  if ((opts.enforceRetentionDuration ?? true) && retention < tableRetention) {
    throw new InvalidArgumentError(
      `${snapshot.table}: vacuum retention ${retention / 3600_000} h is shorter than the table's ${tableRetention / 3600_000} h; ` +
        'readers of older versions could lose files. Pass enforceRetentionDuration: false to override.',
    );
  }
  const keep = new Set<string>();
  const keepDv = (dv: DeletionVectorDescriptor | null | undefined): void => {
    const p = dv ? dvRelativePath(dv, storage.root) : null;
    if (p) keep.add(p);
  };
  for (const add of snapshot.files()) {
    const p = referencedPath(add.path);
    if (p) keep.add(p);
    keepDv(add.deletionVector);
  }
  const cutoff = now - retention;
  for (const remove of snapshot.tombstones().values()) {
    if ((remove.deletionTimestamp ?? 0) > cutoff) {
      const p = referencedPath(remove.path);
      if (p) keep.add(p);
      keepDv(remove.deletionVector);
    }
  }
  const doomed: FileMeta[] = (await storage.listRecursive('')).filter(
    (f) => !isHidden(f.path) && !keep.has(f.path) && f.modificationTime < cutoff,
  );
  if (!opts.dryRun) for (const f of doomed) await storage.delete(f.path);
  return { dryRun: opts.dryRun ?? false, files: doomed.map((f) => f.path), bytes: doomed.reduce((s, f) => s + f.size, 0) };
}
