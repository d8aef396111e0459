// csv.ts: narrow CSV by header name or index, dialects (delimiter, decimal comma, quotes), every reject reason with its
// line and a message naming the field, chunking and batch boundaries, and the accounting of records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError, SchemaMismatchError } from '../../src/errors.js';
import { readCsv, type CsvReadOptions } from '../../src/sources/csv.js';
import { BAD, GOOD, UNCERTAIN } from '../../src/sources/quality.js';
import { collect, memoryInput, readings, rejectSummary, us } from './input-helper.js';

const read = (text: string, opts: CsvReadOptions = {}, chunk?: number) => collect(readCsv(memoryInput(text, { file: 'plant.csv', chunk }), opts));
const T0 = us('2024-01-01T00:00:00Z');

test('the default layout: rows in order, text states as value_text, quality words, line numbers', async () => {
  const text = 'ts,sensor_id,value,quality\n2024-01-01T00:00:00.000Z,p1/temp,21.5,good\n2024-01-01T00:00:01Z,p1/state,RUNNING,uncertain\n2024-01-01T00:00:02Z,p1/temp,-3,bad\n';
  const c = await read(text);
  assert.deepEqual(c.rows, [
    { ts: T0, sensor_id: 'p1/temp', value: 21.5, value_text: null, quality: GOOD, location: 2 },
    { ts: T0 + 1e6, sensor_id: 'p1/state', value: null, value_text: 'RUNNING', quality: UNCERTAIN, location: 3 },
    { ts: T0 + 2e6, sensor_id: 'p1/temp', value: -3, value_text: null, quality: BAD, location: 4 },
  ]);
  assert.equal(c.recordsRead, 3);
  assert.equal(c.chunks.at(-1)!.bytesRead, Buffer.byteLength(text));
  assert.equal(c.chunks[0].locationKind, 'line');
});

test('every reject reason, with its line, raw text and a message naming the field and value', async () => {
  const text = [
    'ts,sensor_id,value,quality',
    'N/A,a,1,good',
    '2024-01-01T00:00:00Z,,1,good',
    '2024-01-01T00:00:00Z,a,,good',
    '2024-01-01T00:00:00Z,a,NaN,good',
    '2024-01-01T00:00:00Z,a,-Infinity,good',
    '2024-01-01T00:00:00Z,a,1,q=0xFF',
    '2024-01-01T00:00:00Z,a,1',
    '2024-01-01T00:00:00Z,a,1,good,extra',
    '2024-01-01T00:00:00Z,a,I/O Timeout,good',
    '2024-01-01T00:00:00Z,a,2,',
  ].join('\n');
  const c = await read(text);
  assert.deepEqual(rejectSummary(c), [
    ['bad_timestamp', 2],
    ['missing_sensor_id', 3],
    ['bad_value', 4],
    ['non_finite', 5],
    ['non_finite', 6],
    ['bad_quality', 7],
    ['malformed_record', 8],
    ['malformed_record', 9],
  ]);
  const m = c.rejects.map((r) => r.message);
  assert.equal(m[0], 'ts "N/A" is not an ISO 8601 timestamp or an epoch number (column "ts")');
  assert.equal(m[1], 'missing sensor_id (column "sensor_id")');
  assert.equal(m[2], 'missing value (column "value")');
  assert.equal(m[3], 'value "NaN" is not a finite number (column "value")');
  assert.match(m[5], /^quality "q=0xFF" is not a known quality .* \(column "quality"\)$/);
  assert.equal(m[6], 'expected 4 columns (as in the header), found 3');
  assert.equal(c.rejects[0].raw, 'N/A,a,1,good');
  assert.equal(c.rejects[0].file, 'plant.csv');
  // Status text goes on as a text reading (validation decides); an empty quality is no quality.
  assert.deepEqual(readings(c), [
    ['a', T0, null, 'I/O Timeout', GOOD],
    ['a', T0, 2, null, null],
  ]);
  assert.equal(c.recordsRead, 10);
});

test('columns by other names, in any order, with value_text and case-insensitive header match', async () => {
  const c = await read('Quality;Tag;Time;V;Txt\nGOOD;a;2024-01-01T01:00:00+01:00;1,5;\n;b;2024-01-01T00:00:00Z;;Open\n', {
    delimiter: ';',
    decimal: ',',
    fields: { ts: 'time', sensor_id: 'Tag', value: 'V', value_text: 'Txt' },
  });
  assert.deepEqual(readings(c), [
    ['a', T0, 1.5, null, GOOD],
    ['b', T0, null, 'Open', null],
  ]);
  const bad = await read('Tag;Time;V\nx;N/A;1\n', { delimiter: ';', fields: { ts: 'Time', sensor_id: 'Tag', value: 'V' } });
  assert.match(bad.rejects[0].message, /\(column "Time"\)$/);
});

test('headerless by index, and the default index layout ts,sensor_id,value[,quality]', async () => {
  const c = await read('a\t2024-01-01T00:00:00Z\t7\n', { header: false, delimiter: '\t', fields: { sensor_id: 0, ts: 1, value: 2 } });
  assert.deepEqual(readings(c), [['a', T0, 7, null, null]]);
  assert.equal(c.rows[0].location, 1);
  const d = await read('2024-01-01T00:00:00Z,a,1,bad\n2024-01-01T00:00:00Z,a\n', { header: false });
  assert.deepEqual(readings(d), [['a', T0, 1, null, BAD]]);
  assert.deepEqual(rejectSummary(d), [['malformed_record', 2]]);
  assert.match(d.rejects[0].message, /expected 4 columns \(as on line 1\), found 2/);
  const e = await read('x,a,1\n', { header: false, fields: { ts: 0, sensor_id: 1, value: 2 } });
  assert.match(e.rejects[0].message, /\(column index 0\)$/);
  await assert.rejects(read('a,b\n', { header: false, fields: { ts: 'ts' } }), InvalidArgumentError);
});

