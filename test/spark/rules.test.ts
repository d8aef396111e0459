// The Spark job's Python port of the record rules (src/spark/sensorlake_spark/rules.py, records.py) against the
// TypeScript sources, without Spark: timestamps, values, quality flags, JS number text, and whole narrow CSV, wide
// CSV and JSON Lines files full of edge cases read by both, reading for reading and reject for reject.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import fc from 'fast-check';
import { isoMicros } from '../../src/backfill/plan.js';
import { recordJson } from '../../src/backfill/validate.js';
import type { SourceChunk } from '../../src/sources/batch.js';
import { bufferInput, readSource } from '../../src/sources/index.js';
import type { SourceFormat } from '../../src/sources/options.js';
import { makeQualityParser } from '../../src/sources/quality.js';
import { makeTimestampParser } from '../../src/sources/timestamps.js';
import { makeValueParser } from '../../src/sources/values.js';
import { REPO_ROOT } from '../helpers.js';

const PYTHON = [path.join(REPO_ROOT, '.venv', 'bin', 'python'), 'python3'].find((p) => spawnSync(p, ['-c', 'pass']).status === 0)!;

function python(code: string, input: unknown): unknown {
  const r = spawnSync(PYTHON, ['-c', code], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYTHONPATH: path.join(REPO_ROOT, 'src', 'spark') } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as unknown;
}

const failure = (x: unknown): unknown => (typeof x === 'object' && x !== null ? { reason: (x as { reason: string }).reason, message: (x as { message: string }).message } : x);

const TIMESTAMPS = [
  '2024-01-01T00:00:00Z', '2024-01-01T00:00:00.123Z', '2024-01-01T00:00:00.1234567Z', '2024-01-01t00:00:00z', '2024-01-01 12:00 +01:00',
  '2024-01-01T12:00:00+0530', '2024-01-01T12:00:00-05', '2024-01-01T12:00:00,5Z', '  2024-01-01T00:00:00Z ', '2024-02-29T00:00:00Z',
  '2023-02-29T00:00:00Z', '2024-13-45T25:61:00Z', '2024-01-01T24:00:00Z', '2024-01-01T12:60Z', '2024-01-01T12:00:60Z', '2024-01-01T12:00:00.Z',
  '2024-01-01T12:00:00+24:00', '2024-01-01T12:00:00 +01:00', '2024-01-01T12', '2024-01-01T12:00:00', '2024-01-01', '2024-01-01Z',
  '2024-01-01T12:00:00Zjunk', '', 'N/A', '#######', 'yesterday 14:00', '1704067200', '1704067200.5', '1704067200123', '1704067200123456',
  '1704067200123456789', '-1', '1.5e9', '.5', '+1704067200', '1e30', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '1700-01-01T00:00:00Z',
  '2024-01-01T00:00:00.000001Z', 'x'.repeat(80),
];
const VALUES = ['23.45', '-0.5', '1e5', '1.', '.5', '+5', ' 12 ', '0x1F', '0X1F', '0B101', '1,5', '', '   ', 'NaN', '-Infinity', 'inf', '1e999', 'I/O Timeout', 'running', '12abc', '1.2.3', '007', '-0', '1e-400', '123456789012345678901234567890'];
const QUALITIES = ['good', 'GOOD', ' ok ', 'uncertain', 'questionable', 'bad', '192', '0x40000000', '0XFF', '4294967295', '4294967296', '??', 'q=0xFF', 'unknown', '   ', '-1'];

test('timestamps parse to the same µs, or fail with the same reason and message', () => {
  const parse = makeTimestampParser();
  const ours = TIMESTAMPS.map((s) => failure(parse(s)));
  const numbers = [1704067200, 1704067200.5, 1704067200123, 1.5e9, -1, 1.7040672001234568e18];
  const oursN = numbers.map((n) => failure(parse(n)));
  const theirs = python(
    `import json,sys
from sensorlake_spark.rules import TimestampParser, TsFailure
a=json.load(sys.stdin); out=[]
for s in a[0] + a[1]:
    p=TimestampParser()
    try: out.append(p.parse(s))
    except TsFailure as e: out.append({"reason": e.reason, "message": e.message})
print(json.dumps(out))`,
    [TIMESTAMPS, numbers],
  );
  assert.deepEqual(theirs, [...ours, ...oursN]);
});

test('values read as the same number, text or failure (decimal point and decimal comma)', () => {
  for (const decimal of ['.', ','] as const) {
    const parse = makeValueParser(decimal);
    const ours = VALUES.map((s) => failure(parse(s)));
    const theirs = python(
      `import json,sys
from sensorlake_spark.rules import ValueParser, ValueFailure
a=json.load(sys.stdin); p=ValueParser(a[1]); out=[]
for s in a[0]:
    try: out.append(p.parse(s))
    except ValueFailure as e: out.append({"reason": e.reason, "message": e.message})
print(json.dumps(out))`,
      [VALUES, decimal],
    );
    assert.deepEqual(theirs, ours, `decimal ${decimal}`);
  }
});

