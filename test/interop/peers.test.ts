// The interop harness against the real peers: delta-rs and Spark read each other's writes row for row,
// history and versions agree, and canonicalRows() encodes Arrow exactly as the peers encode their reads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startPeers, type Peers, type PeerColumn, type PeerRow } from './peers.js';
import { canonicalRows, pythonDecimalString, sortRows } from './canonical.js';

let peers: Peers;
let sparkStartSeconds = 0;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'sensorlake-peers-test-'));
const table = path.join(scratch, 'readings');

before(async () => {
  peers = await startPeers();
  sparkStartSeconds = (await peers.sparkStart()).seconds;
});

after(async () => {
  await peers?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const schema: PeerColumn[] = [
  { name: 'sensor', type: 'string' },
  { name: 'seq', type: 'long' },
  { name: 'value', type: 'double' },
  { name: 'ts', type: 'timestamp' },
  { name: 'day', type: 'date' },
];
const schemaDdl = 'sensor string, seq long, value double, ts timestamp, day date';

// Version 0, written by delta-rs: a µs-precise timestamp, a long above 2^53, NaN, pre-epoch values, nulls.
const v0Rows: PeerRow[] = [
  { sensor: 'a', seq: '9007199254740993', value: 1.5, ts: '1700000000000001', day: '2023-11-14' },
  { sensor: 'b', seq: '-42', value: 'NaN', ts: '-1', day: '1969-12-31' },
  { sensor: null, seq: null, value: null, ts: null, day: null },
  { sensor: 'ü∂', seq: '0', value: -0.25, ts: '0', day: '1970-01-01' },
];
// Version 1, appended by Spark: the extremes of long, infinities, the last µs of 2099 and of the date range.
// Spark writes `timestamp` as Parquet INT96, which delta-rs reads as nanoseconds: past 2262 it overflows,
// so the timestamps stay inside what int64 nanoseconds can hold.
const v1Rows: PeerRow[] = [
  { sensor: 'c', seq: '9223372036854775807', value: 'Infinity', ts: '1700000000999999', day: '2023-11-14' },
  { sensor: 'b', seq: '-9223372036854775808', value: '-Infinity', ts: '4102444799999999', day: '9999-12-31' },
];

test('delta-rs writes; Spark and delta-rs read back the exact rows', async (t) => {
  t.diagnostic(`spark started in ${sparkStartSeconds} s`);
  assert.equal(await peers.deltaRsAppend(table, { schema, rows: v0Rows }), 0);
  const expected = { schema, rows: sortRows(v0Rows) };
  assert.deepEqual(await peers.deltaRsRead(table), expected);
  assert.deepEqual(await peers.sparkRead(table), expected);
  assert.deepEqual(await peers.sparkRead(table, { columns: ['ts', 'seq'] }), {
    schema: [schema[3], schema[1]],
    rows: sortRows(v0Rows.map((r) => ({ ts: r.ts, seq: r.seq }))),
  });
});

test('Spark appends; both peers read both versions', async () => {
  assert.equal(await peers.sparkAppend(table, { schemaDdl, rows: v1Rows }), 1);
  assert.equal(await peers.sparkVersion(table), 1);
  assert.equal(await peers.deltaRsVersion(table), 1);
  const all = sortRows([...v0Rows, ...v1Rows]);
  for (const read of [peers.deltaRsRead.bind(peers), peers.sparkRead.bind(peers)]) {
    assert.deepEqual((await read(table, { version: 0 })).rows, sortRows(v0Rows));
    assert.deepEqual((await read(table, { version: 1 })).rows, all);
    assert.deepEqual((await read(table)).rows, all);
  }
});

test('time travel by timestamp: each peer at its own commit time of version 0 reads version 0', async () => {
  const [spark0] = await peers.sparkHistory(table);
  const [rs0] = await peers.deltaRsHistory(table);
  assert.deepEqual((await peers.sparkRead(table, { timestamp: new Date(spark0.timestamp) })).rows, sortRows(v0Rows));
  assert.deepEqual((await peers.deltaRsRead(table, { timestamp: new Date(rs0.timestamp) })).rows, sortRows(v0Rows));
});

test('spark_sql DELETE drops rows; versions and histories agree', async () => {
  const deleted = await peers.sparkSql(`DELETE FROM delta.\`${table}\` WHERE sensor = 'b'`);
  assert.deepEqual(deleted, [{ num_affected_rows: '2' }]);
  assert.equal(await peers.sparkVersion(table), 2);
  assert.equal(await peers.deltaRsVersion(table), 2);
  const remaining = sortRows([...v0Rows, ...v1Rows].filter((r) => r.sensor !== 'b'));
  assert.equal(remaining.length, 4);
  assert.deepEqual((await peers.sparkRead(table)).rows, remaining);
  assert.deepEqual((await peers.deltaRsRead(table)).rows, remaining);
  const counted = await peers.sparkSql(`SELECT count(*) AS n FROM delta.\`${table}\``);
  assert.deepEqual(counted, [{ n: '4' }]);

  const sparkHistory = await peers.sparkHistory(table);
  const rsHistory = await peers.deltaRsHistory(table);
  assert.deepEqual(sparkHistory.map((h) => [h.version, h.operation]), [[0, 'WRITE'], [1, 'WRITE'], [2, 'DELETE']]);
  assert.deepEqual(rsHistory.map((h) => [h.version, h.operation]), [[0, 'WRITE'], [1, 'WRITE'], [2, 'DELETE']]);
  for (const h of [...sparkHistory, ...rsHistory]) assert.ok(Number.isInteger(h.timestamp) && h.timestamp > 0);
});

test('nested and exotic types: both peers agree on the exact encoding', async () => {
  const nested = path.join(scratch, 'nested');
  const columns: PeerColumn[] = [
    { name: 'id', type: 'integer' },
    { name: 'ok', type: 'boolean' },
    { name: 'amount', type: 'decimal(10,2)' },
    { name: 'tiny', type: 'decimal(10,7)' },
    { name: 'local', type: 'timestamp_ntz' },
    { name: 'raw', type: 'binary' },
    { name: 'tags', type: 'map<string,long>' },
    { name: 'events', type: 'array<struct<at:timestamp,code:integer>>' },
  ];
  const rows: PeerRow[] = [
    {
      id: 1, ok: true, amount: '1.5', tiny: '0', local: '1700000000000001', raw: '00ff',
      tags: [['z', '1'], ['a', '9007199254740993']], events: [{ at: '-1', code: 7 }, null],
    },
    { id: 2, ok: false, amount: '-0.01', tiny: '0.0000001', local: '-1', raw: '', tags: [], events: [] },
    { id: 3, ok: null, amount: null, tiny: null, local: null, raw: null, tags: null, events: null },
  ];
  const expectedRows = sortRows([
    { ...rows[0], amount: '1.50', tiny: '0E-7', tags: [['a', '9007199254740993'], ['z', '1']] },
    { ...rows[1], amount: '-0.01', tiny: '1E-7' },
    rows[2],
  ]);
  await peers.deltaRsAppend(nested, { schema: columns, rows, partitionBy: undefined });
  assert.deepEqual(await peers.deltaRsRead(nested), { schema: columns, rows: expectedRows });
  assert.deepEqual(await peers.sparkRead(nested), { schema: columns, rows: expectedRows });
});

test('a peer error rejects with the command and the peer message, and the peer stays usable', async () => {
  const missing = path.join(scratch, 'missing');
  await assert.rejects(peers.sparkRead(missing), (err: Error) => {
    assert.match(err.message, /^spark_read failed: AnalysisException: .*Path does not exist: .*missing/s);
    assert.match(err.message, /peer log: /);
    return true;
  });
  await assert.rejects(peers.deltaRsVersion(missing), /^Error: deltars_version failed: TableNotFoundError/);
  assert.equal(await peers.ping(), 'pong');
});

test('canonicalRows encodes Arrow exactly as the peers encode their reads', async () => {
  const n = v0Rows.length;
  const validity = (values: unknown[]) => Uint8Array.from([values.reduce<number>((m, v, i) => (v === null ? m : m | (1 << i)), 0)]);
  const int64 = (type: arrow.Int64 | arrow.TimestampMicrosecond, key: string) => {
    const values = v0Rows.map((r) => r[key] as string | null);
    return arrow.makeVector(arrow.makeData({
      type: type as arrow.Int64, length: n, nullCount: values.filter((v) => v === null).length,
      nullBitmap: validity(values), data: BigInt64Array.from(values.map((v) => BigInt(v ?? 0))),
    }));
  };
  const days = v0Rows.map((r) => (r.day === null ? null : Date.parse(r.day as string) / 86_400_000));
  const arrowTable = new arrow.Table({
    sensor: arrow.vectorFromArray(v0Rows.map((r) => r.sensor as string | null), new arrow.Utf8()),
    seq: int64(new arrow.Int64(), 'seq'),
    value: arrow.vectorFromArray([1.5, NaN, null, -0.25], new arrow.Float64()),
    ts: int64(new arrow.TimestampMicrosecond('UTC'), 'ts'),
    day: arrow.makeVector(arrow.makeData({
      type: new arrow.DateDay(), length: n, nullCount: 1, nullBitmap: validity(days),
      data: Int32Array.from(days.map((d) => d ?? 0)),
    })),
  });
  const fromPeer = await peers.deltaRsRead(table, { version: 0 });
  assert.deepEqual(canonicalRows(arrowTable), fromPeer.rows);
  // Slices keep their offsets in the validity bitmap only; values are pre-sliced.
  assert.deepEqual(canonicalRows(arrowTable.slice(1, 3)), sortRows(v0Rows.slice(1, 3)));
  // Hints: an Int32 day count is a date, a Float64 column declared float is rounded to float32.
  const hinted = new arrow.Table({
    d: arrow.vectorFromArray([19675, -1], new arrow.Int32()),
    f: arrow.vectorFromArray([0.1, null], new arrow.Float64()),
  });
  assert.deepEqual(canonicalRows(hinted, { d: 'date', f: 'float' }), sortRows([
    { d: '2023-11-14', f: Math.fround(0.1) },
    { d: '1969-12-31', f: null },
  ]));
});

test('pythonDecimalString matches str(Decimal)', () => {
  const cases: [bigint, number, string][] = [
    [150n, 2, '1.50'], [-1n, 2, '-0.01'], [0n, 7, '0E-7'], [1n, 7, '1E-7'], [1n, 6, '0.000001'],
    [0n, 0, '0'], [123n, 0, '123'], [-12345678901234567890123456789012345678n, 10, '-1234567890123456789012345678.9012345678'],
  ];
  for (const [unscaled, scale, text] of cases) assert.equal(pythonDecimalString(unscaled, scale), text, `${unscaled}e-${scale}`);
});
