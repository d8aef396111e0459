// The Avro source against container files written by avsc: timestamp logical types (nanos past 2^53 included), unions
// with null and wrapped unions, decimals, field mapping, rejects with raw JSON, codecs, gzip, chunking, broken files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { InvalidArgumentError, InvalidRecordError, SchemaMismatchError } from '../../src/errors.js';
import type { SourceChunk } from '../../src/sources/batch.js';
import { readAvro } from '../../src/sources/avro.js';
import type { ColumnarReadOptions } from '../../src/sources/columnar.js';
import { resolveInputs } from '../../src/sources/inputs.js';
import { tempDir } from '../helpers.js';
import { chunkRows } from './chunk-rows.js';

const T0 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z in µs

// Writing longs past 2^53 needs a bigint long; avsc's own refuses them.
const BIG_LONG = avro.types.LongType.__with({
  fromBuffer: (b: Buffer) => b.readBigInt64LE(),
  toBuffer: (n: bigint | number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(n));
    return b;
  },
  fromJSON: (x: unknown) => BigInt(x as string),
  toJSON: (n: bigint) => n.toString(),
  isValid: (n: unknown) => typeof n === 'bigint' || Number.isInteger(n),
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

// Logical types are registered as pass-throughs only so that the header keeps them (avsc drops unknown ones).
class Passthrough extends avro.types.LogicalType {
  private readonly extra: Record<string, unknown>;
  constructor(schema: avro.Schema, opts?: object) {
    super(schema, opts);
    const s = schema as { precision?: number; scale?: number };
    this.extra = { precision: s.precision, scale: s.scale };
  }
  override _fromValue(v: unknown): unknown {
    return v;
  }
  override _toValue(v: unknown): unknown {
    return v;
  }
  override _export(attrs: avro.Schema): void {
    for (const [k, v] of Object.entries(this.extra)) if (v !== undefined) (attrs as Record<string, unknown>)[k] = v;
  }
}
const LOGICAL = Object.fromEntries(
  ['timestamp-millis', 'timestamp-micros', 'timestamp-nanos', 'local-timestamp-micros', 'decimal'].map((n) => [n, Passthrough]),
);

/** avsc asks the hook twice for a logical long: first for the logical type, then (same object) for its underlying long. */
function bigLongs(): (s: avro.Schema) => avro.Type | undefined {
  const seen = new WeakSet<object>();
  return (s) => {
    if (s === 'long') return BIG_LONG;
    if (typeof s !== 'object' || (s as { type?: unknown }).type !== 'long') return undefined;
    if (!(s as { logicalType?: unknown }).logicalType || seen.has(s)) return BIG_LONG;
    seen.add(s);
    return undefined;
  };
}

async function writeAvro(file: string, fields: object[], records: object[], codec = 'null'): Promise<void> {
  const type = avro.Type.forSchema({ type: 'record', name: 'Reading', fields } as avro.Schema, { typeHook: bigLongs(), logicalTypes: LOGICAL });
  const enc = new avro.streams.BlockEncoder(type, { codec, blockSize: 256 }); // small blocks: many of them
  const parts: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => enc.on('end', resolve).on('error', reject));
  enc.on('data', (b: Buffer) => parts.push(b));
  for (const r of records) enc.write(r);
  enc.end();
  await done;
  const bytes = Buffer.concat(parts);
  for (const [attr] of JSON.stringify(fields).matchAll(/"(?:logicalType|scale)":(?:"[^"]+"|\d+)/g)) {
    assert.ok(bytes.includes(attr), `the header keeps ${attr}`);
  }
  writeFileSync(file, bytes);
}

async function read(file: string, opts: ColumnarReadOptions = {}) {
  const [input] = await resolveInputs(file);
  const chunks: SourceChunk[] = [];
  for await (const c of readAvro(input, opts)) chunks.push(c);
  return { chunks, rows: chunks.flatMap(chunkRows), rejects: chunks.flatMap((c) => c.rejects) };
}

const STANDARD = [
  { name: 'ts', type: { type: 'long', logicalType: 'timestamp-micros' } },
  { name: 'sensor_id', type: 'string' },
  { name: 'value', type: ['null', 'double'] },
  { name: 'quality', type: ['null', 'int'] },
];

test('good and bad records: readings in order, rejects with reason, record index and the record as JSON', async () => {
  const t = tempDir('sources-avro-');
  try {
    const file = path.join(t.dir, 'r.avro');
    await writeAvro(file, STANDARD, [
      { ts: T0 + 1, sensor_id: 'a', value: 1.5, quality: null },
      { ts: T0 + 2, sensor_id: 'a', value: null, quality: 0 },
      { ts: T0 + 3, sensor_id: '', value: 2, quality: 0 },
      { ts: T0 + 4, sensor_id: 'b', value: Infinity, quality: 0 },
      { ts: T0 + 5, sensor_id: 'b', value: -3, quality: 1073741824 },
    ]);
    const { rows, rejects, chunks } = await read(file);
    assert.deepEqual(rows, [
      { ts: T0 + 1, sensor_id: 'a', value: 1.5, value_text: null, quality: null, location: 0 },
      { ts: T0 + 5, sensor_id: 'b', value: -3, value_text: null, quality: 1073741824, location: 4 },
    ]);
    assert.deepEqual(rejects.map((r) => [r.reason, r.location, r.locationKind]), [['bad_value', 1, 'record'], ['missing_sensor_id', 2, 'record'], ['non_finite', 3, 'record']]);
    assert.deepEqual(JSON.parse(rejects[0].raw), { ts: T0 + 2, sensor_id: 'a', value: null, quality: 0 });
    assert.equal(JSON.parse(rejects[2].raw).value, 'Infinity');
    assert.equal(chunks.at(-1)!.bytesRead, readFileSync(file).length);
  } finally {
    t.cleanup();
  }
});

test('timestamp logical types: millis, micros, nanos past 2^53 exactly, local times need a zone; longs and text parsed', async () => {
  const t = tempDir('sources-avro-');
  try {
    const one = async (tsType: unknown, ts: unknown, opts: ColumnarReadOptions = {}) => {
      const file = path.join(t.dir, `ts-${Math.random().toString(36).slice(2)}.avro`);
      await writeAvro(file, [{ name: 'ts', type: tsType }, { name: 'sensor_id', type: 'string' }, { name: 'value', type: 'double' }], [{ ts, sensor_id: 's', value: 1 }]);
      const r = await read(file, opts);
      return r.rows.length ? r.rows[0].ts : r.rejects[0].reason;
    };
    assert.equal(await one({ type: 'long', logicalType: 'timestamp-millis' }, 1_704_067_200_123), T0 + 123_000);
    assert.equal(await one({ type: 'long', logicalType: 'timestamp-micros' }, T0 + 7), T0 + 7);
    assert.equal(await one({ type: 'long', logicalType: 'timestamp-nanos' }, 1_704_067_200_123_456_789n), T0 + 123_456);
    assert.equal(await one(['null', { type: 'long', logicalType: 'timestamp-millis' }], 1_704_067_200_001), T0 + 1000);
    assert.equal(await one('long', 1_704_067_200_500, { time: { epochUnit: 'ms' } }), T0 + 500_000);
    assert.equal(await one('string', '2024-01-01T00:00:01Z'), T0 + 1_000_000);
    assert.equal(await one('string', 'not a time'), 'bad_timestamp');
    assert.equal(await one(['null', 'string'], null), 'bad_timestamp');
    const local = { type: 'long', logicalType: 'local-timestamp-micros' };
    await assert.rejects(one(local, T0), (e: Error) => e instanceof InvalidArgumentError && e.message.includes('time.zone'));
    assert.equal(await one(local, T0 + 3_600_000_000, { time: { zone: 'Europe/Berlin' } }), T0); // 01:00 CET is 00:00 UTC
  } finally {
    t.cleanup();
  }
});

test('value unions: text numbers parsed, words kept as value_text, decimals, wrapped unions; records of the wrong type rejected', async () => {
  const t = tempDir('sources-avro-');
  try {
    const file = path.join(t.dir, 'u.avro');
    const fields = [
      { name: 'ts', type: { type: 'long', logicalType: 'timestamp-micros' } },
      { name: 'sensor_id', type: 'string' },
      { name: 'value', type: ['null', 'string', 'double', { type: 'map', values: 'int' }] },
      { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 } },
      { name: 'count', type: ['null', 'int', 'double'] }, // ambiguous for avsc: decoded as { int: n } / { double: n }
    ];
    const dec = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      return b;
    };
    await writeAvro(file, fields, [
      { ts: T0, sensor_id: 's', value: '2.5', amount: dec(12345), count: { int: 3 } },
      { ts: T0 + 1, sensor_id: 's', value: 'OPEN', amount: dec(-5), count: { double: 4.5 } },
      { ts: T0 + 2, sensor_id: 's', value: 7, amount: dec(0), count: null },
      { ts: T0 + 3, sensor_id: 's', value: { a: 1 }, amount: dec(1), count: { int: 1 } },
    ]);
    const base = await read(file);
    assert.deepEqual(base.rows.map((r) => [r.location, r.value, r.value_text]), [[0, 2.5, null], [1, null, 'OPEN'], [2, 7, null]]);
    assert.deepEqual(base.rejects.map((r) => [r.reason, r.location]), [['type_mismatch', 3]]);
    assert.deepEqual(JSON.parse(base.rejects[0].raw), { ts: T0 + 3, sensor_id: 's', value: { a: 1 }, amount: '00000001', count: { int: 1 } });
    const amounts = await read(file, { fields: { value: 'amount' } });
    assert.deepEqual(amounts.rows.map((r) => r.value), [123.45, -0.05, 0, 0.01]);
    const counts = await read(file, { fields: { value: 'count' } });
    assert.deepEqual(counts.rows.map((r) => r.value), [3, 4.5, 1]);
    assert.deepEqual(counts.rejects.map((r) => [r.reason, r.location]), [['bad_value', 2]]);
  } finally {
    t.cleanup();
  }
});

