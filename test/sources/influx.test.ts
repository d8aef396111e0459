// influx.ts: line protocol with tags, escaping, every field type, the sensor id template, timestamp precision (exact
// ns), and the rejects: malformed lines once, per-field problems per field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../src/errors.js';
import { compileTemplate, parseLine, readInflux, type InfluxReadOptions } from '../../src/sources/influx.js';
import { collect, memoryInput, readings, rejectSummary, us } from './input-helper.js';

const read = (lines: string[], opts: InfluxReadOptions = {}, chunk?: number) => collect(readInflux(memoryInput(lines.join('\n'), { file: 'r.lp', chunk }), opts));
const T0 = us('2024-01-01T00:00:00Z');
const NS = '1704067200000000000';

test('every field is one reading: floats, integers, booleans, strings; default id measurement/field', async () => {
  const c = await read([`plant/p1,site=north temp=21.5,count=3i,big=7u,on=t,off=FALSE,state="RUNNING",note="say \\"hi\\" \\\\ ok",e=-1.5e3 ${NS}`]);
  assert.deepEqual(readings(c), [
    ['plant/p1/temp', T0, 21.5, null, null],
    ['plant/p1/count', T0, 3, null, null],
    ['plant/p1/big', T0, 7, null, null],
    ['plant/p1/on', T0, 1, 'true', null],
    ['plant/p1/off', T0, 0, 'false', null],
    ['plant/p1/state', T0, null, 'RUNNING', null],
    ['plant/p1/note', T0, null, 'say "hi" \\ ok', null],
    ['plant/p1/e', T0, -1500, null, null],
  ]);
  assert.ok(c.rows.every((r) => r.location === 1));
});

test('escapes in measurement, tag keys and values, field keys; string values with spaces, commas and equals', () => {
  const l = parseLine('my\\ meas\\,x,tag\\ k=v\\,1\\=2 field\\=k=1,s="a, b = c" -5');
  assert.ok(typeof l !== 'string');
  assert.equal(l.measurement, 'my meas,x');
  assert.deepEqual([...l.tags!], [['tag k', 'v,1=2']]);
  assert.deepEqual(
    l.fields.map((f) => [f.key, f.num, f.text]),
    [
      ['field=k', 1, null],
      ['s', NaN, 'a, b = c'],
    ],
  );
  assert.equal(l.ts, '-5');
});

test('sensor id template with tags; a line lacking the tag rejects each field', async () => {
  const c = await read([`m,site=n,asset=p1 temp=1,flow=2 ${NS}`, `m,site=n temp=1 ${NS}`], { sensorId: '{tag:site}.{tag:asset}:{field}' });
  assert.deepEqual(
    c.rows.map((r) => r.sensor_id),
    ['n.p1:temp', 'n.p1:flow'],
  );
  assert.deepEqual(rejectSummary(c), [['missing_sensor_id', 2]]);
  assert.match(c.rejects[0].message, /no tag "asset"/);
  assert.throws(() => compileTemplate('{measurement}/{nope}'), InvalidArgumentError);
});

test('timestamps: ns by default and exact to the µs, other units by time.epochUnit, negatives floored', async () => {
  const c = await read(['m v=1 1704067200123456789', 'm v=2 -1500', 'm v=3 1704067200'], {});
  assert.deepEqual(
    c.rows.map((r) => r.ts),
    [T0 + 123_456, -2, 1_704_067],
  );
  const s = await read(['m v=1 1704067200'], { time: { epochUnit: 's' } });
  assert.deepEqual(
    s.rows.map((r) => r.ts),
    [T0],
  );
});

test('rejects: malformed lines once, a missing timestamp and non-finite values per field', async () => {
  const c = await read([
    '# a comment',
    'HTTP/1.1 503 Service Unavailable',
    'm temp= 1704067200000000000',
    `m temp=1 ${NS} junk`,
    'm temp=1,flow=2',
    `m temp=NaN,flow=2 ${NS}`,
    `m temp=abc ${NS}`,
    `m,site temp=1 ${NS}`,
    `m temp="open ${NS}`,
    '',
    `m temp=1 ${NS}`,
  ]);
  assert.deepEqual(rejectSummary(c), [
    ['malformed_record', 2],
    ['malformed_record', 3],
    ['malformed_record', 4],
    ['bad_timestamp', 5],
    ['bad_timestamp', 5],
    ['non_finite', 6],
    ['malformed_record', 7],
    ['malformed_record', 8],
    ['malformed_record', 9],
  ]);
  const m = c.rejects.map((r) => r.message);
  assert.match(m[0], /^not line protocol: field "503" has no value/);
  assert.match(m[2], /unexpected text "1704067200000000000 junk" after the fields/);
  assert.equal(m[3], 'missing timestamp (line protocol timestamp) for field "temp"');
  assert.equal(m[5], 'field "temp" value NaN is not a finite number');
  assert.match(m[6], /field "temp" has the value "abc", which is no number/);
  assert.deepEqual(readings(c), [
    ['m/flow', T0, 2, null, null],
    ['m/temp', T0, 1, null, null],
  ]);
  assert.deepEqual(
    c.rows.map((r) => r.location),
    [6, 11],
  );
  assert.equal(c.recordsRead, 11);
});

test('a batch that fills mid-line resumes the line; same rows whatever the chunking', async () => {
  const lines = Array.from({ length: 5 }, (_, i) => `m a=${i},b=${i + 10},c=${i + 20} ${NS}`);
  const whole = await read(lines);
  const small = await read(lines, { batchRows: 2 }, 3);
  assert.deepEqual(small.rows, whole.rows);
  assert.equal(whole.rows.length, 15);
  assert.equal(small.chunks.length, 8);
});
