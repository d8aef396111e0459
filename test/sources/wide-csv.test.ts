// wide-csv.ts: one column per tag melted to narrow readings; empty cells are no readings; row-level and cell-level
// rejects; the timestamp column chosen by name or first; rows split across chunks when a batch fills mid-row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchemaMismatchError } from '../../src/errors.js';
import { readWideCsv, type WideCsvReadOptions } from '../../src/sources/wide-csv.js';
import { collect, memoryInput, readings, rejectSummary, us } from './input-helper.js';

const read = (text: string, opts: WideCsvReadOptions = {}, chunk?: number) => collect(readWideCsv(memoryInput(text, { file: 'wide-1s.csv', chunk }), opts));
const T0 = us('2024-01-01T00:00:00Z');

test('each non-empty cell is one reading of the column tag; empty cells are not counted', async () => {
  const c = await read('ts,p1/temp,p1/state,p2/flow\n2024-01-01T00:00:00Z,21.5,RUNNING,\n2024-01-01T00:00:01Z,,,3\n');
  assert.deepEqual(readings(c), [
    ['p1/temp', T0, 21.5, null, null],
    ['p1/state', T0, null, 'RUNNING', null],
    ['p2/flow', T0 + 1e6, 3, null, null],
  ]);
  assert.deepEqual(
    c.rows.map((r) => r.location),
    [2, 2, 3],
  );
  assert.equal(c.recordsRead, 3);
});

test('rejects: a bad row timestamp once per row, non-finite cells, wrong column count once per row', async () => {
  const c = await read('ts,a,b,c\nN/A,1,,2\n2024-01-01T00:00:00Z,NaN,4,Comm Fail\n2024-01-01T00:00:00Z,1,2\n');
  assert.deepEqual(rejectSummary(c), [
    ['bad_timestamp', 2],
    ['non_finite', 3],
    ['malformed_record', 4],
  ]);
  assert.equal(c.rejects[0].message, 'ts "N/A" is not an ISO 8601 timestamp or an epoch number (column "ts", for the cell of column "a")');
  assert.equal(c.rejects[1].message, 'value "NaN" is not a finite number (column "a")');
  assert.equal(c.rejects[2].message, 'expected 4 columns (as in the header), found 3');
  assert.equal(c.rejects[0].raw, 'N/A,1,,2');
  assert.deepEqual(readings(c), [
    ['b', T0, 4, null, null],
    ['c', T0, null, 'Comm Fail', null],
  ]);
  assert.equal(c.recordsRead, 5);
});

test('the timestamp column by name or first column, excluded columns, decimal comma', async () => {
  const c = await read('site;a;time;b\nX;1,5;2024-01-01T00:00:00Z;2\n', { delimiter: ';', decimal: ',', tsColumn: 'time', exclude: ['site'] });
  assert.deepEqual(readings(c), [
    ['a', T0, 1.5, null, null],
    ['b', T0, 2, null, null],
  ]);
  const f = await read('stamp,a\n2024-01-01T00:00:00Z,1\n');
  assert.deepEqual(readings(f), [['a', T0, 1, null, null]]);
  await assert.rejects(read('x,a\n', { tsColumn: 'time' }), SchemaMismatchError);
  await assert.rejects(read('ts\n'), /no tag columns/);
});

test('a batch that fills mid-row resumes the row in the next chunk', async () => {
  const lines = ['ts,a,b,c'];
  for (let i = 0; i < 7; i++) lines.push(`2024-01-01T00:00:0${i}Z,${i},${i % 2 ? '' : i + 10},${i + 20}`);
  const text = lines.join('\n');
  const whole = await read(text);
  for (const batchRows of [1, 2, 4]) {
    const small = await read(text, { batchRows }, 5);
    assert.deepEqual(small.rows, whole.rows, `batchRows ${batchRows}`);
    assert.ok(small.chunks.every((ch) => ch.recordsRead <= batchRows));
  }
  assert.equal(whole.rows.length, 7 * 3 - 3);
});

test('a naive row time resolved by a DST rule counts once per reading of the row', async () => {
  const c = await read('ts,a,b,c\n2024-10-27T02:30:00,1,,3\n', { time: { zone: 'Europe/Berlin' } });
  assert.deepEqual(
    c.rows.map((r) => r.ts),
    [us('2024-10-27T00:30:00Z'), us('2024-10-27T00:30:00Z')],
  );
  assert.deepEqual(c.dst, { ambiguous: 2, nonexistent: 0 });
});

test('a column without a name has no sensor id', async () => {
  const c = await read('ts,a,\n2024-01-01T00:00:00Z,1,2\n2024-01-01T00:00:00Z,1,\n');
  assert.deepEqual(rejectSummary(c), [['missing_sensor_id', 2]]);
  assert.equal(c.rows.length, 2);
});
