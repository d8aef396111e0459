// Spark (delta-spark) and delta-rs read what `backfill` wrote: two simulated plants (narrow CSV and Parquet, default
// faults) backfilled into two lakes, then a merge rerun with overlapping, conflicting and µs-precise readings. Every
// table opens in both peers with the counts truth.json and the report give; partitions, per-sensor filtered queries
// and whole tables agree with DeltaTable.read to the microsecond. Spark starts once for the file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeltaTable, shutdownWorkers } from '../../src/delta/table.js';
import { backfill, type BackfillReport } from '../../src/backfill/run.js';
import { simulate, type SimulateSummary } from '../../src/sim/simulate.js';
import type { Truth } from '../../src/sim/truth.js';
import { tempDir } from '../helpers.js';
import { startPeers, type Peers, type PeerRow } from './peers.js';
import { canonicalRows, sortRows, type CanonicalRow } from './canonical.js';

const READINGS_SCHEMA = [
  { name: 'ts', type: 'timestamp' },
  { name: 'sensor_id', type: 'string' },
  { name: 'value', type: 'double' },
  { name: 'value_text', type: 'string' },
  { name: 'quality', type: 'long' },
  { name: 'source', type: 'string' },
  { name: 'date', type: 'date' },
];
const READINGS_TYPES = Object.fromEntries(READINGS_SCHEMA.map((c) => [c.name, c.type]));
const UNCERTAIN = '1073741824';

interface Plant {
  name: string;
  sim: SimulateSummary;
  truth: Truth;
  lake: string;
  report: BackfillReport;
}

let peers: Peers;
const scratch = tempDir('sensorlake-backfill-interop-');
const plants: Plant[] = [];
let sparkSeconds = 0;

async function makePlant(name: string, opts: Parameters<typeof simulate>[0]): Promise<Plant> {
  const sim = await simulate(opts);
  const truth = JSON.parse(readFileSync(sim.truthFile, 'utf8')) as Truth;
  const lake = path.join(scratch.dir, `lake-${name}`);
  const report = await backfill({ source: sim.files.map((f) => path.join(sim.dir, f.path)), lake, sensors: sim.sensorsFile });
  return { name, sim, truth, lake, report };
}

before(async () => {
  peers = await startPeers({ timeoutMs: 300_000 });
  // Spark starts while the plants are simulated and backfilled.
  const spark = peers.sparkStart();
  plants.push(
    // 12 sensors, 30 s, 2 days: ~40,000 readings. 8 sensors, 1 min, 3 days, written as one Parquet file.
    await makePlant('csv', { out: path.join(scratch.dir, 'sim-csv'), format: 'csv', sensors: 12, interval: '30s', from: '2024-03-30T00:00:00Z', to: '2024-04-01T00:00:00Z', seed: 21, faults: 'default' }),
    await makePlant('parquet', { out: path.join(scratch.dir, 'sim-parquet'), format: 'parquet', sensors: 8, interval: '1m', from: '2024-02-28T00:00:00Z', to: '2024-03-02T00:00:00Z', seed: 22, faults: 'default' }),
  );
  sparkSeconds = (await spark).seconds;
});

after(async () => {
  await peers?.close();
  await shutdownWorkers();
  scratch.cleanup();
});

const tablePath = (p: Plant, t: string): string => path.join(p.lake, t);
const delta = (location: string): string => `delta.\`${location}\``;

/** One number from a one-row, one-column result (counts are longs: decimal strings in the canonical encoding). */
function one(rows: PeerRow[]): number {
  assert.equal(rows.length, 1, `one row expected, got ${JSON.stringify(rows)}`);
  return Number(Object.values(rows[0])[0]);
}

/** The same SQL in Spark (over delta.`path`) and delta-rs (over the registered name): the numbers of both. */
async function countBoth(sql: (table: string) => string, location: string): Promise<[number, number]> {
  const spark = one(await peers.sparkSql(sql(delta(location))));
  const rs = one(await peers.deltaRsSql(sql('t'), { t: location }));
  return [spark, rs];
}

async function ourRows(location: string, where?: string): Promise<CanonicalRow[]> {
  const t = await DeltaTable.open(location);
  return canonicalRows(await t.read({ where }), READINGS_TYPES);
}

