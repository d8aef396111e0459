// The Spark engine gives what the TypeScript engine gives: one simulated plant in all five formats the Spark job reads
// (narrow CSV, wide CSV, JSON Lines, Parquet, Avro; default faults, so every reader's rejects show) is backfilled by
// both engines into two lakes; readings, quarantine and sensors must be equal row for row, and so must the reports.
// Then both take a second input that conflicts with the first under keep-incoming (a rewrite by replaceWhere), our
// reader reads the Spark-written lake throughout, and a rerun of the Spark job changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { backfill } from '../../src/backfill/run.js';
import type { BackfillReport } from '../../src/backfill/report.js';
import { DeltaTable, shutdownWorkers } from '../../src/delta/table.js';
import { sparkBackfill } from '../../src/spark/launcher.js';
import { tempDir } from '../helpers.js';
import { comparable, simulatePlant, sparkReady, tableRows, type Plant } from './helpers.js';

const scratch = tempDir('sensorlake-spark-same-');
const lakeTs = path.join(scratch.dir, 'lake-ts');
const lakeSpark = path.join(scratch.dir, 'lake-spark');
const SPARK = { master: 'local[2]' };
let plant: Plant;
let ts1: BackfillReport;
let sp1: BackfillReport;
const skip = sparkReady() ? false : 'Spark peers not installed (scripts/setup-peers.sh)';

before(async () => {
  if (skip) return;
  plant = await simulatePlant(path.join(scratch.dir, 'in'));
  ts1 = await backfill({ source: plant.files, lake: lakeTs, sensors: plant.sensors });
  sp1 = await sparkBackfill({ source: plant.files, lake: lakeSpark, sensors: plant.sensors }, SPARK);
});

after(async () => {
  await shutdownWorkers();
  scratch.cleanup();
});

test('both engines account for the five-format input alike, report key for key', { skip }, () => {
  assert.ok(ts1.read > 10_000 && ts1.quarantined > 20 && ts1.duplicates > 0, `the input has readings, rejects and duplicates: ${JSON.stringify(comparable(ts1))}`);
  for (const reason of ['bad_timestamp', 'bad_value', 'non_finite', 'type_mismatch', 'missing_sensor_id', 'bad_quality', 'malformed_record'] as const) {
    assert.ok(ts1.quarantined_by_reason[reason] > 0, `the input has ${reason} rejects`);
  }
  assert.deepEqual(Object.keys(sp1), Object.keys(ts1), 'the same keys in the same order');
  assert.deepEqual(comparable(sp1), comparable(ts1));
  assert.equal(sp1.balanced, true);
});

test('readings are equal row for row (every column, µs timestamps), read back by our reader from the Spark lake', { skip }, async () => {
  const [a, b] = [await tableRows(lakeTs, 'readings'), await tableRows(lakeSpark, 'readings')];
  assert.equal(b.length, ts1.written);
  assert.deepEqual(b, a);
});

test('quarantine is equal row for row: raw, reason, message, source file, location and its kind', { skip }, async () => {
  const drop = ['quarantined_at', 'job_id'];
  const [a, b] = [await tableRows(lakeTs, 'quarantine', drop), await tableRows(lakeSpark, 'quarantine', drop)];
  assert.equal(b.length, ts1.quarantined);
  // JSON Lines records that are not JSON at all carry the parser's own words (V8's vs Python's): all else is equal.
  const words = (rows: typeof a): typeof a => rows.map((r) => (r.reason === 'malformed_record' && String(r.message).startsWith('not valid JSON') ? { ...r, message: 'not valid JSON' } : r));
  assert.deepEqual(words(b), words(a));
});

test('sensors and table metadata are the same: schema, partitioning, descriptions', { skip }, async () => {
  assert.deepEqual(await tableRows(lakeSpark, 'sensors'), await tableRows(lakeTs, 'sensors'));
  for (const t of ['readings', 'quarantine', 'sensors']) {
    const [a, b] = [await (await DeltaTable.open(path.join(lakeTs, t))).snapshot(), await (await DeltaTable.open(path.join(lakeSpark, t))).snapshot()];
    assert.deepEqual(b.schema, a.schema, `${t}: schema`);
    assert.deepEqual(b.partitionColumns, a.partitionColumns, `${t}: partition columns`);
    assert.equal(b.metadata.description, a.metadata.description, `${t}: description`);
  }
});

test('a conflicting second input under keep-incoming rewrites the same rows in both lakes', { skip }, async () => {
  // The first CSV file again, with every third value changed and a sensor's rows dropped: conflicts with the table.
  const { readFileSync } = await import('node:fs');
  const lines = readFileSync(plant.files[0], 'utf8').trimEnd().split('\n');
  const changed = lines.map((l, i) => {
    if (i === 0 || i % 3 !== 0) return l;
    const c = l.split(',');
    const v = Number(c[2]);
    return c.length === 4 && Number.isFinite(v) && c[2] !== '' ? [c[0], c[1], String(v + 0.5), c[3]].join(',') : l;
  });
  const second = path.join(scratch.dir, 'in', 'second.csv');
  writeFileSync(second, changed.join('\n') + '\n');
  const opts = { source: second, sensors: plant.sensors, onConflict: 'keep-incoming' as const };
  const ts2 = await backfill({ ...opts, lake: lakeTs });
  const sp2 = await sparkBackfill({ ...opts, lake: lakeSpark }, SPARK);
  assert.ok(ts2.conflicts_with_table > 100 && ts2.rows_replaced === ts2.conflicts_with_table, `conflicts: ${JSON.stringify(comparable(ts2))}`);
  const { readings_version: _a, ...tsRest } = comparable(ts2);
  const { readings_version: _b, ...spRest } = comparable(sp2);
  assert.deepEqual(spRest, tsRest);
  assert.deepEqual(await tableRows(lakeSpark, 'readings'), await tableRows(lakeTs, 'readings'));
});

test('the Spark job run again on the same input commits nothing and counts everything as already committed', { skip }, async () => {
  const version = await (await DeltaTable.open(path.join(lakeSpark, 'readings'))).version();
  const before = await tableRows(lakeSpark, 'readings');
  const again = await sparkBackfill({ source: plant.files, lake: lakeSpark, sensors: plant.sensors }, SPARK);
  assert.equal(again.job_id, sp1.job_id);
  assert.equal(again.windows_committed, 0);
  assert.equal(again.windows_skipped, sp1.windows);
  assert.equal(again.written, 0);
  assert.equal(again.quarantine_commits, 0);
  assert.equal(again.sensors_upserted, 0);
  assert.equal(again.duplicates, 0);
  assert.equal(again.quarantined, sp1.quarantined);
  assert.equal(again.already_committed, sp1.read - sp1.quarantined, 'every staged row is in a window the job committed');
  assert.equal(again.balanced, true);
  assert.equal(again.readings_version, version);
  assert.deepEqual(await tableRows(lakeSpark, 'readings'), before);
});