test('quality flags map to the same StatusCodes (with a user map)', () => {
  const parse = makeQualityParser({ map: { '192': 'good', Stale: 'uncertain' } });
  const inputs: (string | number)[] = [...QUALITIES, 'stale', 0, 192, 1073741824, -2147483648, 4294967295, 1.5];
  const ours = inputs.map((q) => parse(q));
  const theirs = python(
    `import json,sys
from sensorlake_spark.rules import QualityParser
from sensorlake_spark.contract import load_contract
c=load_contract(); p=QualityParser(c["quality"]["words"], c["quality"]["codes"], {"192": "good", "Stale": "uncertain"})
print(json.dumps([p.parse(q) for q in json.load(sys.stdin)]))`,
    inputs,
  );
  assert.deepEqual(theirs, ours);
});

test('numbers print as JavaScript prints them (quarantine raw text), for any double', () => {
  const doubles = fc.sample(fc.double(), 3000).concat([0, -0, 1e21, 1e-7, 123e-20, 5e-324, 1.7976931348623157e308, 0.1 + 0.2, 100, 1234567.125]);
  const bits = doubles.map((d) => Buffer.from(new Float64Array([d]).buffer).toString('hex'));
  const theirs = python(
    `import json,sys,struct
from sensorlake_spark.rules import js_num
print(json.dumps([js_num(struct.unpack('<d', bytes.fromhex(h))[0]) for h in json.load(sys.stdin)]))`,
    bits,
  ) as string[];
  doubles.forEach((d, i) => assert.equal(theirs[i], String(d), `bits ${bits[i]}`));
});

test('rejects found after parsing render the same record JSON (ISO µs text, JS numbers)', () => {
  const cases: [number, string, number | null, string | null, number | null][] = [
    [1_704_067_200_000_000, 'a/b', 23.5, null, 0],
    [1_704_067_200_123_456, 'pump "1"', null, 'I/O Timeout', 2147483648],
    [-1_000, 'x', 1e21, 'ü', 1073741824],
  ];
  const theirs = python(
    `import json,sys
from sensorlake_spark.rules import record_json, iso_micros
print(json.dumps([[record_json(*c), iso_micros(c[0])] for c in json.load(sys.stdin)]))`,
    cases,
  );
  assert.deepEqual(theirs, cases.map((c) => [recordJson(...c), isoMicros(c[0])]));
});

/** The readings and rejects TypeScript reads from `text` as `format`, as plain rows. */
async function tsRows(text: string, format: SourceFormat): Promise<unknown[]> {
  const rows: unknown[] = [];
  const chunks: SourceChunk[] = [];
  for await (const c of readSource(bufferInput('f', Buffer.from(text)), format, {})) chunks.push(c);
  for (const c of chunks) {
    for (const r of c.rejects) rows.push(['reject', r.location, r.reason, r.message, r.raw]);
    const b = c.batch;
    if (!b) continue;
    for (let i = 0; i < b.numRows; i++) {
      const q = b.getChild('quality')!.get(i) as number | null;
      const ts = (b.getChild('ts')!.data[0].values as unknown as BigInt64Array)[i];
      rows.push(['reading', b.getChild('location')!.get(i), String(ts), b.getChild('sensor_id')!.get(i), b.getChild('value')!.get(i), b.getChild('value_text')!.get(i), q === null ? null : q >>> 0]);
    }
  }
  return rows.map((r) => JSON.stringify(r)).sort();
}

async function pyRows(text: string, format: string): Promise<unknown[]> {
  const rows = python(
    `import json,sys
from sensorlake_spark.contract import load_contract
from sensorlake_spark.records import NarrowCsv, WideCsv, Jsonl, Out
text, fmt = json.load(sys.stdin); c = load_contract(); out = Out(); lines = text.split("\\n")
if lines and lines[-1] == "": lines.pop()
lines = [l[:-1] if l.endswith("\\r") else l for l in lines]
hline = 0
if fmt != "jsonl":
    hline = next(i for i, l in enumerate(lines) if l.strip(" \\t") != "") + 1
r = NarrowCsv(c, {}, lines[hline - 1], "f") if fmt == "csv" else WideCsv(c, {}, lines[hline - 1], "f") if fmt == "wide-csv" else Jsonl(c, {})
for i, l in enumerate(lines):
    if i + 1 > hline: r.line(out, 0, i + 1, l)
print(json.dumps(out.rows))`,
    [text, format],
  ) as [number, number, number, number | null, string, number | null, string | null, number | null, string | null, string | null, string | null][];
  return rows
    .map(([, loc, , ts, sid, value, text, q, reason, message, raw]) =>
      JSON.stringify(reason === null ? ['reading', loc, String(ts), sid, value, text, q] : ['reject', loc, reason, message, raw]),
    )
    .sort();
}