/** The UTC dates of [from, to). */
function datesOf(truth: Truth): string[] {
  const out: string[] = [];
  for (let t = Date.parse(truth.from); t < Date.parse(truth.to); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

const isoMicros = (us: bigint): string => {
  const ms = us / 1000n;
  const frac = (us % 1_000_000n).toString().padStart(6, '0');
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}.${frac}Z`;
};
const microsOf = (iso: string): bigint => BigInt(Date.parse(iso)) * 1000n;

/** A numeric sensor reporting at the base interval (the densest series). */
function fastNumericSensor(p: Plant): Truth['sensors'][number] {
  const s = p.truth.sensors.find((x) => x.value_type === 'numeric' && x.interval_s === p.truth.intervalSeconds && x.valid_min !== null && x.valid_max !== null);
  assert.ok(s, `${p.name}: a fast numeric sensor`);
  return s;
}

/**
 * The rows of `sensor` in [lo, hi] read four ways: Spark SQL, delta-rs SQL (DataFusion), delta-rs's pyarrow filters
 * and DeltaTable.read with the same predicate text; each must equal `oracle` (the full table filtered here).
 */
async function filteredEverywhere(location: string, sensor: string, lo: bigint, hi: bigint, oracle: CanonicalRow[], label: string): Promise<void> {
  const where = `sensor_id = '${sensor}' AND ts BETWEEN TIMESTAMP '${isoMicros(lo)}' AND TIMESTAMP '${isoMicros(hi)}'`;
  const expected = sortRows(oracle.filter((r) => r.sensor_id === sensor && BigInt(r.ts as string) >= lo && BigInt(r.ts as string) <= hi));
  assert.ok(expected.length > 0, `${label}: the range holds rows`);
  const spark = sortRows(await peers.sparkSql(`SELECT * FROM ${delta(location)} WHERE ${where}`));
  assert.deepEqual(spark, expected, `${label}: Spark SQL WHERE ${where}`);
  const rsSql = sortRows(await peers.deltaRsSql(`SELECT * FROM t WHERE ${where}`, { t: location }));
  assert.deepEqual(rsSql, expected, `${label}: delta-rs SQL WHERE ${where}`);
  const rsFilter = await peers.deltaRsFilter(location, [['sensor_id', '=', sensor], ['ts', '>=', String(lo)], ['ts', '<=', String(hi)]]);
  assert.deepEqual(rsFilter.rows, expected, `${label}: delta-rs pyarrow filters`);
  assert.deepEqual(await ourRows(location, where), expected, `${label}: DeltaTable.read WHERE ${where}`);
}

for (const name of ['csv', 'parquet']) {
  const plant = (): Plant => {
    const p = plants.find((x) => x.name === name);
    assert.ok(p, `plant ${name} was backfilled`);
    return p;
  };

  test(`${name}: readings, quarantine and sensors open in Spark and delta-rs with the counts of truth.json and the report`, async (t) => {
    const p = plant();
    const e = p.truth.expected;
    const r = p.report;
    assert.equal(r.balanced, true, `${name}: report balances`);
    assert.equal(r.read, e.records, `${name}: read`);
    assert.equal(r.written, e.distinctKeys, `${name}: written`);
    assert.equal(r.duplicates, e.duplicates, `${name}: duplicates`);
    assert.equal(r.quarantined, e.malformedTotal, `${name}: quarantined`);
    assert.ok(e.duplicates > 0 && e.malformedTotal > 0, `${name}: the plant has duplicates and malformed records`);

    const readings = tablePath(p, 'readings');
    assert.deepEqual(await countBoth((t) => `SELECT count(*) AS n FROM ${t}`, readings), [e.distinctKeys, e.distinctKeys], `${name}: readings rows (Spark, delta-rs)`);
    assert.deepEqual(await countBoth((t) => `SELECT count(*) AS n FROM (SELECT DISTINCT sensor_id, ts FROM ${t})`, readings), [e.distinctKeys, e.distinctKeys], `${name}: distinct (sensor_id, ts)`);
    assert.deepEqual(await countBoth((t) => `SELECT count(*) AS n FROM ${t}`, tablePath(p, 'quarantine')), [r.quarantined, r.quarantined], `${name}: quarantine rows`);
    assert.deepEqual(await countBoth((t) => `SELECT count(*) AS n FROM ${t}`, tablePath(p, 'sensors')), [p.sim.sensors, p.sim.sensors], `${name}: sensors rows`);
    // Every row sits in the partition of its own UTC date (Spark and delta-rs take `date` from the log's partitionValues).
    assert.deepEqual(await countBoth((t) => `SELECT count(*) AS n FROM ${t} WHERE date <> CAST(ts AS DATE)`, readings), [0, 0], `${name}: date = UTC date of ts`);

    // Partitions: exactly the dates of the simulated range, with the same counts in every reader.
    const dates = datesOf(p.truth);
    const bySpark = await peers.sparkSql(`SELECT date, count(*) AS n FROM ${delta(readings)} GROUP BY date ORDER BY date`);
    const byRs = await peers.deltaRsSql('SELECT date, count(*) AS n FROM t GROUP BY date ORDER BY date', { t: readings });
    const ours = new Map<string, number>();
    for (const row of await ourRows(readings)) ours.set(row.date as string, (ours.get(row.date as string) ?? 0) + 1);
    assert.deepEqual(bySpark.map((x) => x.date), dates, `${name}: Spark partitions`);
    assert.deepEqual(byRs, bySpark, `${name}: delta-rs partition counts = Spark's`);
    assert.deepEqual(bySpark.map((x) => [x.date, Number(x.n)]), [...ours].sort(), `${name}: our partition counts = Spark's`);
    assert.deepEqual(readdirSync(readings).filter((d) => d.startsWith('date=')).sort(), dates.map((d) => `date=${d}`), `${name}: partition directories`);

    // Quarantine: counts by reason as the report and truth.json give them, and each record where truth.json put it.
    const reasons = await peers.sparkSql(`SELECT reason, count(*) AS n FROM ${delta(tablePath(p, 'quarantine'))} GROUP BY reason ORDER BY reason`);
    const expectReasons = Object.entries(e.malformed).filter(([, n]) => (n ?? 0) > 0).sort(([a], [b]) => (a < b ? -1 : 1)).map(([reason, n]) => ({ reason, n: String(n) }));
    assert.deepEqual(reasons, expectReasons, `${name}: quarantine by reason (Spark) vs truth.json`);
    assert.deepEqual(
      Object.fromEntries(reasons.map((x) => [x.reason, Number(x.n)])),
      Object.fromEntries(Object.entries(r.quarantined_by_reason).filter(([, n]) => n > 0)),
      `${name}: quarantine by reason vs report`,
    );
    const q = await peers.deltaRsRead(tablePath(p, 'quarantine'), { columns: ['reason', 'source_file', 'location'] });
    const placed = p.truth.faults
      .filter((f): f is Extract<Truth['faults'][number], { kind: 'malformed' }> => f.kind === 'malformed')
      .map((f) => ({ reason: f.reason, source_file: path.join(p.sim.dir, f.file), location: String(f.location) }));
    assert.deepEqual(q.rows, sortRows(placed), `${name}: quarantine (reason, source_file, location) read by delta-rs vs truth.json`);

    // Sensors: the list's metadata, as Spark reads it.
    const sensors = await peers.sparkRead(tablePath(p, 'sensors'));
    const listed = p.truth.sensors.map((s) => ({
      sensor_id: s.sensor_id,
      asset: s.asset,
      unit: s.unit === '' ? null : s.unit, // an empty field of sensors.csv is no unit
      interval_s: s.interval_s,
      valid_min: s.valid_min,
      valid_max: s.valid_max,
      description: s.description,
      kind: s.value_type === 'text' ? 'state' : 'numeric',
    }));
    assert.deepEqual(sensors.rows, sortRows(listed), `${name}: sensors rows (Spark) vs sensors.csv`);
    t.diagnostic(`${name}: ${e.distinctKeys} readings on ${dates.length} dates, ${r.quarantined} quarantined, ${p.sim.sensors} sensors; Spark started in ${sparkSeconds} s`);
  });

  test(`${name}: Spark, delta-rs and DeltaTable.read return the same readings, timestamps exact; per-sensor filters agree`, async () => {
    const p = plant();
    const readings = tablePath(p, 'readings');
    const spark = await peers.sparkRead(readings);
    assert.deepEqual(spark.schema, READINGS_SCHEMA, `${name}: Spark schema`);
    assert.equal(spark.rows.length, p.truth.expected.distinctKeys, `${name}: Spark rows`);
    const rs = await peers.deltaRsRead(readings);
    assert.deepEqual(rs.schema, READINGS_SCHEMA, `${name}: delta-rs schema`);
    assert.deepEqual(rs.rows, spark.rows, `${name}: delta-rs rows = Spark rows`);
    assert.deepEqual(await ourRows(readings), spark.rows, `${name}: our rows = Spark rows`);
    // Every simulated timestamp lies on the plant's interval grid (whole ms here): a unit slip would leave it.
    const stepUs = BigInt(p.truth.intervalSeconds * 1_000_000);
    const fromUs = microsOf(p.truth.from);
    const off = spark.rows.filter((r) => (BigInt(r.ts as string) - fromUs) % stepUs !== 0n);
    assert.deepEqual(off.slice(0, 3), [], `${name}: timestamps on the ${p.truth.intervalSeconds} s grid`);

    // One sensor from 22:00 (exclusive by a microsecond) on the first day to 02:00 (inclusive) on the next.
    const s = fastNumericSensor(p);
    const day2 = microsOf(p.truth.from) + 86_400_000_000n;
    const lo = day2 - 2n * 3_600_000_000n + 1n;
    const hi = day2 + 2n * 3_600_000_000n;
    const at = (us: bigint) => spark.rows.some((r) => r.sensor_id === s.sensor_id && r.ts === String(us));
    assert.ok(at(lo - 1n) && at(hi), `${name}: ${s.sensor_id} has readings on both bounds, so the bounds matter`);
    await filteredEverywhere(readings, s.sensor_id, lo, hi, spark.rows, `${name} ${s.sensor_id}`);
  });
}

