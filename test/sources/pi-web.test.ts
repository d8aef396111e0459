// pi-web.ts and json-items.ts: recorded-values and stream-set responses read item by item at any chunking, value
// forms (numbers, text, digital and system states), quality flags, sensor ids, rejects, truncation and non-PI files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidRecordError } from '../../src/errors.js';
import { readPiWeb, type PiWebReadOptions } from '../../src/sources/pi-web.js';
import { BAD, GOOD, UNCERTAIN } from '../../src/sources/quality.js';
import { collect, memoryInput, readings, rejectSummary, us } from './input-helper.js';

const read = (text: string, opts: PiWebReadOptions = {}, chunk?: number, file = 'data/SINUSOID.recorded.json') => collect(readPiWeb(memoryInput(text, { file, chunk }), opts));
const T0 = us('2024-01-01T00:00:00Z');
const at = (s: number) => `2024-01-01T00:00:0${s}Z`;
const flags = '"Good": true, "Questionable": false, "Substituted": false, "Annotated": false';

const RECORDED = `{
  "Links": {},
  "Items": [
    {"Timestamp": "${at(0)}", "Value": 21.5, "UnitsAbbreviation": "°C", ${flags}},
    {"Timestamp": "${at(1)}", "Value": {"Name": "Running", "Value": 1, "IsSystem": false}, ${flags}},
    {"Timestamp": "${at(2)}", "Value": {"Name": "No Data", "Value": 248, "IsSystem": true}, "Good": false},
    {"Timestamp": "${at(3)}", "Value": "12.5", "Good": true, "Questionable": true},
    {"Timestamp": "${at(4)}", "Value": 3, "Good": true, "Substituted": true},
    {"Timestamp": "${at(5)}", "Value": 4, "Good": false, "Questionable": true},
    {"Timestamp": "${at(6)}", "Value": "He said \\"hi\\" {[\\\\", ${flags}},
    {"Timestamp": "2024-01-01T00:00:07.1234567Z", "Value": true}
  ],
  "UnitsAbbreviation": "°C"
}`;

