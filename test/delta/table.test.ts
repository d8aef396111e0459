// The DeltaTable API against its own contract: write modes, idempotent txn, schema rules, time travel, history,
// checkpoints, vacuum. (Interop with Spark and delta-rs is proven in test/interop.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { DeltaTable, field, struct, shutdownWorkers } from '../../src/delta/table.js';
import { SchemaMismatchError, PredicateViolationError, UnsupportedFeatureError } from '../../src/errors.js';
import { tempDir, readingsTable, makeReadings, rowsOf, expectedRows, JAN1, US_PER_DAY, dayOf } from '../helpers.js';

after(() => shutdownWorkers());

const schema = struct([
  field('ts', 'timestamp', false),
  field('sensor_id', 'string', false),
  field('value', 'double'),
  field('quality', 'integer', false),
  field('date', 'date', false),
]);

async function newTable(dir: string, properties?: Record<string, string>): Promise<DeltaTable> {
  return DeltaTable.create(path.join(dir, 't'), { schema, partitionColumns: ['date'], properties });
}

test('append, overwrite and read back exact rows; files are partitioned and zstd', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const t = await newTable(dir);
    const a = makeReadings({ days: 3, sensors: 4, perDay: 5 });
    const r1 = await t.write(readingsTable(a));
    assert.equal(r1.version, 1);
    assert.equal(r1.rowsWritten, a.length);
    assert.equal(r1.filesAdded, 3);
    assert.deepEqual(rowsOf(await t.read()), expectedRows(a));
    const dirs = readdirSync(t.location).filter((d) => d.startsWith('date='));
    assert.deepEqual(dirs.sort(), ['date=2024-01-01', 'date=2024-01-02', 'date=2024-01-03']);
    assert.match(readdirSync(path.join(t.location, 'date=2024-01-01'))[0], /^part-00000-[0-9a-f-]{36}-c000\.zstd\.parquet$/);
    const b = makeReadings({ days: 1, sensors: 2, perDay: 3, startUs: JAN1 + 10n * US_PER_DAY });
    const r2 = await t.write(readingsTable(b), { mode: 'overwrite' });
    assert.equal(r2.version, 2);
    assert.equal(r2.filesRemoved, 3);
    assert.deepEqual(rowsOf(await t.read()), expectedRows(b));
    assert.deepEqual(rowsOf(await t.read({ version: 1 })), expectedRows(a));
    const snap = await t.snapshot();
    assert.equal(snap.numRecords(), b.length);
  } finally {
    cleanup();
  }
});

test('replaceWhere replaces only matching rows and refuses rows outside the predicate', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const t = await newTable(dir);
    const a = makeReadings({ days: 3, sensors: 3, perDay: 4 });
    await t.write(readingsTable(a));
    const day2 = JAN1 + US_PER_DAY;
    const newRows = makeReadings({ days: 1, sensors: 1, perDay: 2, startUs: day2, seed: 99 });
    // Partition predicate plus a ts range cutting through the partition: survivors must stay.
    const cutoff = day2 + 120_000_000n; // first two minutes of day 2
    const where = `date = '2024-01-02' AND ts < '${new Date(Number(cutoff / 1000n)).toISOString()}'`;
    const res = await t.write(readingsTable(newRows), { mode: 'overwrite', replaceWhere: where });
    assert.equal(res.version, 2);
    const kept = a.filter((r) => !(dayOf(r.ts) === dayOf(day2) && r.ts < cutoff));
    assert.deepEqual(rowsOf(await t.read()), expectedRows([...kept, ...newRows]));
    const outside = makeReadings({ days: 1, sensors: 1, perDay: 1, startUs: JAN1 });
    await assert.rejects(t.write(readingsTable(outside), { mode: 'overwrite', replaceWhere: where }), PredicateViolationError);
    assert.equal(await t.version(), 2);
    const h = await t.history();
    assert.equal(h[0].operation, 'WRITE');
    assert.equal(h[0].operationParameters.mode, 'Overwrite');
    assert.match(String(h[0].operationParameters.predicate), /date/);
  } finally {
    cleanup();
  }
});

test('txn makes a write idempotent and is readable from any snapshot', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const t = await newTable(dir);
    const a = makeReadings({ days: 1, sensors: 2, perDay: 2 });
    const r1 = await t.write(readingsTable(a), { txn: { appId: 'job', version: 0 } });
    const again = await t.write(readingsTable(a), { txn: { appId: 'job', version: 0 } });
    assert.equal(r1.version, 1);
    assert.equal(again.skipped, true);
    assert.equal(again.version, null);
    await t.write(readingsTable(a.slice(0, 1)), { txn: { appId: 'job', version: 1 } });
    assert.equal(await t.txnVersion('job'), 1);
    assert.equal(await t.txnVersion('job', { version: 1 }), 0);
    assert.equal(await t.txnVersion('other'), undefined);
    assert.equal((await t.read()).numRows, a.length + 1);
  } finally {
    cleanup();
  }
});