test('quoted fields holding delimiters, doubled quotes and newlines; line numbers count physical lines', async () => {
  const text = 'ts,sensor_id,value,quality\n"2024-01-01T00:00:00Z","line ""A"", east",1,good\n2024-01-01T00:00:00Z,"multi\nline\r\nid",2,good\n2024-01-01T00:00:00Z,c,3,good\n';
  for (const chunk of [1, 3, 7, 1 << 20]) {
    const c = await read(text, {}, chunk);
    assert.deepEqual(
      c.rows.map((r) => [r.sensor_id, r.value, r.location]),
      [
        ['line "A", east', 1, 2],
        ['multi\nline\r\nid', 2, 3],
        ['c', 3, 6],
      ],
      `chunk ${chunk}`,
    );
  }
});

test('a broken quote rejects its line only; reading goes on at the next line', async () => {
  const c = await read('ts,sensor_id,value\n2024-01-01T00:00:00Z,"a"x,1\n2024-01-01T00:00:00Z,b,2\n2024-01-01T00:00:00Z,"never closed,3\n2024-01-01T00:00:00Z,c,4\n');
  assert.deepEqual(rejectSummary(c), [
    ['malformed_record', 2],
    ['malformed_record', 4],
  ]);
  assert.match(c.rejects[0].message, /unexpected text after the closing quote of field 2/);
  assert.match(c.rejects[1].message, /never closed/);
  assert.deepEqual(
    c.rows.map((r) => [r.sensor_id, r.location]),
    [
      ['b', 3],
      ['c', 5],
    ],
  );
});

test('CRLF, a BOM, blank lines (skipped, not counted, still numbered) and a last line without newline', async () => {
  const c = await read('\ufeffts,sensor_id,value\r\n\r\n2024-01-01T00:00:00Z,a,1\r\n   \r\n2024-01-01T00:00:00Z,b,2');
  assert.deepEqual(
    c.rows.map((r) => [r.sensor_id, r.location]),
    [
      ['a', 3],
      ['b', 5],
    ],
  );
  assert.equal(c.recordsRead, 2);
});

test('epoch timestamps and naive local times with a zone, DST counted per chunk', async () => {
  const text = 'ts,sensor_id,value\n1704067200,a,1\n1704067200123456789,a,2\n2024-10-27T02:30:00,a,3\n2024-03-31T02:30:00,a,4\n2024-10-27T02:45:00,,5\n';
  const c = await read(text, { time: { zone: 'Europe/Berlin' } });
  assert.deepEqual(
    c.rows.map((r) => r.ts),
    [T0, T0 + 123_456, us('2024-10-27T00:30:00Z'), us('2024-03-31T01:30:00Z')],
  );
  assert.deepEqual(c.dst, { ambiguous: 1, nonexistent: 1 }); // the rejected row 6 does not count
  assert.deepEqual(rejectSummary(c), [['missing_sensor_id', 6]]);
  const r = await read(text, { time: { zone: 'Europe/Berlin', ambiguous: 'reject', nonexistent: 'reject' } });
  assert.deepEqual(rejectSummary(r), [
    ['ambiguous_local_time', 4],
    ['nonexistent_local_time', 5],
    ['ambiguous_local_time', 6],
  ]);
  assert.deepEqual(r.dst, { ambiguous: 0, nonexistent: 0 });
  const n = await read('ts,sensor_id,value\n2024-01-01T00:00:00,a,1\n');
  assert.match(n.rejects[0].message, /set time.zone/);
});

test('chunks of batchRows readings (rejects count too), same rows as one chunk, bytes growing', async () => {
  const lines = ['ts,sensor_id,value'];
  for (let i = 0; i < 25; i++) lines.push(i % 5 === 4 ? 'bad,a,1' : `2024-01-01T00:00:${String(i).padStart(2, '0')}Z,s${i % 3},${i}`);
  const text = lines.join('\n') + '\n';
  const whole = await read(text);
  const small = await read(text, { batchRows: 4 }, 10);
  assert.deepEqual(small.rows, whole.rows);
  assert.deepEqual(small.rejects, whole.rejects);
  assert.equal(whole.rows.length, 20);
  assert.equal(small.chunks.length, 7);
  assert.ok(small.chunks.every((ch) => ch.recordsRead <= 4));
  const bytes = small.chunks.map((ch) => ch.bytesRead);
  assert.deepEqual([...bytes].sort((a, b) => a - b), bytes);
  assert.equal(bytes.at(-1), Buffer.byteLength(text));
});

test('a file with only a header, or empty, gives one empty chunk; a missing column fails the file', async () => {
  for (const text of ['ts,sensor_id,value\n', '']) {
    const c = await read(text);
    assert.equal(c.chunks.length, 1);
    assert.equal(c.chunks[0].batch, null);
    assert.equal(c.recordsRead, 0);
  }
  await assert.rejects(read('time,id,v\n'), (e: Error) => e instanceof SchemaMismatchError && /plant\.csv: no column "ts" for ts \(the header has: time, id, v\)/.test(e.message));
  await assert.rejects(read('ts,sensor_id,value\n', { fields: { quality: 'q' } }), SchemaMismatchError);
  await assert.rejects(read('a\n', { decimal: ',', delimiter: ',' }), InvalidArgumentError);
});