test('a recorded-values response: every value form and quality flag; id from the file name; index as location', async () => {
  const c = await read(RECORDED);
  assert.deepEqual(readings(c), [
    ['SINUSOID', T0, 21.5, null, GOOD],
    ['SINUSOID', T0 + 1e6, 1, 'Running', GOOD],
    ['SINUSOID', T0 + 2e6, null, 'No Data', BAD],
    ['SINUSOID', T0 + 3e6, 12.5, null, UNCERTAIN],
    ['SINUSOID', T0 + 4e6, 3, null, UNCERTAIN],
    ['SINUSOID', T0 + 5e6, 4, null, BAD],
    ['SINUSOID', T0 + 6e6, null, 'He said "hi" {[\\', GOOD],
    ['SINUSOID', T0 + 7_123_456, 1, 'true', null],
  ]);
  assert.deepEqual(
    c.rows.map((r) => r.location),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  assert.equal(c.chunks[0].locationKind, 'record');
  const named = await read(RECORDED, { sensorId: 'plant.temp' });
  assert.ok(named.rows.every((r) => r.sensor_id === 'plant.temp'));
});

test('the same rows at any chunking (strings, escapes and the Items key split anywhere)', async () => {
  const whole = await read(RECORDED);
  for (const chunk of [1, 2, 3, 7, 13]) {
    const c = await read(RECORDED, {}, chunk);
    assert.deepEqual(c.rows, whole.rows, `chunk ${chunk}`);
    assert.equal(c.rejects.length, 0);
  }
});

const STREAMS = `{"Links": {}, "Items": [
  {"WebId": "F1", "Name": "TAG.A", "Path": "\\\\\\\\srv\\\\TAG.A", "Links": {"Self": "x"}, "Items": [
     {"Timestamp": "${at(0)}", "Value": 1, ${flags}}, {"Timestamp": "${at(1)}", "Value": 2, ${flags}}], "UnitsAbbreviation": "m"},
  {"WebId": "F2", "Path": "\\\\\\\\srv\\\\TAG.B", "Items": [{"Timestamp": "${at(2)}", "Value": 3, ${flags}}]},
  {"WebId": "F3", "Items": []},
  {"WebId": "F4", "Items": [{"Timestamp": "${at(3)}", "Value": 4}]}
]}`;

test('a stream set: each stream named by Name, else Path, else WebId; locations run across streams', async () => {
  for (const chunk of [1, 5, 1 << 20]) {
    const c = await read(STREAMS, {}, chunk);
    assert.deepEqual(
      c.rows.map((r) => [r.sensor_id, r.value, r.location]),
      [
        ['TAG.A', 1, 0],
        ['TAG.A', 2, 1],
        ['\\\\srv\\TAG.B', 3, 2],
        ['F4', 4, 3],
      ],
      `chunk ${chunk}`,
    );
  }
  const top = await read(`{"Name": "TOP", "Items": [{"Timestamp": "${at(0)}", "Value": 1}]}`);
  assert.deepEqual(readings(top), [['TOP', T0, 1, null, null]]);
});

test('rejects of single items with reason, index and the item as raw text', async () => {
  const c = await read(`{"Items": [
    {"Value": 1},
    {"Timestamp": "N/A", "Value": 1},
    {"Timestamp": "${at(0)}", "Value": null},
    {"Timestamp": "${at(0)}", "Value": [1, 2]},
    {"Timestamp": "${at(0)}", "Value": "NaN"},
    {"Timestamp": "${at(0)}", "Value": ""},
    {"Timestamp": "${at(0)}", "Value": {"Foo": 1}},
    42,
    {"Timestamp": 2024-01-01, "Value": 1},
    {"Timestamp": "${at(0)}", "Value": 9}
  ]}`);
  assert.deepEqual(rejectSummary(c), [
    ['bad_timestamp', 0],
    ['bad_timestamp', 1],
    ['bad_value', 2],
    ['type_mismatch', 3],
    ['non_finite', 4],
    ['bad_value', 5],
    ['type_mismatch', 6],
    ['malformed_record', 7],
    ['malformed_record', 8],
  ]);
  assert.equal(c.rejects[0].message, 'missing ts (field "Timestamp")');
  assert.equal(c.rejects[2].message, 'missing value (field "Value")');
  assert.equal(c.rejects[7].message, 'an item is 42, expected an object');
  assert.equal(c.rejects[1].raw, '{"Timestamp": "N/A", "Value": 1}');
  assert.deepEqual(readings(c), [['SINUSOID', T0, 9, null, null]]);
  assert.equal(c.rows[0].location, 9);
  assert.equal(c.recordsRead, 10);
});

test('a truncated file: the cut item (or the missing end) is one malformed record after the complete ones', async () => {
  const cutItem = RECORDED.slice(0, RECORDED.indexOf('"Value": 3') + 5);
  const a = await read(cutItem, {}, 16);
  assert.equal(a.rows.length, 4);
  assert.deepEqual(rejectSummary(a), [['malformed_record', 4]]);
  assert.match(a.rejects[0].message, /ends inside this item/);
  assert.match(a.rejects[0].raw, /^\{"Timestamp": "2024-01-01T00:00:04Z"/);
  const between = RECORDED.slice(0, RECORDED.indexOf('{"Timestamp": "2024-01-01T00:00:07'));
  const b = await read(between);
  assert.equal(b.rows.length, 7);
  assert.deepEqual(rejectSummary(b), [['malformed_record', 7]]);
  assert.match(b.rejects[0].message, /ends before its JSON closes/);
});

test('files that are not PI responses fail with the file name and what they hold', async () => {
  const bad = (e: unknown, re: RegExp) => e instanceof InvalidRecordError && /SINUSOID\.recorded\.json/.test(e.message) && re.test(e.message);
  await assert.rejects(read('{"Errors": ["PI Point not found"]}'), (e) => bad(e, /no "Items" array .*PI Point not found/));
  await assert.rejects(read('<html>502</html>'), (e) => bad(e, /expected a JSON object/));
  await assert.rejects(read('  '), (e) => bad(e, /holds no JSON/));
  await assert.rejects(read('{"Items": []} {"Items": []}'), (e) => bad(e, /unexpected text after the JSON object/));
  await assert.rejects(read(`{"Items": [{"Timestamp": "${at(0)}", "Value": 1}], "Name": "LATE"}`), (e) => bad(e, /named "LATE" after its Items/));
  const empty = await read('{"Items": []}');
  assert.equal(empty.recordsRead, 0);
  assert.equal(empty.chunks.length, 1);
});

test('chunks of batchRows items', async () => {
  const items = Array.from({ length: 10 }, (_, i) => `{"Timestamp": "${at(i % 10)}", "Value": ${i}}`).join(',');
  const c = await read(`{"Items": [${items}]}`, { batchRows: 3 }, 50);
  assert.deepEqual(
    c.chunks.map((ch) => ch.recordsRead),
    [3, 3, 3, 1],
  );
  assert.deepEqual(
    c.rows.map((r) => r.value),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
});