test('csv: a merge rerun with overlapping, conflicting and µs-precise readings: both peers read exact counts and rows', async (t) => {
  const p = plants.find((x) => x.name === 'csv');
  assert.ok(p);
  const readings = tablePath(p, 'readings');
  const before = (await peers.sparkRead(readings)).rows;
  const s = fastNumericSensor(p);
  const mine = before.filter((r) => r.sensor_id === s.sensor_id && r.quality === '0' && typeof r.value === 'number').sort((a, b) => (BigInt(a.ts as string) < BigInt(b.ts as string) ? -1 : 1));
  assert.ok(mine.length > 400, `${s.sensor_id} has readings to overlap`);
  const isoOf = (r: CanonicalRow): string => isoMicros(BigInt(r.ts as string));

  // 30 exact copies of table rows, 20 of their keys with another value (keep-existing keeps the table's), new readings
  // at µs offsets (some across midnight), a new sensor, and two malformed lines.
  const copies = mine.slice(100, 130);
  const conflicts = mine.slice(200, 220);
  const mid = (s.valid_min! + s.valid_max!) / 2;
  const day2 = microsOf(p.truth.from) + 86_400_000_000n;
  const fresh: { us: bigint; sensor: string; value: number; quality: 'good' | 'uncertain' }[] = [
    ...mine.slice(300, 310).map((r, i) => ({ us: BigInt(r.ts as string) + BigInt(1 + i * 99_999), sensor: s.sensor_id, value: mid + i / 1000, quality: 'good' as const })),
    { us: day2 - 1n, sensor: s.sensor_id, value: mid + 0.5, quality: 'uncertain' },
    { us: day2 + 1n, sensor: s.sensor_id, value: mid + 0.25, quality: 'good' },
    { us: day2 + 123_456n, sensor: s.sensor_id, value: mid - 0.125, quality: 'good' },
    ...[1n, 999n, 1_000n, 1_001n, 59_999_999n].map((d, i) => ({ us: day2 - 3_600_000_000n + d, sensor: 'extra/probe/micro', value: i * 1.5 - 2, quality: 'good' as const })),
  ];
  const lines = [
    ...copies.map((r) => `${isoOf(r)},${s.sensor_id},${String(r.value)},good`),
    ...conflicts.map((r) => `${isoOf(r)},${s.sensor_id},${String((r.value as number) + 0.5)},good`),
    ...fresh.map((f) => `${isoMicros(f.us)},${f.sensor},${String(f.value)},${f.quality}`),
    `not-a-time,${s.sensor_id},1,good`,
    `${isoMicros(day2)},${s.sensor_id},1,sparkly`,
  ];
  const extraDir = path.join(scratch.dir, 'extra');
  mkdirSync(extraDir);
  writeFileSync(path.join(extraDir, 'extra.csv'), ['ts,sensor_id,value,quality', ...lines].join('\n') + '\n');
  const r = await backfill({ source: extraDir, lake: p.lake, sensors: p.sim.sensorsFile });
  assert.equal(r.balanced, true, 'merge rerun balances');
  assert.deepEqual(
    [r.read, r.written, r.duplicates, r.conflicts_with_table, r.quarantined, r.already_committed],
    [lines.length, fresh.length, copies.length + conflicts.length, conflicts.length, 2, 0],
    'merge rerun: read, written, duplicates, conflicts with the table, quarantined, already committed',
  );

  const newRows = fresh.map((f) => ({
    ts: String(f.us),
    sensor_id: f.sensor,
    value: f.value,
    value_text: null,
    quality: f.quality === 'good' ? '0' : UNCERTAIN,
    source: 'extra.csv',
    date: isoMicros(f.us).slice(0, 10),
  }));
  const expected = sortRows([...before, ...newRows]);
  const total = p.truth.expected.distinctKeys + fresh.length;
  assert.deepEqual(await countBoth((t) => `SELECT count(*) AS n FROM ${t}`, readings), [total, total], 'readings rows after the merge (Spark, delta-rs)');
  assert.deepEqual(await countBoth((t) => `SELECT count(*) AS n FROM (SELECT DISTINCT sensor_id, ts FROM ${t})`, readings), [total, total], 'distinct keys after the merge');
  const quarantined = p.report.quarantined + 2;
  assert.deepEqual(await countBoth((t) => `SELECT count(*) AS n FROM ${t}`, tablePath(p, 'quarantine')), [quarantined, quarantined], 'quarantine rows after the merge');
  assert.deepEqual(await countBoth((t) => `SELECT count(*) AS n FROM ${t}`, tablePath(p, 'sensors')), [p.sim.sensors + 1, p.sim.sensors + 1], 'sensors rows after the merge: one new');
  assert.deepEqual(
    await countBoth((t) => `SELECT count(*) AS n FROM ${t} WHERE sensor_id = 'extra/probe/micro' AND kind = 'numeric'`, tablePath(p, 'sensors')),
    [1, 1],
    'the new sensor, inferred numeric',
  );

  // Whole tables: the rows before plus the new ones, the conflicting keys keeping the table's values, µs exact.
  const spark = await peers.sparkRead(readings);
  assert.equal(spark.rows.length, expected.length, 'Spark rows after the merge');
  assert.deepEqual(spark.rows, expected, 'Spark rows after the merge = before + new');
  assert.deepEqual((await peers.deltaRsRead(readings)).rows, expected, 'delta-rs rows after the merge = before + new');
  assert.deepEqual(await ourRows(readings), expected, 'our rows after the merge = before + new');
  const sparkNew = sortRows(await peers.sparkSql(`SELECT * FROM ${delta(readings)} WHERE source = 'extra.csv'`));
  assert.deepEqual(sparkNew, sortRows(newRows), 'Spark: the new rows, µs timestamps exact');
  assert.deepEqual(sortRows(await peers.deltaRsSql(`SELECT * FROM t WHERE source = 'extra.csv'`, { t: readings })), sortRows(newRows), 'delta-rs: the new rows');

  // µs bounds around midnight: [day2 - 1 µs, day2 + 1 µs] holds the two new readings and the one at midnight.
  await filteredEverywhere(readings, s.sensor_id, day2 - 1n, day2 + 1n, expected, 'µs window across midnight');
  const across = expected.filter((x) => x.sensor_id === s.sensor_id && BigInt(x.ts as string) >= day2 - 1n && BigInt(x.ts as string) <= day2 + 1n);
  assert.deepEqual(across.map((x) => [x.ts, x.date]), [[String(day2 - 1n), isoMicros(day2 - 1n).slice(0, 10)], [String(day2), isoMicros(day2).slice(0, 10)], [String(day2 + 1n), isoMicros(day2).slice(0, 10)]], 'the midnight rows and their partitions');
  // A window that excludes both µs neighbours by one microsecond returns only the midnight reading.
  await filteredEverywhere(readings, s.sensor_id, day2, day2, expected, 'the one midnight µs');
  // The new sensor's five readings, one of them 1 µs past a millisecond.
  await filteredEverywhere(readings, 'extra/probe/micro', day2 - 3_600_000_000n + 1_000n, day2 - 3_600_000_000n + 1_001n, expected, 'new sensor, µs bounds');
  // Spark and delta-rs see the new version; the one before still holds the old rows.
  const v = await (await DeltaTable.open(readings)).version();
  assert.equal(await peers.sparkVersion(readings), v, 'Spark version');
  assert.equal(await peers.deltaRsVersion(readings), v, 'delta-rs version');
  assert.equal((await peers.deltaRsRead(readings, { version: p.report.readings_version, columns: ['ts'] })).rows.length, p.truth.expected.distinctKeys, 'delta-rs time travel to the first run');
  t.diagnostic(`merge rerun: ${r.written} written, ${r.duplicates} duplicates (${r.conflicts_with_table} conflicts with the table), ${r.quarantined} quarantined; version ${p.report.readings_version} -> ${v}`);
});
