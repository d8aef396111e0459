// jsonl.ts: JSON objects per line, fields by dotted path, typed values (numbers, numeric text, text, booleans, records),
// quality words, codes and booleans, and the rejects of broken lines and wrong types with their line numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../src/errors.js';
import { readJsonl, type JsonlReadOptions } from '../../src/sources/jsonl.js';
import { BAD, GOOD, UNCERTAIN } from '../../src/sources/quality.js';
import { collect, memoryInput, readings, rejectSummary, us } from './input-helper.js';

const read = (lines: string[], opts: JsonlReadOptions = {}, chunk?: number) => collect(readJsonl(memoryInput(lines.join('\n'), { file: 'r.jsonl', chunk }), opts));
const T0 = us('2024-01-01T00:00:00Z');
const TS = '"ts":"2024-01-01T00:00:00Z"';

test('default fields: numbers, numeric text, text states, booleans, quality in every form', async () => {
  const c = await read([
    `{${TS},"sensor_id":"a","value":21.5,"quality":"good"}`,
    `{${TS},"sensor_id":"a","value":"22.5","quality":"0x40000000"}`,
    `{${TS},"sensor_id":"s","value":"RUNNING","quality":"bad"}`,
    `{${TS},"sensor_id":"v","value":true,"quality":true}`,
    `{${TS},"sensor_id":42,"value":false,"quality":false}`,
    `{"ts":1704067200000,"sensor_id":"a","value":1}`,
    `{${TS},"sensor_id":"a","value":1,"quality":null}`,
  ]);
  assert.deepEqual(readings(c), [
    ['a', T0, 21.5, null, GOOD],
    ['a', T0, 22.5, null, UNCERTAIN],
    ['s', T0, null, 'RUNNING', BAD],
    ['v', T0, 1, 'true', GOOD],
    ['42', T0, 0, 'false', BAD],
    ['a', T0, 1, null, null],
    ['a', T0, 1, null, null],
  ]);
  assert.deepEqual(
    c.rows.map((r) => r.location),
    [1, 2, 3, 4, 5, 6, 7],
  );
});

test('rejects with reason, line and a message naming the field', async () => {
  const c = await read([
    `{${TS},"sensor_id":"a","value":1`,
    '<html>502 Bad Gateway</html>',
    '[1,2]',
    `{"sensor_id":"a","value":1}`,
    `{"ts":"N/A","sensor_id":"a","value":1}`,
    `{${TS},"value":1}`,
    `{${TS},"sensor_id":"","value":1}`,
    `{${TS},"sensor_id":"a","value":null}`,
    `{${TS},"sensor_id":"a"}`,
    `{${TS},"sensor_id":"a","value":{"Name":"Comm Fail","Value":246,"IsSystem":true}}`,
    `{${TS},"sensor_id":"a","value":[1]}`,
    `{${TS},"sensor_id":"a","value":1e999}`,
    `{${TS},"sensor_id":"a","value":"NaN"}`,
    `{${TS},"sensor_id":"a","value":""}`,
    `{${TS},"sensor_id":"a","value":1,"quality":"??"}`,
    `{${TS},"sensor_id":{"id":1},"value":1}`,
    `{"ts":true,"sensor_id":"a","value":1}`,
  ]);
  assert.deepEqual(rejectSummary(c), [
    ['malformed_record', 1],
    ['malformed_record', 2],
    ['malformed_record', 3],
    ['bad_timestamp', 4],
    ['bad_timestamp', 5],
    ['missing_sensor_id', 6],
    ['missing_sensor_id', 7],
    ['bad_value', 8],
    ['bad_value', 9],
    ['type_mismatch', 10],
    ['type_mismatch', 11],
    ['non_finite', 12],
    ['non_finite', 13],
    ['bad_value', 14],
    ['bad_quality', 15],
    ['type_mismatch', 16],
    ['bad_timestamp', 17],
  ]);
  const m = c.rejects.map((r) => r.message);
  assert.match(m[0], /^not valid JSON/);
  assert.equal(m[2], 'not a JSON object but a list');
  assert.equal(m[3], 'missing ts (field "ts")');
  assert.equal(m[4], 'ts "N/A" is not an ISO 8601 timestamp or an epoch number (field "ts")');
  assert.equal(m[7], 'missing value (field "value")');
  assert.match(m[9], /^value \{"Name":"Comm Fail".* is a record, expected a number or text \(field "value"\)$/);
  assert.equal(m[16], 'ts true is neither text nor a number (field "ts")');
  assert.equal(c.rejects[1].raw, '<html>502 Bad Gateway</html>');
  assert.equal(c.rows.length, 0);
  assert.equal(c.recordsRead, 17);
});

test('dotted paths, keys with dots, value_text beside a null value', async () => {
  const c = await read([
    '{"meta":{"time":"2024-01-01T00:00:00Z","tag":"a"},"reading":{"v":3},"q.flag":"uncertain"}',
    '{"meta":{"time":"2024-01-01T00:00:00Z","tag":"b"},"reading":{"v":null,"s":"Open"}}',
    '{"meta":{"time":"2024-01-01T00:00:00Z"},"reading":{"v":1}}',
  ], { fields: { ts: 'meta.time', sensor_id: 'meta.tag', value: 'reading.v', quality: 'q.flag', value_text: 'reading.s' } });
  assert.deepEqual(readings(c), [
    ['a', T0, 3, null, UNCERTAIN],
    ['b', T0, null, 'Open', null],
  ]);
  assert.deepEqual(rejectSummary(c), [['missing_sensor_id', 3]]);
  assert.equal(c.rejects[0].message, 'missing sensor_id (field "meta.tag")');
});

test('field indexes are refused; blank lines are skipped and still numbered; batches split', async () => {
  await assert.rejects(collect(readJsonl(memoryInput('{}'), { fields: { ts: 3 } })), InvalidArgumentError);
  const lines = ['', `{${TS},"sensor_id":"a","value":1}`, '   ', `{${TS},"sensor_id":"b","value":2}`, `{${TS},"sensor_id":"c","value":3}`];
  const c = await read(lines, { batchRows: 2 }, 4);
  assert.deepEqual(
    c.rows.map((r) => [r.sensor_id, r.location]),
    [
      ['a', 2],
      ['b', 4],
      ['c', 5],
    ],
  );
  assert.equal(c.chunks.length, 2);
  assert.equal(c.recordsRead, 3);
});
