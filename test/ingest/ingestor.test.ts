// The durable core of live ingest against a real lake: acks, micro-batch commits read back by DeltaTable and by
// delta-rs, dedup within and across batches (and across a restart), idempotency keys (also after the WAL segments
// holding them are gone), backpressure, shutdown, quarantine rows and the sensors table's valid ranges.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { DeltaTable } from '../../src/delta/table.js';
import { openIngestor, type Ingestor } from '../../src/ingest/ingestor.js';
import { lakePaths, openOrCreate, QUALITY, SENSORS_SCHEMA } from '../../src/backfill/lake.js';
import { upsertSensors, type SensorInfo } from '../../src/backfill/sensors.js';
import { BufferFullError, ShuttingDownError } from '../../src/errors.js';
import { canonicalRows } from '../interop/canonical.js';
import { startPeers, type Peers } from '../interop/peers.js';
import { tempDir } from '../helpers.js';
import { request, series, type TestReading } from './chunks.js';

const T0 = Date.UTC(2025, 2, 1, 23, 59, 0) * 1000; // a minute before midnight: batches span two dates
const TYPES = { ts: 'timestamp', sensor_id: 'string', value: 'double', value_text: 'string', quality: 'long', source: 'string', date: 'date' };
const scratch = tempDir('ingest-');
after(() => scratch.cleanup());
let lakes = 0;
const newLake = (): string => path.join(scratch.dir, `lake-${++lakes}`);

interface Row {
  ts: string;
  sensor_id: string;
  value: number | null;
  value_text: string | null;
  quality: string;
  source: string;
  date: string;
}

function expected(readings: TestReading[], source = 'http'): Row[] {
  return readings
    .map((r) => ({
      ts: String(r.ts),
      sensor_id: r.sensor,
      value: r.value,
      value_text: r.text ?? null,
      quality: String(r.quality ?? 0),
      source,
      date: new Date(Math.floor(r.ts / 1000)).toISOString().slice(0, 10),
    }))
    .sort(byKey);
}

function byKey(a: Row, b: Row): number {
  return a.sensor_id < b.sensor_id ? -1 : a.sensor_id > b.sensor_id ? 1 : Number(BigInt(a.ts) - BigInt(b.ts));
}

async function readings(lake: string): Promise<Row[]> {
  const t = await DeltaTable.open(lakePaths(lake).readings);
  return (canonicalRows(await t.read(), TYPES) as unknown as Row[]).sort(byKey);
}

async function withIngestor<T>(lake: string, opts: Partial<Parameters<typeof openIngestor>[0]>, f: (ing: Ingestor) => Promise<T>): Promise<T> {
  const ing = await openIngestor({ lake, serverId: 'test-server', commitMs: 60_000, ...opts });
  try {
    return await f(ing);
  } finally {
    await ing.close();
  }
}

test('submit -> ack -> flush: rows in readings exactly, sorted within files, committed under the txn; delta-rs reads the same', async () => {
  const lake = newLake();
  const a = series(T0, 1000, 7);
  const b = series(T0 + 500_000_000, 1000, 7); // 8 min later: the second date
  const c: TestReading[] = [
    { sensor: 'valve', ts: T0 + 5, value: null, text: 'OPEN' },
    { sensor: 'valve', ts: T0 + 9, value: null, text: 'CLOSED', quality: QUALITY.uncertain },
    { sensor: 's1', ts: T0 - 1, value: null },
  ];
  const commits: { version: number; rows: number; dates: string[] }[] = [];
  const acks = await withIngestor(lake, {}, async (ing) => {
    ing.onCommit((info) => commits.push(info));
    const acks = await Promise.all([ing.submit(request(a)), ing.submit(request(b)), ing.submit(request(c, { source: 'mqtt:plant/valve' }))]);
    assert.equal(ing.stats.bufferedRows, 2003);
    await ing.flush();
    assert.equal(ing.stats.bufferedRows, 0);
    assert.equal(ing.stats.committedPosition, Math.max(...acks.map((x) => x.position)));
    assert.equal(ing.stats.rowsIngested, 2003);
    assert.equal(ing.stats.rowsCommitted, 2003);
    return acks;
  });
  assert.deepEqual(acks.map((x) => [x.accepted, x.rejected.length, x.duplicate]), [[1000, 0, false], [1000, 0, false], [3, 0, false]]);
  assert.deepEqual(acks.map((x) => x.position), acks.map((x) => x.position).sort((p, q) => p - q));
  const want = [...expected(a), ...expected(b), ...expected(c, 'mqtt:plant/valve')].sort(byKey);
  assert.deepEqual(await readings(lake), want);
  const table = await DeltaTable.open(lakePaths(lake).readings);
  assert.equal(await table.txnVersion('test-server'), Math.max(...acks.map((x) => x.position)));
  assert.equal(commits.length, 1);
  assert.deepEqual(commits[0].dates, ['2025-03-01', '2025-03-02']);
  assert.equal(commits[0].rows, 2003);
  // One commit (plus the table's creation), and every data file in (sensor_id, ts) order.
  assert.equal(await table.version(), 1);
  for await (const batch of table.scan({ columns: ['sensor_id', 'ts'] })) {
    const ids = batch.getChild('sensor_id')!;
    const ts = batch.getChild('ts')!.data[0].values as unknown as BigInt64Array;
    for (let i = 1; i < batch.numRows; i++) {
      const p = String(ids.get(i - 1));
      const q = String(ids.get(i));
      assert.ok(p < q || (p === q && ts[i - 1] < ts[i]), `file rows out of (sensor_id, ts) order at ${i}: ${p}@${ts[i - 1]} then ${q}@${ts[i]}`);
    }
  }

  let peers: Peers | null = null;
  try {
    peers = await startPeers();
    const rs = await peers.deltaRsRead(lakePaths(lake).readings);
    assert.deepEqual(rs.rows, canonicalRows(await table.read(), TYPES), 'delta-rs rows = our rows');
    assert.equal(rs.rows.length, 2003);
  } finally {
    await peers?.close();
  }
});