test('schema enforcement names column and types; mergeSchema adds a nullable column', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const t = await newTable(dir);
    const a = makeReadings({ days: 1, sensors: 1, perDay: 2 });
    const good = readingsTable(a);
    const badValue = good.assign(new arrow.Table({ value: arrow.vectorFromArray(a.map(() => 'x'), new arrow.Utf8()) }));
    await assert.rejects(t.write(badValue), (e: Error) => e instanceof SchemaMismatchError && /'value' expects type double but the data has string/.test(e.message));
    const before = readdirSync(t.location);
    assert.deepEqual(before, ['_delta_log'], 'nothing written before the schema check');
    const extra = good.assign(new arrow.Table({ unit: arrow.vectorFromArray(a.map(() => 'degC'), new arrow.Utf8()) }));
    await assert.rejects(t.write(extra), /column 'unit' .* is not in the table schema/);
    const r = await t.write(extra, { mergeSchema: true });
    assert.equal(r.version, 1);
    const snap = await t.snapshot();
    assert.deepEqual(snap.schema.fields.map((f) => [f.name, f.type, f.nullable]).at(-1), ['unit', 'string', true]);
    await t.write(good);
    const rows = rowsOf(await t.read({ columns: ['sensor_id', 'unit'] }));
    assert.deepEqual(rows.map((x) => x.unit ?? 'NULL').sort(), ['NULL', 'NULL', 'degC', 'degC']);
  } finally {
    cleanup();
  }
});

test('time travel by version and timestamp; history has operation and metrics', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const t = await newTable(dir);
    const a = makeReadings({ days: 1, sensors: 1, perDay: 3 });
    await t.write(readingsTable(a));
    const mid = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    await t.write(readingsTable(a));
    assert.equal((await t.read({ timestamp: new Date(mid) })).numRows, 3);
    assert.equal((await t.read({ timestamp: new Date().toISOString() })).numRows, 6);
    await assert.rejects(t.read({ timestamp: '2000-01-01T00:00:00Z' }), /no version at or before/);
    const h = await t.history();
    assert.deepEqual(h.map((e) => e.version), [2, 1, 0]);
    assert.equal(h[2].operation, 'CREATE TABLE');
    assert.equal(h[0].operationMetrics.numOutputRows, '3');
  } finally {
    cleanup();
  }
});

test('a checkpoint every checkpointInterval commits; replay from it equals replay from JSON', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const t = await newTable(dir, { 'delta.checkpointInterval': '3' });
    const all = [];
    for (let i = 0; i < 7; i++) {
      const rows = makeReadings({ days: 1, sensors: 1, perDay: 2, startUs: JAN1 + BigInt(i) * US_PER_DAY, seed: i + 1 });
      all.push(...rows);
      await t.write(readingsTable(rows), { txn: { appId: 'cp', version: i } });
    }
    const log = path.join(t.location, '_delta_log');
    assert.ok(existsSync(path.join(log, '00000000000000000003.checkpoint.parquet')));
    assert.ok(existsSync(path.join(log, '00000000000000000006.checkpoint.parquet')));
    assert.deepEqual(rowsOf(await t.read()), expectedRows(all));
    assert.equal(await t.txnVersion('cp'), 6);
    const manual = await t.checkpoint();
    assert.equal(manual.version, 7);
    assert.equal(manual.numOfAddFiles, 7);
  } finally {
    cleanup();
  }
});

test('vacuum deletes only unreferenced files past retention, dry run deletes nothing', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const t = await newTable(dir);
    const a = makeReadings({ days: 2, sensors: 1, perDay: 2 });
    await t.write(readingsTable(a));
    await t.write(readingsTable(a), { mode: 'overwrite' });
    await assert.rejects(t.vacuum({ retentionHours: 0 }), /shorter than the table's/);
    const dry = await t.vacuum({ dryRun: true });
    assert.equal(dry.files.length, 0, 'removed files are still within the retention');
    const later = Date.now() + 8 * 24 * 3600_000;
    const dry2 = await t.vacuum({ dryRun: true, now: later });
    assert.equal(dry2.files.length, 2);
    const real = await t.vacuum({ now: later });
    assert.deepEqual(real.files, dry2.files);
    for (const f of real.files) assert.ok(!existsSync(path.join(t.location, f)));
    assert.deepEqual(rowsOf(await t.read()), expectedRows(a));
  } finally {
    cleanup();
  }
});

