// A window bigger than the row budget is processed in sensor buckets: the table ends with the same rows as without
// bucketing, in every mode, and a rerun skips the bucketed windows like any other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { line, readings, run, setup, writeCsv, type Env } from './helpers.js';

function input(env: Env, name: string, shift: number): void {
  const lines: string[] = [];
  for (let s = 0; s < 7; s++) for (let m = 0; m < 5; m++) lines.push(line(`sensor-${s}`, m * 97 + s, (s * 10 + m + shift) % 4));
  lines.push(line('sensor-3', 97 * 2 + 3, 99)); // a conflict within the input
  writeCsv(path.join(env.input, name), lines);
}

async function lakeAfter(budget: number | undefined, mode: 'merge' | 'replace', onConflict: 'keep-existing' | 'keep-incoming'): Promise<unknown> {
  const env = setup();
  try {
    input(env, 'a.csv', 0);
    await run(env, { rowBudget: budget });
    rmSync(path.join(env.input, 'a.csv'));
    input(env, 'b.csv', 1);
    const r = await run(env, { rowBudget: budget, mode, onConflict });
    assert.equal(r.balanced, true);
    if (budget !== undefined) assert.ok(r.windows_bucketed > 0);
    const again = await run(env, { rowBudget: budget, mode, onConflict });
    // Windows that committed are skipped; one that had nothing to write (all duplicates) is simply recomputed.
    assert.equal(again.windows_committed, 0);
    assert.equal(again.windows_skipped, r.windows_committed);
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
