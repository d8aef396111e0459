// A backfill end to end on real files and a temp lake: the rows a clean run writes, a rerun that commits nothing,
// --from/--to, the sensors table, month partitioning and the exact accounting in total and per file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { DeltaTable } from '../../src/delta/table.js';
import { expected, line, readings, run, setup, tableRows, version, writeCsv } from './helpers.js';

const DAY = 24 * 60;

function twoFiles(input: string): void {
  writeCsv(path.join(input, 'a.csv'), [line('line1/pump1/temp', 0, 20.5), line('line1/pump1/temp', 1, 21), line('line1/pump1/temp', DAY + 5, 22.25, 'uncertain')]);
  writeCsv(path.join(input, 'sub', 'b.csv'), [line('line1/pump2/flow', 10, 3.5, 'bad'), line('line1/pump2/state', 10, 'RUNNING'), line('line1/pump2/state', 20, 'IDLE')]);
}

test('a clean run writes exactly the input rows, sorted and partitioned, with source names relative to the root', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  twoFiles(env.input);
  const r = await run(env);
  const rows = await readings(env.lake);
  assert.deepEqual(rows, [
    ...expected([['line1/pump1/temp', 0, 20.5], ['line1/pump1/temp', 1, 21], ['line1/pump1/temp', DAY + 5, 22.25, 0x40000000]], 'a.csv'),
    ...expected([['line1/pump2/flow', 10, 3.5, 0x80000000], ['line1/pump2/state', 10, 'RUNNING'], ['line1/pump2/state', 20, 'IDLE']], 'sub/b.csv'),
  ].sort((a, b) => (a.sensor_id < b.sensor_id ? -1 : a.sensor_id > b.sensor_id ? 1 : a.ts < b.ts ? -1 : 1)));
  assert.equal(r.read, 6);
  assert.equal(r.written, 6);
  assert.equal(r.duplicates, 0);
  assert.equal(r.quarantined, 0);
  assert.equal(r.windows, 2);
  assert.equal(r.windows_committed, 2);
  assert.equal(r.windows_skipped, 0);
  assert.equal(r.balanced, true);
  assert.deepEqual(
    r.files.map((f) => [f.source, f.read, f.written, f.duplicates, f.quarantined, f.already_committed]),
    [['a.csv', 3, 3, 0, 0, 0], ['sub/b.csv', 3, 3, 0, 0, 0]],
  );
  // One commit per window, each carrying the job's txn at the window index.
  const table = await DeltaTable.open(path.join(env.lake, 'readings'));
  assert.equal(await table.version(), 2);
  assert.equal(await table.txnVersion(r.job_id), Math.floor((Date.UTC(2024, 0, 1) + 86_400_000) / 86_400_000));
  const snap = await table.snapshot();
  assert.deepEqual(snap.partitionColumns, ['date']);
  // Inferred sensors: asset up to the last '/', median step, kind from the values.
  const sensors = (await tableRows(path.join(env.lake, 'sensors'))).sort((a, b) => String(a.sensor_id).localeCompare(String(b.sensor_id)));
  assert.deepEqual(
    sensors.map((s) => [s.sensor_id, s.asset, s.kind, s.interval_s]),
    [
      ['line1/pump1/temp', 'line1/pump1', 'numeric', 60],
      ['line1/pump2/flow', 'line1/pump2', 'numeric', null],
      ['line1/pump2/state', 'line1/pump2', 'state', 600],
    ],
  );
});

test('rerunning the same command commits nothing and reports every window skipped', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  twoFiles(env.input);
  const first = await run(env);
  const v = await version(path.join(env.lake, 'readings'));
  const sv = await version(path.join(env.lake, 'sensors'));
  const again = await run(env);
  assert.equal(again.job_id, first.job_id);
  assert.equal(await version(path.join(env.lake, 'readings')), v);
  assert.equal(await version(path.join(env.lake, 'sensors')), sv);
  assert.equal(again.windows_committed, 0);
  assert.equal(again.windows_skipped, again.windows);
  assert.equal(again.written, 0);
  assert.equal(again.already_committed, 6);
  assert.equal(again.read, 6);
  assert.equal(again.balanced, true);
  assert.deepEqual(again.files.map((f) => f.already_committed), [3, 3]);
  assert.equal((await readings(env.lake)).length, 6);
  // A different option is a different job: it does not skip, and dedup against the table finds every row. Each of
  // its windows still commits (no rows, only its txn), so that a rerun of that job skips them.
  const other = await run(env, { window: '1h' });
  assert.notEqual(other.job_id, first.job_id);
  assert.equal(other.written, 0);
  assert.equal(other.duplicates, 6);
  assert.equal(other.windows_committed, other.windows);
  assert.equal(await version(path.join(env.lake, 'readings')), v + other.windows);
  assert.equal((await readings(env.lake)).length, 6);
  const otherAgain = await run(env, { window: '1h' });
  assert.equal(otherAgain.windows_skipped, other.windows);
  assert.equal(otherAgain.duplicates, 0);
  assert.equal(otherAgain.already_committed, 6);
  assert.equal(await version(path.join(env.lake, 'readings')), v + other.windows);
});