test('duplicates on (sensor_id, ts): first arrival wins within a batch; across batches and a restart nothing is written twice', async () => {
  const lake = newLake();
  const first = series(T0, 600, 6);
  const twice: TestReading[] = [
    { sensor: 'x', ts: T0 + 1, value: 1 },
    { sensor: 'x', ts: T0 + 1, value: 2 }, // same key, later arrival: dropped
    { sensor: 'x', ts: T0 + 2, value: 3 },
  ];
  await withIngestor(lake, {}, async (ing) => {
    await ing.submit(request(first));
    await ing.submit(request(twice));
    await ing.submit(request(first.slice(0, 100))); // a redelivery within the same micro-batch
    await ing.flush();
    assert.equal(ing.stats.duplicates, 101);
    // Across batches: a redelivery of committed rows (at or below the marks), new in-order rows, and a late row
    // below its sensor's mark that the table does not hold (it must be written, not taken for a duplicate).
    const late: TestReading = { sensor: 's0', ts: T0 + 500, value: 42 };
    const newer = series(T0 + 1_000_000_000, 60, 6);
    await ing.submit(request([...first.slice(300), ...newer, late]));
    await ing.flush();
    assert.equal(ing.stats.duplicates, 101 + 300);
    assert.equal(ing.stats.rowsCommitted, 600 + 2 + 60 + 1);
  });
  const want = [...expected(first), ...expected([twice[0], twice[2]]), ...expected(series(T0 + 1_000_000_000, 60, 6)), ...expected([{ sensor: 's0', ts: T0 + 500, value: 42 }])].sort(byKey);
  assert.deepEqual(await readings(lake), want);
  // After a restart the marks are gone: the same rows again are found in the table by a scan.
  await withIngestor(lake, {}, async (ing) => {
    await ing.submit(request([...first, ...twice]));
    await ing.flush();
    assert.equal(ing.stats.duplicates, 603);
    assert.equal(ing.stats.rowsCommitted, 0);
  });
  assert.deepEqual(await readings(lake), want);
});

test('an idempotency key returns the first ack and writes nothing, also after a restart and after its WAL segment is gone', async () => {
  const lake = newLake();
  const rows = series(T0, 200, 4);
  const other = series(T0 + 2_000_000_000, 200, 4);
  const firstAck = await withIngestor(lake, { walSegmentBytes: 4096 }, async (ing) => {
    const [ack, concurrent] = await Promise.all([ing.submit(request(rows, { key: 'req-1', bad: ['{oops'] })), ing.submit(request(rows, { key: 'req-1', bad: ['{oops'] }))]);
    assert.equal(ack.duplicate, false);
    assert.deepEqual(concurrent, { ...ack, duplicate: true });
    const again = await ing.submit(request(other, { key: 'req-1' }));
    assert.deepEqual(again, { ...ack, duplicate: true }, 'a retry with the same key, even with another body, is the first ack');
    assert.equal(ing.stats.rowsIngested, 200);
    return ack;
  });
  assert.equal(firstAck.accepted, 200);
  assert.equal(firstAck.rejected.length, 1);
  await withIngestor(lake, { walSegmentBytes: 4096 }, async (ing) => {
    assert.deepEqual(await ing.submit(request(rows, { key: 'req-1' })), { ...firstAck, duplicate: true });
    // Fill segments so the one holding req-1 is committed and deleted; the key must survive in the side file.
    for (let k = 0; k < 10; k++) {
      await ing.submit(request(series(T0 + (k + 3) * 1_000_000_000, 50, 2), { key: `fill-${k}` }));
      await ing.flush();
    }
    assert.equal(ing.stats.rowsCommitted, 500);
  });
  await withIngestor(lake, { walSegmentBytes: 4096 }, async (ing) => {
    assert.deepEqual(await ing.submit(request(rows, { key: 'req-1' })), { ...firstAck, duplicate: true });
    assert.equal((await ing.submit(request([], { key: 'fill-3' }))).duplicate, true);
    await ing.flush();
  });
  assert.equal((await readings(lake)).length, 700);
  const q = await DeltaTable.open(lakePaths(lake).quarantine);
  assert.equal((await q.read()).numRows, 1, 'the key retry quarantined nothing twice');
  // Past the TTL, a key is forgotten: the request is written again (and its rows dedup on (sensor_id, ts)).
  await withIngestor(lake, { idempotencyTtlMs: 1 }, async (ing) => {
    await new Promise((r) => setTimeout(r, 5));
    const ack = await ing.submit(request(rows, { key: 'req-1' }));
    assert.equal(ack.duplicate, false);
    assert.notEqual(ack.position, firstAck.position);
    await ing.flush();
    assert.equal(ing.stats.duplicates, 200);
  });
});

