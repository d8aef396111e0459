// Parquet encode/decode through parquet-wasm: exact round trips, the physical types pyarrow sees, Spark's INT96 and
// other timestamp units brought to µs, and the worker pool (parallel, errors, closing, never holding the process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeParquet, encodeParquet, ParquetEncoderPool, plainEncodedColumns } from '../../src/delta/engine/parquet.js';
import { CorruptLogError, InvalidArgumentError } from '../../src/errors.js';
import { REPO_ROOT, SHARED, tempDir } from '../helpers.js';

const PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');
const CONFORMANCE = path.join(SHARED, 'conformance');

function tsVector(values: (bigint | null)[], type: arrow.Timestamp): arrow.Vector {
  const n = values.length;
  const valid = new Uint8Array((n + 7) >> 3);
  values.forEach((v, i) => {
    if (v !== null) valid[i >> 3] |= 1 << (i & 7);
  });
  const nullCount = values.filter((v) => v === null).length;
  const data = BigInt64Array.from(values.map((v) => v ?? 0n));
  return arrow.makeVector(arrow.makeData({ type, length: n, nullCount, nullBitmap: nullCount ? valid : undefined, data }));
}

/** Raw int64 values of a timestamp column (Vector.get would round µs to ms), null where invalid. */
function tsValues(v: arrow.Vector): (bigint | null)[] {
  const out: (bigint | null)[] = [];
  for (const d of v.data) {
    const vals = d.values as unknown as BigInt64Array;
    for (let i = 0; i < d.length; i++) out.push(d.getValid(i) ? vals[i] : null);
  }
  return out;
}

const TS = [1_704_067_200_123_456n, -1n, null, 253_402_300_799_999_999n];

function sample(): arrow.Table {
  return new arrow.Table({
    ts: tsVector(TS, new arrow.TimestampMicrosecond('UTC')),
    sensor_id: arrow.vectorFromArray(['s-1', 's-2', null, 's-1'], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
    value: arrow.vectorFromArray([1.5, null, Number.NaN, -0.25], new arrow.Float64()),
    quality: arrow.vectorFromArray([0, null, 1 << 30, -1], new arrow.Int32()),
    label: arrow.vectorFromArray(['é', '温度 °C', '', null], new arrow.Utf8()),
  });
}

function assertSample(t: arrow.Table): void {
  assert.equal(t.numRows, 4);
  const ts = t.schema.fields[0].type as arrow.Timestamp;
  assert.equal(ts.unit, arrow.TimeUnit.MICROSECOND);
  assert.equal(ts.timezone, 'UTC');
  assert.deepEqual(tsValues(t.getChild('ts')!), TS);
  assert.ok(arrow.DataType.isDictionary(t.getChild('sensor_id')!.type), String(t.getChild('sensor_id')!.type));
  assert.deepEqual([...t.getChild('sensor_id')!], ['s-1', 's-2', null, 's-1']);
  assert.deepEqual([...t.getChild('value')!], [1.5, null, Number.NaN, -0.25]);
  assert.deepEqual([...t.getChild('quality')!], [0, null, 1 << 30, -1]);
  assert.deepEqual([...t.getChild('label')!], ['é', '温度 °C', '', null]);
}

test('round trip keeps nulls, µs UTC timestamps, dictionary strings, unicode', () => {
  assertSample(decodeParquet(encodeParquet(sample()), 'sample.parquet'));
  assertSample(decodeParquet(encodeParquet(sample(), { compression: 'snappy', rowGroupSize: 2 }), 'sample.parquet'));
  assertSample(decodeParquet(encodeParquet(sample(), { compression: 'uncompressed' }), 'sample.parquet'));
});

test('pyarrow sees INT64 TIMESTAMP(UTC, MICROS), dictionary-encoded strings (not times, floats and compressed ints), zstd and statistics', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = path.join(dir, 'sample.parquet');
    writeFileSync(file, encodeParquet(sample()));
    const script = `
import json, sys, pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1])
s = f.schema
rg = f.metadata.row_group(0)
cols = {}
for i in range(len(s)):
    c, m = s.column(i), rg.column(i)
    cols[c.name] = {"physical": c.physical_type, "logical": str(c.logical_type), "encodings": list(m.encodings),
                    "codec": m.compression, "stats": m.statistics is not None and m.statistics.has_min_max}
ts = [None if v is None else str(v) for v in f.read().column("ts").cast("int64").to_pylist()]
print(json.dumps({"cols": cols, "ts": ts}))
`;
    const r = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      cols: Record<string, { physical: string; logical: string; encodings: string[]; codec: string; stats: boolean }>;
      ts: (string | null)[];
    };
    assert.equal(out.cols.ts.physical, 'INT64');
    assert.match(out.cols.ts.logical, /^Timestamp\(isAdjustedToUTC=true, timeUnit=microseconds/);
    assert.ok(out.cols.sensor_id.encodings.includes('RLE_DICTIONARY'), out.cols.sensor_id.encodings.join());
    assert.ok(out.cols.label.encodings.includes('RLE_DICTIONARY'), out.cols.label.encodings.join());
    for (const plain of ['ts', 'value', 'quality']) assert.ok(!out.cols[plain].encodings.some((e) => e.includes('DICTIONARY')), out.cols[plain].encodings.join());
    for (const c of Object.values(out.cols)) {
      assert.equal(c.codec, 'ZSTD');
      assert.equal(c.stats, true);
    }
    assert.deepEqual(out.ts.map((v) => (v === null ? null : BigInt(v))), TS);
  } finally {
    cleanup();
  }
});

