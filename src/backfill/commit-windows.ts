// Pass 2: the staged windows in increasing order, each one commit on `readings` under txn(jobId, window index);
// windows the job already committed are skipped. A window over the row budget goes in sensor buckets, one commit
// each: the last carries txn(jobId, window), the others txn(bucket appId, bucket index) to resume within the window.

import type { DeltaTable } from '../delta/table.js';
import { bucketAppId, planBuckets } from './buckets.js';
import type { PartitionScheme } from './lake.js';
import { windowRange } from './plan.js';
import type { WindowSpill } from './staging.js';
import { processWindow, type WindowOutcome } from './window.js';

export interface WindowTotals {
  windows: number;
  committed: number;
  skipped: number;
  bucketed: number;
  alreadyCommitted: number;
  conflictsInInput: number;
  conflictsWithTable: number;
  replaced: number;
  /** [written, duplicates] per input file index, over the windows this run processed. */
  perFile: Map<number, [number, number]>;
  written: number;
}

export interface CommitWindowsInput {
  table: DeltaTable;
  spill: WindowSpill;
  jobId: string;
  windowUs: number;
  partition: PartitionScheme;
  mode: 'merge' | 'replace';
  onConflict: 'keep-existing' | 'keep-incoming';
  sensors: string[];
  sources: string[];
  rowBudget: number;
  onWindow?: (done: number, total: number, written: number) => void;
}

export async function commitWindows(input: CommitWindowsInput): Promise<WindowTotals> {
  const { table, spill, jobId } = input;
  const windows = spill.windows();
  const t: WindowTotals = {
    windows: windows.length,
    committed: 0,
    skipped: 0,
    bucketed: 0,
    alreadyCommitted: 0,
    conflictsInInput: 0,
    conflictsWithTable: 0,
    replaced: 0,
    perFile: new Map(),
    written: 0,
  };
  const done = (await table.txnVersion(jobId)) ?? -Infinity;
  const add = (o: WindowOutcome): void => {
    if (o.skipped) {
      t.alreadyCommitted += o.read;
      return;
    }
    t.written += o.written;
    t.conflictsInInput += o.conflictsInInput;
    t.conflictsWithTable += o.conflictsWithTable;
    t.replaced += o.replaced;
    for (const [f, [w, d]] of o.perFile) {
      const c = t.perFile.get(f) ?? [0, 0];
      c[0] += w;
      c[1] += d;
      t.perFile.set(f, c);
    }
  };
  const base = {
    table,
    partition: input.partition,
    mode: input.mode,
    onConflict: input.onConflict,
    sensors: input.sensors,
    sources: input.sources,
  };
  for (let k = 0; k < windows.length; k++) {
    const w = windows[k];
    const rows = spill.counts.get(w)!;
    const stagingFile = spill.fileOf(w);
    const range = windowRange(w, input.windowUs);
    if (w <= done) {
      t.skipped++;
      t.alreadyCommitted += rows;
    } else if (rows <= input.rowBudget) {
      const o = await processWindow({ ...base, stagingFile, range, txn: { appId: jobId, version: w }, rows });
      add(o);
      if (o.committed) t.committed++;
      else if (o.skipped) t.skipped++;
    } else {
      t.bucketed++;
      const buckets = await planBuckets(stagingFile, input.sensors, input.rowBudget);
      const appId = bucketAppId(jobId, w, buckets);
      const bucketsDone = (await table.txnVersion(appId)) ?? -1;
      let committed = false;
      for (let b = 0; b < buckets.length; b++) {
        const bucket = buckets[b];
        if (b <= bucketsDone) {
          t.alreadyCommitted += bucket.rows;
          continue;
        }
        const txn = b === buckets.length - 1 ? { appId: jobId, version: w } : { appId, version: b };
        const o = await processWindow({ ...base, stagingFile, range, bucket, txn, rows: bucket.rows });
        add(o);
        committed ||= o.committed;
      }
      if (committed) t.committed++;
      else if (bucketsDone >= 0) t.skipped++;
    }
    input.onWindow?.(k + 1, windows.length, t.written);
  }
  return t;
}