test('fields by configured names; a field the schema lacks fails the file naming it and the fields it has', async () => {
  const t = tempDir('sources-avro-');
  try {
    const file = path.join(t.dir, 'n.avro');
    await writeAvro(
      file,
      [{ name: 'time', type: 'string' }, { name: 'tag', type: 'string' }, { name: 'v', type: 'float' }, { name: 'status', type: 'string' }],
      [
        { time: '2024-01-01T00:00:00Z', tag: 'x', v: 0.5, status: 'GOOD' },
        { time: '2024-01-01T00:00:01Z', tag: 'x', v: 1.5, status: '' },
        { time: '2024-01-01T00:00:02Z', tag: 'x', v: 2.5, status: 'SHAKY' },
        { time: '2024-01-01T00:00:03Z', tag: 'x', v: 3.5, status: 'uncertain' },
      ],
    );
    const { rows, rejects } = await read(file, { fields: { ts: 'time', sensor_id: 'tag', value: 'v', quality: 'status' }, quality: { map: { shaky: 'bad' } } });
    assert.deepEqual(rows, [
      { ts: T0, sensor_id: 'x', value: 0.5, value_text: null, quality: 0, location: 0 },
      { ts: T0 + 1_000_000, sensor_id: 'x', value: 1.5, value_text: null, quality: null, location: 1 },
      { ts: T0 + 2_000_000, sensor_id: 'x', value: 2.5, value_text: null, quality: -0x80000000, location: 2 },
      { ts: T0 + 3_000_000, sensor_id: 'x', value: 3.5, value_text: null, quality: 0x40000000, location: 3 },
    ]);
    assert.deepEqual(rejects, []);
    const unmapped = await read(file, { fields: { ts: 'time', sensor_id: 'tag', value: 'v', quality: 'status' } });
    assert.deepEqual(unmapped.rejects.map((r) => [r.reason, r.location]), [['bad_quality', 2]]);
    await assert.rejects(read(file), (e: Error) => e instanceof SchemaMismatchError && e.message.includes(file) && e.message.includes('time, tag, v, status'));
  } finally {
    t.cleanup();
  }
});