const NARROW = [
  '\r', 'ts,sensor_id,value,quality', '2024-01-01T00:00:00Z,a,1.5,good', '2024-01-01T00:00:00Z,b,running,ok', '', '   ',
  '2024-01-01T00:00:01Z,a,,good', '2024-01-01T00:00:01Z,a,NaN,good', 'N/A,a,1,good', '2024-01-01T00:00:02Z,,1,good', '2024-01-01T00:00:02Z, ,1,good',
  '2024-01-01T00:00:02Z,a,1,??', '2024-01-01T00:00:02Z,a,1,   ', '2024-01-01T00:00:02Z,a,1', '2024-01-01T00:00:02Z,a,1,good,extra',
  '"2024-01-01T00:00:03Z","a, quoted",2,"bad"', '"2024-01-01T00:00:03Z",a,"2""",good', '"x"y,a,1,good',
  '2024-01-01T00:00:04Z,a,1e999,good', '2024-01-01T00:00:04Z,a,0x10,192', '2024-01-01T00:00:05+02:00,a,-0,0x80000000\r', '--- export resumed ---',
  // Last: a quote left open runs to the end of the file for the TypeScript reader, to the end of the line for Spark's.
  '"unclosed,a,1,good',
].join('\n');

const WIDE = [
  'ts,a,b,,c', '2024-01-01T00:00:00Z,1,2,,3', '2024-01-01T00:00:01Z,,running,,', '2024-01-01T00:00:02Z,NaN,I/O Timeout,5,-Infinity',
  'bad time,1,,,', 'bad time,,,,', '2024-01-01T00:00:03Z,1,2', '2024-01-01T00:00:04Z, ,  ,,1e999', 'ts;value;quality',
].join('\n');

const JSONL = [
  '{"ts":"2024-01-01T00:00:00Z","sensor_id":"a","value":1.5,"quality":"good"}', '', '{"ts":1704067200,"sensor_id":7,"value":"2.5","quality":192}',
  '{"ts":"2024-01-01T00:00:01Z","sensor_id":"s","value":true,"quality":true}', '{"ts":"2024-01-01T00:00:01Z","sensor_id":"s","value":"running"}',
  '{"ts":"2024-01-01T00:00:02Z","sensor_id":"a","value":null,"quality":"bad"}', '{"ts":"2024-01-01T00:00:02Z","sensor_id":"a","quality":"bad"}',
  '{"ts":"2024-01-01T00:00:02Z","sensor_id":"a","value":{"Name":"I/O Timeout","Value":246},"quality":"bad"}', '{"ts":"2024-01-01T00:00:02Z","value":1}',
  '{"ts":"2024-01-01T00:00:02Z","sensor_id":"","value":1}', '{"ts":"2024-01-01T00:00:02Z","sensor_id":[1],"value":1}', '{"ts":true,"sensor_id":"a","value":1}',
  '{"sensor_id":"a","value":1}', '{"ts":"N/A","sensor_id":"a","value":1}', '{"ts":"2024-01-01T00:00:03Z","sensor_id":"a","value":1,"quality":"??"}',
  '{"ts":"2024-01-01T00:00:03Z","sensor_id":"a","value":1,"quality":[1]}', '[1,2]', '"text"', '{"ts":"2024-01-01T00:00:04Z","sensor_id":"a","value":1e999}',
  '{"ts":"2024-01-01T00:00:04Z","sensor_id":"a","value":"NaN"}', '{"ts":"2024-01-01T00:00:04Z","sensor_id":"a","value":"","value_text":"idle"}',
].join('\n');

test('whole narrow CSV, wide CSV and JSON Lines files read to the same readings and rejects', async () => {
  for (const [text, format] of [[NARROW, 'csv'], [WIDE, 'wide-csv'], [JSONL, 'jsonl']] as const) {
    const ours = await tsRows(text, format);
    const theirs = await pyRows(text, format);
    assert.ok(ours.length > 10, format);
    assert.deepEqual(theirs, ours, format);
  }
});

test('JSON that does not parse is a malformed_record in both (the parser\'s own words may differ)', async () => {
  const text = '{"ts":"2024-01-01T00:00:00Z","sensor_id":"a",\n<html><body>502</body></html>\n{"ts": NaN}\n';
  const strip = (rows: unknown[]): unknown[] => rows.map((r) => JSON.parse(r as string) as unknown[]).map((r) => [r[0], r[1], r[2], r[4]]);
  assert.deepEqual(strip(await pyRows(text, 'jsonl')), strip(await tsRows(text, 'jsonl')));
});