test('integers skip the dictionary only when the file is compressed; strings always keep it', () => {
  assert.deepEqual(plainEncodedColumns(sample().schema, 'zstd'), ['ts', 'value', 'quality']);
  assert.deepEqual(plainEncodedColumns(sample().schema, 'snappy'), ['ts', 'value', 'quality']);
  assert.deepEqual(plainEncodedColumns(sample().schema, 'uncompressed'), ['ts', 'value']);
});

test("Spark's INT96 timestamps come back as exact µs UTC, also outside the ns range (year 9999)", () => {
  // Expected values from pyarrow: pq.ParquetFile(f, coerce_int96_timestamp_unit='us').read(), cast to int64.
  const cases: [string, string, bigint][] = [
    ['delta-golden/kernel-timestamp-INT96/part=1969-01-01 00%3A00%3A00/part-00001-75ac07ae-d2e8-4030-be59-c490d47c4496.c000.snappy.parquet', 'time', -31_536_000_000_000n],
    ['delta-golden/kernel-timestamp-INT96/part=2020-01-01 08%3A09%3A10.001/part-00000-bd889aef-417c-4493-b5f7-a9884ba4b247.c000.snappy.parquet', 'time', 1_580_544_550_000_000n],
    ['delta-rs/table_with_edge_timestamps/part-00000-a9dd181d-61aa-491d-b3c9-3eea548de6cb-c000.snappy.parquet', 'BIG_DATE', 253_402_214_400_000_000n],
    ['delta-rs/table_with_edge_timestamps/part-00000-a9dd181d-61aa-491d-b3c9-3eea548de6cb-c000.snappy.parquet', 'NORMAL_DATE', 1_640_995_200_000_000n],
    ['delta-rs/table_with_edge_timestamps/part-00001-f804d355-db40-4e13-a624-ddd50ce7f5c4-c000.snappy.parquet', 'BIG_DATE', 253_402_128_000_000_000n],
  ];
  for (const [rel, column, expected] of cases) {
    const file = path.join(CONFORMANCE, rel);
    const t = decodeParquet(readFileSync(file), file);
    const type = t.getChild(column)!.type as arrow.Timestamp;
    assert.equal(type.unit, arrow.TimeUnit.MICROSECOND, rel);
    assert.equal(type.timezone, 'UTC', rel);
    assert.deepEqual(tsValues(t.getChild(column)!), [expected], rel);
  }
  // A null INT96 stays null.
  const nullFile = path.join(CONFORMANCE, 'delta-golden/kernel-timestamp-INT96/part=__HIVE_DEFAULT_PARTITION__/part-00001-7cb5f53e-936c-4d24-bca1-9fa0fc7a66e4.c000.snappy.parquet');
  assert.deepEqual(tsValues(decodeParquet(readFileSync(nullFile), nullFile).getChild('time')!), [null]);
});