test('backpressure: BufferFullError with retryAfterMs beyond bufferRows uncommitted; ShuttingDownError once close began', async () => {
  const lake = newLake();
  await withIngestor(lake, { bufferRows: 1500, commitRows: 1_000_000 }, async (ing) => {
    await ing.submit(request(series(T0, 1000)));
    await assert.rejects(ing.submit(request(series(T0 + 1e9, 1000))), (e: unknown) => e instanceof BufferFullError && e.retryAfterMs > 0);
    await ing.submit(request(series(T0 + 2e9, 400))); // still fits: 1400 <= 1500
    await ing.flush();
    assert.equal(ing.stats.bufferedRows, 0);
    await ing.submit(request(series(T0 + 1e9, 1000)));
    const closing = ing.close();
    await assert.rejects(ing.submit(request(series(T0 + 3e9, 10))), ShuttingDownError);
    await closing;
  });
  assert.equal((await readings(lake)).length, 2400);
});

test('rejects go to quarantine with reason and location; out-of-range values are written with quality bad', async () => {
  const lake = newLake();
  const sensors = await openOrCreate(lakePaths(lake).sensors, SENSORS_SCHEMA, [], 'test');
  const info = (id: string, kind: 'numeric' | 'state', min: number | null, max: number | null): SensorInfo => ({ sensor_id: id, asset: null, unit: null, interval_s: 1, valid_min: min, valid_max: max, description: null, kind });
  await upsertSensors(sensors, new Map(), [info('temp', 'numeric', -50, 150), info('door', 'state', null, null)], 'setup');
  const good: TestReading[] = [
    { sensor: 'temp', ts: T0 + 1, value: 20 },
    { sensor: 'temp', ts: T0 + 2, value: 900 }, // out of range: kept, quality bad
    { sensor: 'temp', ts: T0 + 3, value: -60, quality: QUALITY.uncertain },
    { sensor: 'door', ts: T0 + 1, value: null, text: 'OPEN' },
  ];
  const wrongType: TestReading = { sensor: 'temp', ts: T0 + 4, value: null, text: 'hot' }; // text for a numeric sensor
  const ack = await withIngestor(lake, { commitThread: 'main' }, async (ing) => {
    const ack = await ing.submit({ ...request([...good, wrongType], { bad: ['{"ts": 1', 'garbage'], source: 'http:line1' }) });
    await ing.flush();
    return ack;
  });
  assert.equal(ack.accepted, 4);
  assert.deepEqual(ack.rejected.map((r) => [r.reason, r.location]), [['malformed_record', 5], ['malformed_record', 6], ['type_mismatch', 4]]);
  const rows = await readings(lake);
  assert.deepEqual(rows.map((r) => [r.sensor_id, r.ts, r.quality]), [
    ['door', String(T0 + 1), '0'],
    ['temp', String(T0 + 1), '0'],
    ['temp', String(T0 + 2), String(QUALITY.bad)],
    ['temp', String(T0 + 3), String(QUALITY.bad)],
  ]);
  const q = await DeltaTable.open(lakePaths(lake).quarantine);
  const qrows = canonicalRows(await q.read({ columns: ['raw', 'reason', 'source_file', 'location', 'location_kind', 'job_id'] }), { location: 'long' });
  assert.deepEqual(
    qrows.map((r) => [r.reason, r.location, r.location_kind, r.source_file, r.job_id]).sort(),
    [['malformed_record', '5', 'record', 'http:line1', 'test-server'], ['malformed_record', '6', 'record', 'http:line1', 'test-server'], ['type_mismatch', '4', 'record', 'http:line1', 'test-server']].sort(),
  );
  assert.ok(qrows.some((r) => r.raw === 'garbage'));
  assert.equal(await q.txnVersion('test-server:quarantine'), ack.position);
});

test('one ingestor per WAL directory: a second open is refused until the first closes; a dead owner\'s lock is taken over', async () => {
  const lake = newLake();
  const first = await openIngestor({ lake, serverId: 'solo' });
  await assert.rejects(openIngestor({ lake, serverId: 'solo' }), /in use by this process/);
  // Another server id has its own WAL directory and may run beside it.
  const other = await openIngestor({ lake, serverId: 'other' });
  await other.close();
  await first.close();
  // A lock file left by a process that no longer exists (kill -9) does not block the next open.
  const walDir = path.join(lakePaths(lake).root, '_sensorlake', 'wal', 'solo');
  await writeFile(path.join(walDir, 'LOCK'), '2147483646');
  const again = await openIngestor({ lake, serverId: 'solo' });
  await again.close();
});