test('deflate blocks, gzip around the file, and chunks of batchRows with continuous record indexes', async () => {
  const t = tempDir('sources-avro-');
  try {
    const records = Array.from({ length: 1000 }, (_, i) => ({ ts: T0 + i, sensor_id: `s${i % 4}`, value: i % 250 === 249 ? null : i, quality: null }));
    const file = path.join(t.dir, 'd.avro');
    await writeAvro(file, STANDARD, records, 'deflate');
    const plain = await read(file, { batchRows: 300 });
    assert.deepEqual(plain.chunks.map((c) => c.recordsRead), [300, 300, 300, 100]);
    assert.deepEqual(plain.rows.map((r) => r.location), plain.rows.map((r) => r.value));
    assert.deepEqual(plain.rejects.map((r) => r.location), [249, 499, 749, 999]);
    const gz = path.join(t.dir, 'd.avro.gz');
    writeFileSync(gz, gzipSync(readFileSync(file)));
    const zipped = await read(gz, { batchRows: 300 });
    assert.deepEqual(zipped.rows, plain.rows);
    assert.equal(zipped.chunks.at(-1)!.bytesRead, readFileSync(gz).length);
  } finally {
    t.cleanup();
  }
});

test('a file that is not Avro, or is cut short, fails naming the file', async () => {
  const t = tempDir('sources-avro-');
  try {
    const bogus = path.join(t.dir, 'bogus.avro');
    writeFileSync(bogus, '{"ts": 1}\n');
    await assert.rejects(read(bogus), (e: Error) => e instanceof InvalidRecordError && e.message.includes(bogus));
    const good = path.join(t.dir, 'good.avro');
    await writeAvro(good, STANDARD, Array.from({ length: 200 }, (_, i) => ({ ts: T0 + i, sensor_id: 's', value: i, quality: null })));
    const cut = path.join(t.dir, 'cut.avro');
    writeFileSync(cut, readFileSync(good).subarray(0, readFileSync(good).length - 30));
    await assert.rejects(read(cut), (e: Error) => e instanceof InvalidRecordError && e.message.includes(cut));
    const empty = path.join(t.dir, 'empty.avro');
    writeFileSync(empty, '');
    await assert.rejects(read(empty), (e: Error) => e instanceof InvalidRecordError && e.message.includes(empty));
  } finally {
    t.cleanup();
  }
});

