// Pass 2: the staged windows in increasing order, each exactly one commit on `readings` under txn(jobId, window
// index), also when it writes nothing; windows the job already committed are skipped. A window over the row budget
// is read in sensor buckets whose pieces stream into that one commit, so memory stays bounded by the budget.

import { promises as fs } from 'node:fs';
import type { DeltaTable } from '../delta/table.js';
import { planBuckets } from './buckets.js';
import type { PartitionScheme } from './lake.js';
import { windowRange } from './plan.js';
import type { WindowSpill } from './staging.js';
import { planWindow, writeWindow, type WindowJob, type WindowOutcome, type WindowPlan } from './window.js';

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
  const jobOf = async (k: number): Promise<WindowJob> => {
    const w = windows[k];
    const rows = spill.counts.get(w)!;
    const stagingFile = spill.fileOf(w);
    const buckets = rows > input.rowBudget ? await planBuckets(stagingFile, input.sensors, input.rowBudget) : undefined;
    return { ...base, stagingFile, buckets, range: windowRange(w, input.windowUs), txn: { appId: jobId, version: w }, rows };
  };
  const small = (k: number): boolean => k < windows.length && windows[k] > done && spill.counts.get(windows[k])! <= input.rowBudget;
  // The next window, planned while this one is written (see planWindow).
  let ahead: { k: number; plan: Promise<WindowPlan> } | null = null;
  for (let k = 0; k < windows.length; k++) {
    const w = windows[k];
    const rows = spill.counts.get(w)!;
    if (w <= done) {
      t.skipped++;
      t.alreadyCommitted += rows;
    } else {
      if (rows > input.rowBudget) t.bucketed++;
      const plan = ahead?.k === k ? await ahead.plan : await planWindow(await jobOf(k));
      ahead = null;
      // Two small windows in memory at once stay within the row budget.
      if (small(k + 1) && rows + spill.counts.get(windows[k + 1])! <= input.rowBudget) {
        const next = jobOf(k + 1).then(planWindow);
        next.catch(() => undefined); // awaited on the next turn; a failure is reported there
        ahead = { k: k + 1, plan: next };
      }
      const o = await writeWindow(plan);
      add(o);
      if (o.committed) t.committed++;
      else if (o.skipped) t.skipped++;
      await fs.rm(plan.job.stagingFile, { force: true }); // disk back as the windows go
    }
    input.onWindow?.(k + 1, windows.length, t.written);
  }
  return t;
}