test('--from/--to: rows outside go to quarantine as out_of_range_time, the rest is written', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  writeCsv(path.join(env.input, 'a.csv'), [line('s1', -1, 1), line('s1', 0, 2), line('s1', 59, 3), line('s1', 60, 4), line('s1', 61, 5)]);
  const r = await run(env, { from: '2024-01-01', to: '2024-01-01T01:00:00Z', window: '1h' });
  assert.deepEqual(await readings(env.lake), expected([['s1', 0, 2], ['s1', 59, 3]], 'a.csv'));
  assert.equal(r.quarantined_by_reason.out_of_range_time, 3);
  assert.equal(r.quarantined, 3);
  assert.equal(r.read, 5);
  assert.equal(r.balanced, true);
  const q = await tableRows(path.join(env.lake, 'quarantine'));
  assert.deepEqual(q.map((x) => [x.reason, Number(x.location), x.source_file]), [['out_of_range_time', 2, 'a.csv'], ['out_of_range_time', 5, 'a.csv'], ['out_of_range_time', 6, 'a.csv']]);
});

test('--partition month: readings partitioned by a YYYY-MM column, date kept as data', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  writeCsv(path.join(env.input, 'a.csv'), [line('s1', 0, 1), line('s1', 40 * DAY, 2)]);
  const r = await run(env, { partition: 'month' });
  assert.equal(r.windows_committed, 2);
  const table = await DeltaTable.open(path.join(env.lake, 'readings'));
  assert.deepEqual((await table.snapshot()).partitionColumns, ['month']);
  const rows = await tableRows(path.join(env.lake, 'readings'));
  assert.deepEqual(rows.map((x) => [x.month, new Date(x.date as number).toISOString().slice(0, 10)]).sort(), [['2024-01', '2024-01-01'], ['2024-02', '2024-02-10']]);
  // Dedup against the table finds the rows through the month partitions (another job: another window size).
  const other = await run(env, { partition: 'month', window: '1h' });
  assert.equal(other.duplicates, 2);
  assert.equal(other.written, 0);
  // The lake keeps its scheme: asking for the other one is a usage error, before anything is read.
  await assert.rejects(run(env, { partition: 'date' }), /partitioned by 'month'/);
});

test('a sensor list sets kinds and valid ranges: out-of-range values kept with quality bad, text for numeric sensors rejected', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  const list = path.join(env.dir, 'sensors.csv');
  writeCsv(list, []);
  (await import('node:fs')).writeFileSync(
    list,
    'sensor_id,asset,unit,interval_s,valid_min,valid_max,description,kind,value_type\n' +
      'p/temp,p,degC,60,0,100,temperature,temperature,numeric\n' +
      'p/state,p,,60,,,machine state,state,text\n',
  );
  writeCsv(path.join(env.input, 'a.csv'), [line('p/temp', 0, 50), line('p/temp', 1, 150), line('p/temp', 2, 'ERR'), line('p/state', 0, 'RUNNING')]);
  const r = await run(env, { sensors: list });
  assert.equal(r.out_of_range, 1);
  assert.equal(r.quarantined_by_reason.type_mismatch, 1);
  assert.deepEqual(await readings(env.lake), expected([['p/state', 0, 'RUNNING'], ['p/temp', 0, 50], ['p/temp', 1, 150, 0x80000000]], 'a.csv'));
  const sensors = await tableRows(path.join(env.lake, 'sensors'));
  assert.deepEqual(sensors.map((s) => [s.sensor_id, s.unit, s.valid_max, s.kind]).sort(), [['p/state', null, null, 'state'], ['p/temp', 'degC', 100, 'numeric']]);
});

test('a sensor is a state sensor only when none of its values in the whole input is numeric', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  // x: text first, a number only in the second file; y: text only.
  writeCsv(path.join(env.input, '1.csv'), [line('x', 0, 'ERR'), line('y', 0, 'OPEN')]);
  writeCsv(path.join(env.input, '2.csv'), [line('x', 1, 4.5), line('y', 1, 'CLOSED')]);
  const r = await run(env);
  assert.equal(r.quarantined_by_reason.type_mismatch, 1);
  assert.deepEqual(r.files.map((f) => [f.source, f.written, f.quarantined]), [['1.csv', 1, 1], ['2.csv', 2, 0]]);
  assert.deepEqual(await readings(env.lake), [...expected([['x', 1, 4.5], ['y', 1, 'CLOSED']], '2.csv'), ...expected([['y', 0, 'OPEN']], '1.csv')].sort((a, b) => (a.sensor_id + a.ts < b.sensor_id + b.ts ? -1 : 1)));
  const q = await tableRows(path.join(env.lake, 'quarantine'));
  assert.deepEqual(q.map((x) => [x.reason, x.source_file, Number(x.location)]), [['type_mismatch', '1.csv', 2]]);
});