test('INT96 in a footer without key-value metadata, nested in a struct and in a list, is exact too', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = path.join(dir, 'int96.parquet');
    const script = `
import sys, datetime as dt, pyarrow as pa, pyarrow.parquet as pq
ts = pa.array([dt.datetime(9999, 12, 31, 0, 0, 0, 123456), None, dt.datetime(1500, 1, 1)], pa.timestamp('us'))
t = pa.table({'ts': ts, 'n': pa.array([1, 2, 3], pa.int32()), 's': pa.StructArray.from_arrays([ts], ['t']),
              'l': pa.array([[dt.datetime(1000, 1, 1)], None, []], pa.list_(pa.timestamp('us')))})
pq.write_table(t, sys.argv[1], use_deprecated_int96_timestamps=True, store_schema=False)
f = pq.ParquetFile(sys.argv[1])
assert f.metadata.metadata is None, f.metadata.metadata
assert all(f.schema.column(i).physical_type == 'INT96' for i in (0, 2, 3))
`;
    const r = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const t = decodeParquet(readFileSync(file), file);
    // µs values of 9999-12-31T00:00:00.123456Z, 1500-01-01Z and 1000-01-01Z (proleptic Gregorian, as pyarrow computes).
    const top = [253_402_214_400_123_456n, null, -14_831_769_600_000_000n];
    assert.deepEqual(tsValues(t.getChild('ts')!), top);
    assert.equal((t.getChild('ts')!.type as arrow.Timestamp).timezone, 'UTC');
    assert.deepEqual([...t.getChild('n')!], [1, 2, 3]);
    const s = t.getChild('s')!;
    assert.deepEqual(tsValues(new arrow.Vector(s.data.map((d) => d.children[0]))), top);
    const l = t.getChild('l')!;
    assert.deepEqual(tsValues(new arrow.Vector(l.data.map((d) => d.children[0]))), [-30_610_224_000_000_000n]);
  } finally {
    cleanup();
  }
});

test('millisecond and nanosecond timestamps become µs (floor), nested too, keeping time zone-ness and nulls', () => {
  // Spark's TIMESTAMP_MILLIS output; pyarrow reads -31536000000 ms.
  const ms = path.join(CONFORMANCE, 'delta-golden/kernel-timestamp-TIMESTAMP_MILLIS/part=1969-01-01 00%3A00%3A00/part-00001-4c527a95-ca90-4aeb-a61c-8d89b6330772.c000.snappy.parquet');
  const msTable = decodeParquet(readFileSync(ms), ms);
  assert.equal((msTable.getChild('time')!.type as arrow.Timestamp).timezone, 'UTC');
  assert.deepEqual(tsValues(msTable.getChild('time')!), [-31_536_000_000_000n]);

  const ns = [-1n, 1999n, -1001n, null, 1_700_000_000_123_456_789n];
  const inner = tsVector([5n, null, -5n, 7n, 1n], new arrow.TimestampMillisecond('UTC'));
  const struct = arrow.makeVector(
    arrow.makeData({ type: new arrow.Struct([new arrow.Field('t', inner.type, true)]), length: 5, nullCount: 0, children: [inner.data[0]] }),
  );
  const listItems = tsVector([1500n, -1500n, null], new arrow.TimestampNanosecond('UTC'));
  const list = arrow.makeVector(
    arrow.makeData({
      type: new arrow.List(new arrow.Field('item', listItems.type, true)),
      length: 5,
      nullCount: 0,
      valueOffsets: Int32Array.from([0, 2, 2, 3, 3, 3]),
      child: listItems.data[0],
    }),
  );
  const t = new arrow.Table({ ns: tsVector(ns, new arrow.TimestampNanosecond()), s: struct, l: list });
  const back = decodeParquet(encodeParquet(t), 'nanos.parquet');
  const nsType = back.getChild('ns')!.type as arrow.Timestamp;
  assert.equal(nsType.unit, arrow.TimeUnit.MICROSECOND);
  assert.equal(nsType.timezone ?? null, null);
  assert.deepEqual(tsValues(back.getChild('ns')!), [-1n, 1n, -2n, null, 1_700_000_000_123_456n]);
  const s = back.getChild('s')!;
  const st = (s.type as arrow.Struct).children[0].type as arrow.Timestamp;
  assert.equal(st.unit, arrow.TimeUnit.MICROSECOND);
  assert.equal(st.timezone, 'UTC');
  assert.deepEqual(tsValues(new arrow.Vector(s.data.map((d) => d.children[0]))), [5000n, null, -5000n, 7000n, 1000n]);
  const l = back.getChild('l')!;
  assert.equal(((l.type as arrow.List).children[0].type as arrow.Timestamp).unit, arrow.TimeUnit.MICROSECOND);
  assert.deepEqual(tsValues(new arrow.Vector(l.data.map((d) => d.children[0]))), [1n, -2n, null]);
  assert.deepEqual(
    [...l].map((x) => (x ? x.length : null)),
    [2, 0, 1, 0, 0],
  );
});

