// Dedup against the table: merge inserts only new keys and counts duplicates and conflicts (keep-existing keeps the
// table's value, keep-incoming replaces it in one replaceWhere commit); replace rewrites the sensors present only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { DeltaTable } from '../../src/delta/table.js';
import { expected, line, readings, run, setup, writeCsv, type Env } from './helpers.js';

/** Backfills `first` (as file first.csv), then replaces the input with `second` (second.csv). */
async function seed(env: Env, first: string[], second: string[]): Promise<void> {
  writeCsv(path.join(env.input, 'first.csv'), first);
  const r = await run(env);
  assert.equal(r.written, first.length);
  rmSync(path.join(env.input, 'first.csv'));
  writeCsv(path.join(env.input, 'second.csv'), second);
}

const FIRST = [line('s1', 0, 1), line('s1', 1, 2), line('s2', 0, 5)];
const SECOND = [
  line('s1', 1, 2), // exact duplicate of the table
  line('s1', 0, 9), // conflicts with the table (1)
  line('s1', 2, 3), // new
  line('s1', 2, 3), // exact duplicate within the input
  line('s3', 0, 7), // new
  line('s3', 0, 8), // conflict within the input: the later one wins
];

test('merge, keep-existing: new keys inserted, table values kept, duplicates and conflicts counted', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  await seed(env, FIRST, SECOND);
  const r = await run(env);
  assert.deepEqual(await readings(env.lake), [
    ...expected([['s1', 0, 1], ['s1', 1, 2], ['s2', 0, 5]], 'first.csv'),
    ...expected([['s1', 2, 3], ['s3', 0, 8]], 'second.csv'),
  ].sort((a, b) => (a.sensor_id + a.ts < b.sensor_id + b.ts ? -1 : 1)));
  assert.equal(r.read, 6);
  assert.equal(r.written, 2);
  assert.equal(r.duplicates, 4); // two copies within the input, one equal row and one losing conflict vs the table
  assert.equal(r.conflicts_in_input, 1);
  assert.equal(r.conflicts_with_table, 1);
  assert.equal(r.conflicts, 2);
  assert.equal(r.rows_replaced, 0);
  assert.equal(r.balanced, true);
  const h = await (await DeltaTable.open(path.join(env.lake, 'readings'))).history(1);
  assert.equal(h[0].operationParameters?.mode, 'Append');
});

test('merge, keep-incoming: conflicting table values replaced in one atomic replaceWhere commit', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  await seed(env, FIRST, SECOND);
  const table = await DeltaTable.open(path.join(env.lake, 'readings'));
  const before = await table.version();
  const r = await run(env, { onConflict: 'keep-incoming' });
  assert.deepEqual(await readings(env.lake), [
    ...expected([['s1', 1, 2], ['s2', 0, 5]], 'first.csv'),
    ...expected([['s1', 0, 9], ['s1', 2, 3], ['s3', 0, 8]], 'second.csv'),
  ].sort((a, b) => (a.sensor_id + a.ts < b.sensor_id + b.ts ? -1 : 1)));
  assert.equal(r.written, 3);
  assert.equal(r.duplicates, 3);
  assert.equal(r.conflicts_with_table, 1);
  assert.equal(r.rows_replaced, 1);
  assert.equal(r.balanced, true);
  assert.equal(await table.version(), before + 1);
  const h = await table.history(1);
  assert.equal(h[0].operationParameters?.mode, 'Overwrite');
  assert.match(String(h[0].operationParameters?.predicate), /ts >= TIMESTAMP/);
});

test('replace: the window rows of the sensors present are replaced, other sensors untouched', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  await seed(env, [line('s1', 0, 1), line('s1', 30, 2), line('s2', 0, 5), line('s1', 24 * 60, 4)], [line('s1', 10, 7), line('s1', 10, 7), line('s1', 20, 8)]);
  const r = await run(env, { mode: 'replace' });
  assert.deepEqual(await readings(env.lake), [
    ...expected([['s2', 0, 5], ['s1', 24 * 60, 4]], 'first.csv'), // another sensor; another day (window) of s1
    ...expected([['s1', 10, 7], ['s1', 20, 8]], 'second.csv'),
  ].sort((a, b) => (a.sensor_id + a.ts < b.sensor_id + b.ts ? -1 : 1)));
  assert.equal(r.rows_replaced, 2);
  assert.equal(r.written, 2);
  assert.equal(r.duplicates, 1);
  assert.equal(r.balanced, true);
});

test('replace and keep-incoming with many sensors rewrite the whole window range, carrying other sensors over', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  const ids = Array.from({ length: 80 }, (_, i) => `s${String(i).padStart(3, '0')}`);
  const first = ids.map((id) => line(id, 0, 1));
  first.push(line('zz-other', 0, 42));
  const second = ids.map((id) => line(id, 0, 2));
  await seed(env, first, second);
  const r = await run(env, { onConflict: 'keep-incoming' });
  assert.equal(r.conflicts_with_table, 80);
  assert.equal(r.rows_replaced, 80);
  const rows = await readings(env.lake);
  assert.equal(rows.length, 81);
  assert.deepEqual(rows.find((x) => x.sensor_id === 'zz-other'), expected([['zz-other', 0, 42]], 'first.csv')[0]);
  assert.ok(rows.filter((x) => x.sensor_id !== 'zz-other').every((x) => x.value === 2 && x.source === 'second.csv'));

  rmSync(path.join(env.input, 'second.csv'));
  writeCsv(path.join(env.input, 'third.csv'), ids.slice(0, 70).map((id) => line(id, 5, 3)));
  const rr = await run(env, { mode: 'replace' });
  assert.equal(rr.rows_replaced, 70);
  const after = await readings(env.lake);
  assert.equal(after.length, 81);
  assert.deepEqual(after.filter((x) => x.source === 'third.csv').length, 70);
  assert.deepEqual(after.filter((x) => x.source === 'second.csv').map((x) => x.sensor_id), ids.slice(70));
});
