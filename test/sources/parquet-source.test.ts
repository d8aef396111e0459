// The Parquet source against files written by an independent writer (pyarrow): timestamp units and INT96, value
// types, field mapping, rejects with reasons and row numbers, row groups and chunking, gzip, and broken inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { InvalidArgumentError, InvalidRecordError, SchemaMismatchError } from '../../src/errors.js';
import type { SourceChunk } from '../../src/sources/batch.js';
import { resolveInputs } from '../../src/sources/inputs.js';
import type { ColumnarReadOptions } from '../../src/sources/columnar.js';
import { readParquet } from '../../src/sources/parquet.js';
import { REPO_ROOT, tempDir } from '../helpers.js';
import { chunkRows, type Row } from './chunk-rows.js';

const PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');
const T0 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z in µs

/** Runs a pyarrow snippet with `out` (the file to write) and `pa`, `pq`, `dt`, `dec` in scope. */
function pyarrow(out: string, code: string): void {
  const prelude = 'import sys, datetime as dt, decimal as dec, pyarrow as pa, pyarrow.parquet as pq\nout = sys.argv[1]\n';
  const r = spawnSync(PYTHON, ['-c', prelude + code, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pyarrow failed: ${r.stderr}`);
}

async function read(file: string, opts: ColumnarReadOptions = {}): Promise<{ chunks: SourceChunk[]; rows: Row[]; rejects: SourceChunk['rejects'] }> {
  const [input] = await resolveInputs(file);
  const chunks: SourceChunk[] = [];
  for await (const c of readParquet(input, opts)) chunks.push(c);
  return { chunks, rows: chunks.flatMap(chunkRows), rejects: chunks.flatMap((c) => c.rejects) };
}

test('readings, nulls and non-finite values: rows kept in order, rejects with reason, row number and raw record', async () => {
  const t = tempDir('sources-parquet-');
  try {
    const file = path.join(t.dir, 'r.parquet');
    pyarrow(
      file,
      `
utc = dt.timezone.utc
ts = [dt.datetime(2024,1,1,0,0,0,123456,tzinfo=utc), None, dt.datetime(2024,1,1,0,0,2,tzinfo=utc), dt.datetime(2024,1,1,0,0,3,tzinfo=utc), dt.datetime(2024,1,1,0,0,4,tzinfo=utc), dt.datetime(2024,1,1,0,0,5,tzinfo=utc)]
t = pa.table({'ts': pa.array(ts, pa.timestamp('us', tz='UTC')), 'sensor_id': ['a', 'a', None, 'b', 'b', 'c'],
  'value': [1.5, 2.0, 3.0, None, float('nan'), -0.25], 'quality': pa.array([0, 0, 0, 0, 0, 1073741824], pa.int32())})
pq.write_table(t, out)`,
    );
    const { rows, rejects, chunks } = await read(file);
    assert.deepEqual(rows, [
      { ts: T0 + 123_456, sensor_id: 'a', value: 1.5, value_text: null, quality: 0, location: 0 },
      { ts: T0 + 5_000_000, sensor_id: 'c', value: -0.25, value_text: null, quality: 1073741824, location: 5 },
    ]);
    assert.deepEqual(
      rejects.map((r) => [r.reason, r.location, r.locationKind, r.file]),
      [
        ['bad_timestamp', 1, 'record', file],
        ['missing_sensor_id', 2, 'record', file],
        ['bad_value', 3, 'record', file],
        ['non_finite', 4, 'record', file],
      ],
    );
    assert.deepEqual(JSON.parse(rejects[2].raw), { ts: `${T0 + 3_000_000} (microsecond)`, sensor_id: 'b', value: null, quality: 0 });
    assert.equal(JSON.parse(rejects[3].raw).value, 'NaN');
    assert.equal(chunks.reduce((n, c) => n + c.recordsRead, 0), 6);
    assert.equal(chunks.at(-1)!.bytesRead, readFileSync(file).length);
  } finally {
    t.cleanup();
  }
});

test('timestamps in s, ms, ns and Spark INT96 (no Arrow schema in the footer) all come back as exact µs', async () => {
  const t = tempDir('sources-parquet-');
  try {
    const cases: [string, string, number][] = [
      ['ms', `pa.array([1704067200123], pa.timestamp('ms', tz='UTC'))`, T0 + 123_000],
      ['s', `pa.array([1704067201], pa.timestamp('s', tz='UTC'))`, T0 + 1_000_000],
      ['ns', `pa.array([1704067200123456789], pa.timestamp('ns', tz='UTC'))`, T0 + 123_456],
      ['ns-before-1970', `pa.array([-1500], pa.timestamp('ns', tz='UTC'))`, -2],
      ['int96', `pa.array([1704067200123456], pa.timestamp('us', tz='UTC'))`, T0 + 123_456],
    ];
    for (const [name, ts, expected] of cases) {
      const file = path.join(t.dir, `${name}.parquet`);
      const int96 = name === 'int96' ? ', use_deprecated_int96_timestamps=True, store_schema=False' : '';
      pyarrow(file, `pq.write_table(pa.table({'ts': ${ts}, 'sensor_id': ['s'], 'value': [1.0]}), out${int96})`);
      const { rows, rejects } = await read(file);
      assert.deepEqual(rejects, [], name);
      assert.equal(rows[0]?.ts, expected, name);
    }
  } finally {
    t.cleanup();
  }
});

test('naive timestamps need a zone: refused without one, read in the zone with one', async () => {
  const t = tempDir('sources-parquet-');
  try {
    const file = path.join(t.dir, 'naive.parquet');
    pyarrow(file, `pq.write_table(pa.table({'ts': pa.array([dt.datetime(2024,1,1,1,0,0)], pa.timestamp('us')), 'sensor_id': ['s'], 'value': [1.0]}), out)`);
    await assert.rejects(read(file), (e: Error) => e instanceof InvalidArgumentError && e.message.includes(file) && e.message.includes('time.zone'));
    assert.equal((await read(file, { time: { zone: 'UTC' } })).rows[0].ts, T0 + 3_600_000_000);
    assert.equal((await read(file, { time: { zone: 'Europe/Berlin' } })).rows[0].ts, T0); // 01:00 CET is 00:00 UTC

    // 02:30 on 2024-03-31 never happens in Berlin; 02:30 on 2024-10-27 happens twice.
    const dst = path.join(t.dir, 'dst.parquet');
    pyarrow(dst, `pq.write_table(pa.table({'ts': pa.array([dt.datetime(2024,3,31,2,30), dt.datetime(2024,10,27,2,30), dt.datetime(2024,10,27,4,0)], pa.timestamp('ms')), 'sensor_id': ['s'] * 3, 'value': [1.0, 2.0, 3.0]}), out)`);
    const lenient = await read(dst, { time: { zone: 'Europe/Berlin', ambiguous: 'later' } });
    assert.deepEqual(lenient.rows.map((r) => new Date(r.ts / 1000).toISOString()), ['2024-03-31T01:30:00.000Z', '2024-10-27T01:30:00.000Z', '2024-10-27T03:00:00.000Z']);
    assert.deepEqual(lenient.chunks[0].dst, { ambiguous: 1, nonexistent: 1 });
    const strict = await read(dst, { time: { zone: 'Europe/Berlin', ambiguous: 'reject', nonexistent: 'reject' } });
    assert.deepEqual(strict.rejects.map((r) => [r.reason, r.location]), [['nonexistent_local_time', 0], ['ambiguous_local_time', 1]]);
    assert.deepEqual(strict.chunks[0].dst, { ambiguous: 0, nonexistent: 0 });
  } finally {
    t.cleanup();
  }
});

test('timestamps as text and as epoch integers go through the timestamp parser', async () => {
  const t = tempDir('sources-parquet-');
  try {
    const text = path.join(t.dir, 'text.parquet');
    pyarrow(text, `pq.write_table(pa.table({'ts': ['2024-01-01T00:00:00.5Z', 'yesterday', None], 'sensor_id': ['s', 's', 's'], 'value': [1.0, 2.0, 3.0]}), out)`);
    const r1 = await read(text);
    assert.deepEqual(r1.rows.map((r) => r.ts), [T0 + 500_000]);
    assert.deepEqual(r1.rejects.map((r) => [r.reason, r.location]), [['bad_timestamp', 1], ['bad_timestamp', 2]]);
    const epoch = path.join(t.dir, 'epoch.parquet');
    pyarrow(epoch, `pq.write_table(pa.table({'ts': pa.array([1704067200250, 1704067201000], pa.int64()), 'sensor_id': ['s', 's'], 'value': [1.0, 2.0]}), out)`);
    assert.deepEqual((await read(epoch, { time: { epochUnit: 'ms' } })).rows.map((r) => r.ts), [T0 + 250_000, T0 + 1_000_000]);
  } finally {
    t.cleanup();
  }
});

test('value types: float32, int64, decimal, boolean, and text (numbers parsed, words kept as value_text)', async () => {
  const t = tempDir('sources-parquet-');
  try {
    const file = path.join(t.dir, 'types.parquet');
    pyarrow(
      file,
      `
n = 3
ts = pa.array([1704067200000000 + i for i in range(n)], pa.timestamp('us', tz='UTC'))
cols = {
  'f32': pa.array([0.5, -1.25, None], pa.float32()),
  'i64': pa.array([2**53, -7, 0], pa.int64()),
  'dec': pa.array([dec.Decimal('12.345'), dec.Decimal('-0.001'), dec.Decimal('99999.999')], pa.decimal128(8, 3)),
  'flag': pa.array([True, False, None]),
  'txt': pa.array(['3.25', 'RUNNING', '']),
}
pq.write_table(pa.table({'ts': ts, 'sensor_id': ['s'] * n, **cols}), out)`,
    );
    const values = async (col: string) => {
      const r = await read(file, { fields: { value: col } });
      return [...r.rows.map((x) => [x.location, x.value, x.value_text]), ...r.rejects.map((x) => [x.location, x.reason])];
    };
    assert.deepEqual(await values('f32'), [[0, 0.5, null], [1, -1.25, null], [2, 'bad_value']]);
    assert.deepEqual(await values('i64'), [[0, 2 ** 53, null], [1, -7, null], [2, 0, null]]);
    assert.deepEqual(await values('dec'), [[0, 12.345, null], [1, -0.001, null], [2, 99999.999, null]]);
    assert.deepEqual(await values('flag'), [[0, 1, null], [1, 0, null], [2, 'bad_value']]);
    assert.deepEqual(await values('txt'), [[0, 3.25, null], [1, null, 'RUNNING'], [2, 'bad_value']]);
  } finally {
    t.cleanup();
  }
});

test('fields by configured names (dictionary-encoded ids too); a missing column fails the file naming it', async () => {
  const t = tempDir('sources-parquet-');
  try {
    const file = path.join(t.dir, 'named.parquet');
    pyarrow(
      file,
      `pq.write_table(pa.table({'time': pa.array([1704067200000000, 1704067201000000], pa.timestamp('us', tz='UTC')),
  'tag': pa.array(['x', 'y']).dictionary_encode(), 'reading': [1.0, 2.0], 'status': ['GOOD', 'BAD']}), out)`,
    );
    const { rows } = await read(file, { fields: { ts: 'time', sensor_id: 'tag', value: 'reading', quality: 'status' } });
    assert.deepEqual(rows.map((r) => [r.ts, r.sensor_id, r.value, r.quality]), [[T0, 'x', 1, 0], [T0 + 1_000_000, 'y', 2, -0x80000000]]);
    await assert.rejects(read(file), (e: Error) => e instanceof SchemaMismatchError && e.message.includes("'ts'") && e.message.includes('time, tag, reading, status'));
    await assert.rejects(read(file, { fields: { ts: 'time', sensor_id: 'tag', value: 'reading', quality: 'q' } }), SchemaMismatchError);
  } finally {
    t.cleanup();
  }
});

test('several row groups, chunks of batchRows, continuous row numbers, progress ending at the file size; gzip reads the same', async () => {
  const t = tempDir('sources-parquet-');
  try {
    const file = path.join(t.dir, 'groups.parquet');
    pyarrow(
      file,
      `n = 2500
t = pa.table({'ts': pa.array([1704067200000000 + i for i in range(n)], pa.timestamp('us', tz='UTC')),
  'sensor_id': ['s%d' % (i % 3) for i in range(n)], 'value': [None if i % 1000 == 999 else float(i) for i in range(n)]})
pq.write_table(t, out, row_group_size=700)`,
    );
    const plain = await read(file, { batchRows: 400 });
    assert.deepEqual(plain.chunks.map((c) => c.recordsRead), [400, 400, 400, 400, 400, 400, 100]);
    assert.ok(plain.chunks.every((c) => c.recordsRead === (c.batch?.numRows ?? 0) + c.rejects.length));
    assert.deepEqual(plain.rows.map((r) => r.location), [...Array(2500).keys()].filter((i) => i % 1000 !== 999));
    assert.deepEqual(plain.rows.map((r) => r.value), plain.rows.map((r) => r.location));
    assert.deepEqual(plain.rejects.map((r) => [r.reason, r.location]), [['bad_value', 999], ['bad_value', 1999]]);
    const progress = plain.chunks.map((c) => c.bytesRead);
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
    assert.equal(progress.at(-1), readFileSync(file).length);

    const gz = path.join(t.dir, 'groups.parquet.gz');
    writeFileSync(gz, gzipSync(readFileSync(file)));
    const zipped = await read(gz, { batchRows: 400 });
    assert.deepEqual(zipped.rows, plain.rows);
    assert.equal(zipped.chunks.at(-1)!.bytesRead, readFileSync(gz).length);
  } finally {
    t.cleanup();
  }
});

test('an empty file yields one empty chunk; a file that is not Parquet fails naming it', async () => {
  const t = tempDir('sources-parquet-');
  try {
    const empty = path.join(t.dir, 'empty.parquet');
    pyarrow(empty, `pq.write_table(pa.table({'ts': pa.array([], pa.timestamp('us', tz='UTC')), 'sensor_id': pa.array([], pa.string()), 'value': pa.array([], pa.float64())}), out)`);
    const { chunks } = await read(empty);
    assert.deepEqual(chunks.map((c) => [c.batch, c.recordsRead]), [[null, 0]]);
    const bogus = path.join(t.dir, 'bogus.parquet');
    writeFileSync(bogus, 'ts,sensor_id,value\n');
    await assert.rejects(read(bogus), (e: Error) => e instanceof InvalidRecordError && e.message.includes(bogus));
  } finally {
    t.cleanup();
  }
});
