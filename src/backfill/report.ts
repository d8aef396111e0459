// What a backfill did, in total and per input file, with the accounting identity that must hold exactly:
// read = written + duplicates + quarantined + already_committed. Also its human summary (lines the CLI prints).

import { REJECT_REASONS, type RejectReason } from '../sources/batch.js';

export interface FileReport {
  file: string;
  /** The `source` value its rows carry in the readings table. */
  source: string;
  read: number;
  written: number;
  duplicates: number;
  quarantined: number;
  already_committed: number;
}

export interface BackfillReport {
  job_id: string;
  lake: string;
  mode: 'merge' | 'replace';
  on_conflict: 'keep-existing' | 'keep-incoming';
  window: string;
  partition: 'date' | 'month';
  /** Records the sources yielded (readings plus rejects). */
  read: number;
  /** Incoming readings this run put into the table. */
  written: number;
  /** Readings not written because their (sensor_id, ts) was kept from another record (of the input or the table). */
  duplicates: number;
  /** Records whose key met a different value: in the input (the later one won) or in the table. */
  conflicts: number;
  conflicts_in_input: number;
  conflicts_with_table: number;
  /** Table rows replaced: by replace mode, or by keep-incoming conflicts. */
  rows_replaced: number;
  quarantined: number;
  quarantined_by_reason: Record<RejectReason, number>;
  /** Readings outside their sensor's valid range: written with quality bad. */
  out_of_range: number;
  /** Readings of windows an earlier run of this job committed already. */
  already_committed: number;
  windows: number;
  windows_committed: number;
  windows_skipped: number;
  /** Windows processed in sensor buckets because they exceeded the row budget. */
  windows_bucketed: number;
  dst_ambiguous: number;
  dst_nonexistent: number;
  quarantine_commits: number;
  sensors_upserted: number;
  /** Readings table version after the run. */
  readings_version: number;
  files: FileReport[];
  bytes: number;
  seconds: number;
  rows_per_second: number;
  mb_per_second: number;
  /** True when read = written + duplicates + quarantined + already_committed holds, in total and for every file. */
  balanced: boolean;
}

export function emptyReasons(): Record<RejectReason, number> {
  return Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
}

export function isBalanced(r: Pick<BackfillReport, 'read' | 'written' | 'duplicates' | 'quarantined' | 'already_committed' | 'files'>): boolean {
  const ok = (x: Pick<FileReport, 'read' | 'written' | 'duplicates' | 'quarantined' | 'already_committed'>): boolean =>
    x.read === x.written + x.duplicates + x.quarantined + x.already_committed;
  return ok(r) && r.files.every(ok);
}

const fmt = (n: number): string => n.toLocaleString('en');

/** The human summary: totals, the accounting identity, and a short table of files. */
export function summaryLines(r: BackfillReport): string[] {
  const lines: string[] = [];
  lines.push(`backfill ${r.job_id} into ${r.lake} (${r.mode}, window ${r.window}, partition ${r.partition})`);
  lines.push(
    `read ${fmt(r.read)} = written ${fmt(r.written)} + duplicates ${fmt(r.duplicates)} + quarantined ${fmt(r.quarantined)}` +
      ` + already committed ${fmt(r.already_committed)}${r.balanced ? '' : '  (DOES NOT BALANCE)'}`,
  );
  lines.push(
    `windows: ${fmt(r.windows_committed)} committed, ${fmt(r.windows_skipped)} skipped (already committed), ${fmt(r.windows)} in all` +
      (r.windows_bucketed ? `, ${fmt(r.windows_bucketed)} in sensor buckets` : ''),
  );
  if (r.conflicts) lines.push(`conflicts: ${fmt(r.conflicts_in_input)} within the input, ${fmt(r.conflicts_with_table)} with the table (${r.on_conflict})`);
  if (r.rows_replaced) lines.push(`rows replaced in the table: ${fmt(r.rows_replaced)}`);
  if (r.out_of_range) lines.push(`outside the sensor's valid range (kept, quality bad): ${fmt(r.out_of_range)}`);
  if (r.dst_ambiguous || r.dst_nonexistent) lines.push(`DST: ${fmt(r.dst_ambiguous)} ambiguous and ${fmt(r.dst_nonexistent)} nonexistent local times resolved`);
  if (r.quarantined) {
    const reasons = Object.entries(r.quarantined_by_reason).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${fmt(n)}`);
    lines.push(`quarantined: ${reasons.join(', ')} (table ${r.lake}/quarantine)`);
  }
  lines.push(`${r.seconds.toFixed(1)} s, ${fmt(r.rows_per_second)} rows/s, ${r.mb_per_second.toFixed(1)} MB/s`);
  return lines;
}

/** The per-file table rows (strings), first `max` files by input order. */
export function fileRows(r: BackfillReport, max = 20): Record<string, string>[] {
  return r.files.slice(0, max).map((f) => ({
    file: f.source,
    read: fmt(f.read),
    written: fmt(f.written),
    duplicates: fmt(f.duplicates),
    quarantined: fmt(f.quarantined),
    'already committed': fmt(f.already_committed),
  }));
}
