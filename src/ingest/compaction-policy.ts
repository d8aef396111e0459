// When live ingest's background compaction rewrites a partition of `readings` (pure: no I/O, time is a parameter).
// compaction.ts loads a snapshot, asks planCompaction which partitions are due, and runs OPTIMIZE on each.
//
// The policy. A partition is CLOSED once its period (a UTC day for `date`, a UTC month for `month`) ended more than
// graceMs ago (default 1 h: devices that buffer through a short outage still land in yesterday before it closes).
// A file is SMALL when OPTIMIZE would still want to merge it: below 3/4 of the target in bytes and, when its stats
// say, below 3/4 of maxRowsPerFile in rows (for readings, ~8 bytes a row, the row cap and not the 128 MiB target is
// what ends a compacted file, so a bytes-only rule would call every compacted file small and compact forever).
//  - A closed partition is compacted when it holds >= minSmallFiles small files (default 16, as Databricks'
//    auto-compaction's minNumFiles): late data trickling into an old day waits until it is worth a rewrite.
//  - An open partition (today, yesterday within the grace, or a future day from a clock running ahead) is compacted
//    when it holds >= openMaxSmallFiles small files (default 300, see bench/ingest/small-files for the measurement):
//    1-s micro-batches add 86,400 files a day, and every reader and every checkpoint pays for each live file.
// Due partitions run open ones first (readers of the live day suffer most), then closed ones by most small files.

import { InvalidArgumentError } from '../errors.js';
import type { Snapshot } from '../delta/table.js';

export interface CompactionPolicy {
  /** How long after its day (or month) ends a partition stays open. Default 1 h. */
  graceMs: number;
  /** Small files that make a closed partition worth compacting. Default 16. */
  minSmallFiles: number;
  /** Small files that make an open partition worth compacting despite still growing. Default 300. */
  openMaxSmallFiles: number;
  /** OPTIMIZE's target file size in bytes. Default 128 MiB. */
  targetFileBytes: number;
  /** OPTIMIZE's rows per file at most (it also bounds the memory of one bin). Default 2,000,000. */
  maxRowsPerFile: number;
  /** How often the timer checks the table (closing partitions, late data, no ingestor attached). Default 60 s. */
  intervalMs: number;
}

export const DEFAULT_COMPACTION_POLICY: Readonly<CompactionPolicy> = Object.freeze({
  graceMs: 3_600_000,
  minSmallFiles: 16,
  openMaxSmallFiles: 300,
  targetFileBytes: 128 * 1024 * 1024,
  maxRowsPerFile: 2_000_000,
  intervalMs: 60_000,
});

/** The partition columns the policy knows the period of. */
export type PeriodColumn = 'date' | 'month';

export type DataFile = ReturnType<Snapshot['files']>[number];

export interface PartitionState {
  column: PeriodColumn;
  /** The partition value: 'YYYY-MM-DD' for date, 'YYYY-MM' for month. */
  value: string;
  files: number;
  smallFiles: number;
  closed: boolean;
}

export interface DuePartition extends PartitionState {
  reason: 'closed' | 'open-bound';
}

/** The policy with defaults filled in, each value checked. */
export function resolvePolicy(given: Partial<CompactionPolicy> = {}, where = 'compaction policy'): CompactionPolicy {
  const p = { ...DEFAULT_COMPACTION_POLICY };
  for (const [k, v] of Object.entries(given) as [keyof CompactionPolicy, number | undefined][]) {
    if (v === undefined || !(k in DEFAULT_COMPACTION_POLICY)) continue;
    const min = k === 'graceMs' ? 0 : 1;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
      throw new InvalidArgumentError(`${where}: ${k} must be a number >= ${min}, got ${String(v)}`);
    }
    p[k] = v;
  }
  if (p.minSmallFiles < 2 || p.openMaxSmallFiles < 2) {
    throw new InvalidArgumentError(`${where}: minSmallFiles and openMaxSmallFiles must be at least 2 (one file alone is never merged)`);
  }
  return p;
}

/** The period column of a readings table's partitioning, or an error naming what the policy cannot handle. */
export function periodColumn(partitionColumns: string[], where: string): PeriodColumn {
  if (partitionColumns.length === 1 && (partitionColumns[0] === 'date' || partitionColumns[0] === 'month')) return partitionColumns[0];
  throw new InvalidArgumentError(
    `${where}: background compaction needs a table partitioned by 'date' or 'month' alone, not by [${partitionColumns.join(', ')}]`,
  );
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_RE = /^(\d{4})-(\d{2})$/;

/** When the period of a partition value ends (ms since the epoch, UTC), or null for a value that is not a period. */
export function periodEndMs(column: PeriodColumn, value: string): number | null {
  if (column === 'date') {
    const m = DAY_RE.exec(value);
    return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1) : null;
  }
  const m = MONTH_RE.exec(value);
  return m ? Date.UTC(Number(m[1]), Number(m[2]), 1) : null;
}

/** Whether a partition is closed at `nowMs`: its period ended more than the grace ago (a value that is no period never is). */
export function isClosed(column: PeriodColumn, value: string, policy: CompactionPolicy, nowMs: number): boolean {
  const end = periodEndMs(column, value);
  return end !== null && nowMs >= end + policy.graceMs;
}

/** A commit's touched dates ('YYYY-MM-DD') as partition values of the table's period column. */
export function partitionOfDate(column: PeriodColumn, date: string): string {
  return column === 'date' ? date : date.slice(0, 7);
}

const NUM_RECORDS = /"numRecords"\s*:\s*(\d+)/;

/** Whether OPTIMIZE would still merge this file (see the policy above). Rows come from the stats, without a JSON parse. */
export function isSmall(file: DataFile, policy: CompactionPolicy): boolean {
  if (file.size >= policy.targetFileBytes * 0.75) return false;
  const m = file.stats ? NUM_RECORDS.exec(file.stats) : null;
  return m === null || Number(m[1]) < policy.maxRowsPerFile * 0.75;
}

/** Files and small files per partition, and whether each is closed at `nowMs`. */
export function partitionStates(files: DataFile[], column: PeriodColumn, policy: CompactionPolicy, nowMs: number): PartitionState[] {
  const byValue = new Map<string, PartitionState>();
  for (const f of files) {
    const value = f.partitionValues[column];
    if (value === null || value === undefined) continue; // the readings partition columns are non-null
    let s = byValue.get(value);
    if (!s) {
      // A value that is no period (not written by sensorlake) is never closed: only the open bound applies to it.
      s = { column, value, files: 0, smallFiles: 0, closed: isClosed(column, value, policy, nowMs) };
      byValue.set(value, s);
    }
    s.files++;
    if (isSmall(f, policy)) s.smallFiles++;
  }
  return [...byValue.values()];
}

/** Whether a partition with this many small files is due. */
export function isDue(closed: boolean, smallFiles: number, policy: CompactionPolicy): boolean {
  return smallFiles >= (closed ? policy.minSmallFiles : policy.openMaxSmallFiles);
}

/** The partitions due for compaction at `nowMs`, in the order to compact them. */
export function planCompaction(files: DataFile[], column: PeriodColumn, policy: CompactionPolicy, nowMs: number): DuePartition[] {
  const due = partitionStates(files, column, policy, nowMs)
    .filter((s) => isDue(s.closed, s.smallFiles, policy))
    .map((s): DuePartition => ({ ...s, reason: s.closed ? 'closed' : 'open-bound' }));
  return due.sort((a, b) => Number(a.closed) - Number(b.closed) || b.smallFiles - a.smallFiles || (a.value < b.value ? -1 : 1));
}