test('columns keeps only the named top-level columns; unreadable bytes are a CorruptLogError naming the file', () => {
  const t = decodeParquet(encodeParquet(sample()), 'sample.parquet', { columns: ['quality', 'ts', 'missing'] });
  assert.deepEqual(
    t.schema.fields.map((f) => f.name),
    ['ts', 'quality'],
  );
  assert.throws(() => decodeParquet(new TextEncoder().encode('not parquet at all'), '/t/x.parquet'), (e: Error) => {
    assert.ok(e instanceof CorruptLogError);
    assert.match(e.message, /^\/t\/x\.parquet: /);
    return true;
  });
  const truncated = encodeParquet(sample()).subarray(0, 60);
  assert.throws(() => decodeParquet(truncated, '/t/cut.parquet'), /\/t\/cut\.parquet/);
  assert.throws(() => encodeParquet(sample(), { zstdLevel: 9 }), InvalidArgumentError);
});

test('the pool encodes in parallel, in order, reports errors and closes', async () => {
  const pool = new ParquetEncoderPool(2);
  const tables = Array.from({ length: 6 }, (_, k) =>
    new arrow.Table({ k: arrow.vectorFromArray(Array.from({ length: 1000 + k }, (_, i) => i * (k + 1)), new arrow.Int32()) }),
  );
  const outs = await Promise.all(tables.map((t) => pool.encode(t)));
  outs.forEach((bytes, k) => {
    const back = decodeParquet(bytes, `pool-${k}`);
    assert.equal(back.numRows, 1000 + k);
    assert.equal(back.getChild('k')!.get(999), 999 * (k + 1));
  });
  await assert.rejects(pool.encode(tables[0], { zstdLevel: 3 }), (e: Error) => {
    assert.ok(e instanceof InvalidArgumentError, e.name);
    assert.match(e.message, /zstdLevel 3/);
    return true;
  });
  assertSample(decodeParquet(await pool.encode(sample()), 'after-error'));
  const pending = pool.encode(sample());
  await pool.close();
  assertSample(decodeParquet(await pending, 'drained')); // close() lets queued work finish
  await assert.rejects(pool.encode(sample()), /closed/);
});

test('a pool that is never closed does not keep the process alive', () => {
  const mod = pathToFileURL(path.join(REPO_ROOT, 'dist', 'src', 'delta', 'engine', 'parquet.js')).href;
  const script = `
import * as arrow from 'apache-arrow';
import { ParquetEncoderPool } from ${JSON.stringify(mod)};
const pool = new ParquetEncoderPool(2);
const t = new arrow.Table({ x: arrow.vectorFromArray([1, 2, 3], new arrow.Int32()) });
const [a, b] = await Promise.all([pool.encode(t), pool.encode(t)]);
console.log(a.length > 0 && b.length > 0 ? 'encoded' : 'empty');
`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, null, 'the process had to be killed: the pool held it open');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'encoded');
});
