// A window bigger than the row budget is processed in sensor buckets: the table ends with the same rows as without
// bucketing, in every mode; each window, bucketed or not, is exactly one commit carrying txn(job id, window); and a
// rerun skips the bucketed windows like any other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { DeltaTable } from '../../src/delta/table.js';
import type { BackfillReport } from '../../src/backfill/run.js';
import { line, readings, run, setup, writeCsv, type Env } from './helpers.js';

/** 7 sensors x 5 readings in one day; `shifted` picks the sensors whose values move with `shift` (all by default). */
function input(env: Env, name: string, shift: number, shifted: (s: number) => boolean = () => true): void {
  const lines: string[] = [];
  for (let s = 0; s < 7; s++) for (let m = 0; m < 5; m++) lines.push(line(`sensor-${s}`, m * 97 + s, (s * 10 + m + (shifted(s) ? shift : 0)) % 4));
  lines.push(line('sensor-3', 97 * 2 + 3, 99)); // a conflict within the input
  writeCsv(path.join(env.input, name), lines);
}

/** Each commit a run made on readings (versions after `before`) is one window: it moves the job's txn to a new window. */
async function assertOneCommitPerWindow(env: Env, before: number, r: BackfillReport): Promise<void> {
  const table = await DeltaTable.open(path.join(env.lake, 'readings'));
  const commits = (await table.history()).filter((h) => h.version > before).sort((a, b) => a.version - b.version);
  assert.equal(commits.length, r.windows, 'one commit per window');
  assert.equal(r.windows_committed, r.windows);
  let last = before >= 0 ? await table.txnVersion(r.job_id, { version: before }) : undefined;
  for (const c of commits) {
    assert.equal(c.operation, 'WRITE');
    const txn = await table.txnVersion(r.job_id, { version: c.version });
    assert.ok(txn !== undefined && (last === undefined || txn > last), `version ${c.version} commits a new window of the job (txn ${txn} after ${last})`);
    last = txn;
  }
}

interface Case {
  /** Sensors whose values change in the second input. */
  shifted?: (s: number) => boolean;
  /** Readings of a sensor only the first input has, in the same window. */
  bystander?: boolean;
}

async function lakeAfter(budget: number | undefined, mode: 'merge' | 'replace', onConflict: 'keep-existing' | 'keep-incoming', c: Case = {}): Promise<unknown> {
  const env = setup();
  try {
    input(env, 'a.csv', 0);
    if (c.bystander) writeCsv(path.join(env.input, 'z.csv'), [line('bystander', 5, 1), line('bystander', 300, 2)]);
    const first = await run(env, { rowBudget: budget });
    await assertOneCommitPerWindow(env, 0, first);
    rmSync(path.join(env.input, 'a.csv'));
    if (c.bystander) rmSync(path.join(env.input, 'z.csv'));
    input(env, 'b.csv', 1, c.shifted);
    const before = await (await DeltaTable.open(path.join(env.lake, 'readings'))).version();
    const r = await run(env, { rowBudget: budget, mode, onConflict });
    assert.equal(r.balanced, true);
    if (budget !== undefined) assert.ok(r.windows_bucketed > 0);
    await assertOneCommitPerWindow(env, before, r);
    const again = await run(env, { rowBudget: budget, mode, onConflict });
    // Every window committed (one with nothing to write too, its txn alone), so the rerun skips them all.
    assert.equal(again.windows_committed, 0);
    assert.equal(again.windows_skipped, r.windows);
    assert.equal(again.already_committed, r.read);
    assert.equal(again.written, 0);
    assert.equal(again.balanced, true);
    const { read, written, duplicates, conflicts, rows_replaced } = r;
    return { rows: await readings(env.lake), read, written, duplicates, conflicts, rows_replaced };
  } finally {
    env.cleanup();
  }
}

for (const [mode, onConflict] of [['merge', 'keep-existing'], ['merge', 'keep-incoming'], ['replace', 'keep-existing']] as const) {
  test(`${mode}/${onConflict}: sensor buckets give the same table and counts as whole windows`, async () => {
    const whole = await lakeAfter(undefined, mode, onConflict);
    const bucketed = await lakeAfter(4, mode, onConflict);
    assert.deepEqual(bucketed, whole);
  });
}

// Buckets where only one sensor conflicts: under keep-incoming the commit replaces the window's rows of every incoming
// sensor, so buckets without a conflict must carry their table rows over too.
test('merge/keep-incoming: a conflict in one bucket only gives the same table as whole windows', async () => {
  const c: Case = { shifted: (s) => s === 3 };
  const whole = await lakeAfter(undefined, 'merge', 'keep-incoming', c);
  const bucketed = await lakeAfter(4, 'merge', 'keep-incoming', c);
  assert.deepEqual(bucketed, whole);
});

for (const [mode, onConflict] of [['replace', 'keep-existing'], ['merge', 'keep-incoming']] as const) {
  test(`${mode}/${onConflict}: a sensor the input lacks keeps its rows in a rewritten window, bucketed or not`, async () => {
    const whole = (await lakeAfter(undefined, mode, onConflict, { bystander: true })) as { rows: { sensor_id: string }[] };
    const bucketed = await lakeAfter(4, mode, onConflict, { bystander: true });
    assert.deepEqual(bucketed, whole);
    assert.equal(whole.rows.filter((r) => r.sensor_id === 'bystander').length, 2);
  });
}