test('writers refuse tables with deletion vectors enabled', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const t = await newTable(dir, { 'delta.enableDeletionVectors': 'true' });
    await assert.rejects(t.write(readingsTable(makeReadings({ days: 1, sensors: 1, perDay: 1 }))), (e: Error) => e instanceof UnsupportedFeatureError && e.feature === 'deletionVectors');
  } finally {
    cleanup();
  }
});

test('scan prunes by partition values and skips files by ts and sensor_id stats', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const t = await newTable(dir);
    const rows = makeReadings({ days: 3, sensors: 4, perDay: 6 });
    // Sorted by (sensor_id, ts) and cut into 6-row files: each file holds one sensor of one day.
    await t.write(readingsTable(rows), { sortBy: ['sensor_id', 'ts'], targetFileRows: 6 });
    assert.equal((await t.files()).length, 12);
    const day2 = new Date(Number((JAN1 + US_PER_DAY) / 1000n)).toISOString();
    // Stats hold ms-precision bounds that readers widen by up to 1 ms, so the range ends mid-day, not at midnight.
    const day3 = new Date(Number((JAN1 + US_PER_DAY + US_PER_DAY / 2n) / 1000n)).toISOString();
    assert.equal((await t.files({ where: "date = '2024-01-02'" })).length, 4, 'partition pruning');
    assert.equal((await t.files({ where: `ts >= '${day2}' AND ts < '${day3}'` })).length, 4, 'ts stats skipping');
    assert.equal((await t.files({ where: "sensor_id = 'sensor-2'" })).length, 3, 'sensor_id stats skipping');
    const one = await t.read({ where: `sensor_id = 'sensor-2' AND ts >= '${day2}' AND ts < '${day3}'` });
    assert.equal((await t.files({ where: `sensor_id = 'sensor-2' AND ts >= '${day2}' AND ts < '${day3}'` })).length, 1);
    assert.deepEqual(
      rowsOf(one),
      expectedRows(rows.filter((r) => r.sensor_id === 'sensor-2' && dayOf(r.ts) === dayOf(JAN1 + US_PER_DAY))),
    );
    let batches = 0;
    for await (const b of t.scan({ where: "sensor_id = 'sensor-2'" })) {
      assert.ok(b instanceof arrow.RecordBatch);
      assert.equal(String(b.schema.fields[0].type), 'Timestamp<MICROSECOND, UTC>');
      batches++;
    }
    assert.equal(batches, 3);
  } finally {
    cleanup();
  }
});

test('a stream of pieces is one commit; a failing piece commits nothing; an empty write commits its txn', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const t = await newTable(dir);
    const all = makeReadings({ days: 2, sensors: 3, perDay: 40 });
    async function* stream(rows: typeof all, size: number): AsyncGenerator<arrow.Table> {
      for (let i = 0; i < rows.length; i += size) yield readingsTable(rows.slice(i, i + size));
    }
    const r = await t.write(stream(all, 25), { txn: { appId: 'job', version: 1 } });
    assert.equal(r.version, 1);
    assert.equal(r.rowsWritten, all.length);
    assert.equal((await t.history()).length, 2, 'one commit for every piece');
    assert.deepEqual(rowsOf(await t.read()), expectedRows(all));

    // replaceWhere over a stream: the second piece breaks the predicate, so nothing is committed.
    const day1 = all.filter((x) => dayOf(x.ts) === dayOf(JAN1));
    const outside = all.filter((x) => dayOf(x.ts) !== dayOf(JAN1)).slice(0, 1);
    async function* bad(): AsyncGenerator<arrow.Table> {
      yield readingsTable(day1.slice(0, 5));
      yield readingsTable(outside);
    }
    await assert.rejects(t.write(bad(), { mode: 'overwrite', replaceWhere: "date = '2024-01-01'" }), PredicateViolationError);
    assert.equal(await t.version(), 1);
    assert.deepEqual(rowsOf(await t.read()), expectedRows(all));

    const empty = await t.write([], { txn: { appId: 'job', version: 2 } });
    assert.equal(empty.version, 2);
    assert.equal(empty.rowsWritten, 0);
    assert.equal(empty.filesAdded, 0);
    assert.equal(await t.txnVersion('job'), 2);
    assert.equal((await t.write([], { txn: { appId: 'job', version: 2 } })).skipped, true);
    assert.deepEqual(rowsOf(await t.read()), expectedRows(all));
  } finally {
    cleanup();
  }
});
