// Write interop: real Spark and delta-rs read exactly what we write (rows, versions, history, time travel) through
// partitioning, checkpoints, replaceWhere, schema evolution, overwrite + vacuum; we read what they append; tables
// Spark moves to deletion vectors read right and refuse our writes; a mistyped write leaves no file behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { existsSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import { DeltaTable, field, struct, shutdownWorkers } from '../../src/delta/table.js';
import { SchemaMismatchError, SensorlakeError, UnsupportedFeatureError } from '../../src/errors.js';
import { tempDir, makeReadings, dayOf, JAN1, US_PER_DAY, type Reading } from '../helpers.js';
import { startPeers, type Peers, type PeerColumn, type ReadOptions } from './peers.js';
import { canonicalRows, sortRows, type CanonicalRow } from './canonical.js';

let peers: Peers;
const scratch = tempDir('sensorlake-write-interop-');

before(async () => {
  peers = await startPeers({ timeoutMs: 300_000 });
  await peers.sparkStart();
});

after(async () => {
  await peers?.close();
  await shutdownWorkers();
  scratch.cleanup();
});

// ---- rows: one canonical form (peer.py's) for what we write, what we expect and what every engine reads ----

const READING_COLUMNS: PeerColumn[] = [
  { name: 'ts', type: 'timestamp' },
  { name: 'sensor_id', type: 'string' },
  { name: 'value', type: 'double' },
  { name: 'quality', type: 'integer' },
  { name: 'date', type: 'date' },
];
const READING_SCHEMA = struct([
  field('ts', 'timestamp', false),
  field('sensor_id', 'string', false),
  field('value', 'double'),
  field('quality', 'integer', false),
  field('date', 'date', false),
]);
const UNIT: PeerColumn = { name: 'unit', type: 'string' };

const isoDay = (days: number): string => new Date(days * 86_400_000).toISOString().slice(0, 10);
const daysOf = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
const isoOfMicros = (us: bigint): string => new Date(Number(us / 1000n)).toISOString().replace('Z', `${String(us % 1000n).padStart(3, '0')}Z`);

function canonReadings(rows: Reading[], extra: CanonicalRow = {}): CanonicalRow[] {
  return rows.map((r) => ({ ts: String(r.ts), sensor_id: r.sensor_id, value: r.value, quality: r.quality, date: isoDay(dayOf(r.ts)), ...extra }));
}

function readings(days: number, startDay: number, seed: number, perDay = 3, sensors = 2): CanonicalRow[] {
  return canonReadings(makeReadings({ days, sensors, perDay, seed, startUs: JAN1 + BigInt(startDay) * US_PER_DAY }));
}

/** Rows with exactly `columns` as keys, in that order (absent ones null), sorted as the peers sort theirs. */
function normalise(rows: CanonicalRow[], columns: PeerColumn[]): CanonicalRow[] {
  return sortRows(rows.map((r) => Object.fromEntries(columns.map((c) => [c.name, r[c.name] ?? null]))));
}

function validity(values: unknown[]): { nullCount: number; nullBitmap: Uint8Array } {
  const nullBitmap = new Uint8Array((values.length + 7) >> 3);
  values.forEach((v, i) => {
    if (v !== null) nullBitmap[i >> 3] |= 1 << (i & 7);
  });
  return { nullCount: values.filter((v) => v === null).length, nullBitmap };
}

function bigintData(values: unknown[]): BigInt64Array {
  return BigInt64Array.from(values.map((v) => (v === null ? 0n : BigInt(v as string))));
}

function arrowColumn(type: string, values: unknown[]): arrow.Vector {
  switch (type) {
    case 'timestamp':
      return arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: values.length, ...validity(values), data: bigintData(values) }));
    case 'long':
      return arrow.makeVector(arrow.makeData({ type: new arrow.Int64(), length: values.length, ...validity(values), data: bigintData(values) }));
    case 'date': {
      const data = Int32Array.from(values.map((v) => (v === null ? 0 : daysOf(v as string))));
      return arrow.makeVector(arrow.makeData({ type: new arrow.DateDay(), length: values.length, ...validity(values), data }));
    }
    case 'string':
      return arrow.vectorFromArray(values as (string | null)[], new arrow.Utf8());
    case 'double':
      return arrow.vectorFromArray(values as (number | null)[], new arrow.Float64());
    case 'integer':
      return arrow.vectorFromArray(values as (number | null)[], new arrow.Int32());
  }
  throw new Error(`arrowColumn: no builder for ${type}`);
}

/** Canonical rows as the Arrow table we hand to DeltaTable.write. */
function arrowOf(rows: CanonicalRow[], columns: PeerColumn[]): arrow.Table {
  return new arrow.Table(Object.fromEntries(columns.map((c) => [c.name, arrowColumn(c.type, rows.map((r) => r[c.name] ?? null))])));
}

// ---- the per-state checks ----

interface Expected {
  columns: PeerColumn[];
  rows: CanonicalRow[];
}
interface Travel extends Expected {
  version: number;
  /** A time between this version's commit and the next; Spark (file mtimes), delta-rs and we must all pick `version`. */
  time?: Date;
}
interface State extends Expected {
  versions: number[];
  travel?: Travel;
}

function typesOf(columns: PeerColumn[]): Record<string, string> {
  return Object.fromEntries(columns.map((c) => [c.name, c.type]));
}

/** Which peers take part: delta-rs (1.6) refuses to read tables with deletion vectors. */
interface PeerSet {
  deltaRs?: boolean;
}

/** Ours, Spark's and delta-rs's read at one selector all equal the expected rows and schema. */
async function checkRead(t: DeltaTable, what: string, want: Expected, at: ReadOptions & { timestamp?: Date } = {}, use: PeerSet = {}): Promise<void> {
  const expected = { schema: want.columns, rows: normalise(want.rows, want.columns) };
  const withDeltaRs = use.deltaRs ?? true;
  const [spark, deltaRs, ours, snap] = await Promise.all([
    peers.sparkRead(t.location, at),
    withDeltaRs ? peers.deltaRsRead(t.location, at) : expected,
    t.read(at),
    t.snapshot(at),
  ]);
  assert.deepEqual(
    snap.schema.fields.map((f) => ({ name: f.name, type: f.type })),
    want.columns,
    `${what}: our schema`,
  );
  assert.deepEqual(canonicalRows(ours, typesOf(want.columns)), expected.rows, `${what}: our rows`);
  assert.deepEqual(spark, expected, `${what}: Spark`);
  assert.deepEqual(deltaRs, expected, `${what}: delta-rs`);
}

/** Versions and operations of our history, Spark's and delta-rs's agree, oldest first. */
async function checkHistory(t: DeltaTable, what: string, versions: number[], use: PeerSet = {}): Promise<void> {
  const [ours, spark, deltaRs] = await Promise.all([
    t.history(),
    peers.sparkHistory(t.location),
    (use.deltaRs ?? true) ? peers.deltaRsHistory(t.location) : null,
  ]);
  const mine = ours.map((h) => ({ version: h.version, operation: h.operation })).reverse();
  assert.deepEqual(mine.map((h) => h.version), versions, `${what}: our history versions`);
  assert.deepEqual(spark.map((h) => ({ version: h.version, operation: h.operation })), mine, `${what}: Spark history`);
  if (deltaRs) assert.deepEqual(deltaRs.map((h) => ({ version: h.version, operation: h.operation })), mine, `${what}: delta-rs history`);
}

async function checkState(t: DeltaTable, what: string, s: State, use: PeerSet = {}): Promise<void> {
  assert.equal(await t.version(), s.versions.at(-1), `${what}: our version`);
  await checkRead(t, `${what} @ latest`, s, {}, use);
  await checkHistory(t, what, s.versions, use);
  if (s.travel) {
    const { version, time } = s.travel;
    await checkRead(t, `${what} @ versionAsOf ${version}`, s.travel, { version }, use);
    if (time) await checkRead(t, `${what} @ timestampAsOf ${time.toISOString()} (v${version})`, s.travel, { timestamp: time }, use);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A moment strictly between the last commit and the next one, far enough from both for any clock or mtime grain. */
async function between(): Promise<Date> {
  await sleep(60);
  const at = new Date();
  await sleep(60);
  return at;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, k) => from + k);
const logDir = (t: DeltaTable): string => path.join(t.location, '_delta_log');
const commitName = (v: number): string => `${String(v).padStart(20, '0')}.json`;

/** Every file under the table (log included), relative and sorted. */
function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}
const partitionDirs = (dir: string): string[] => readdirSync(dir).filter((d) => d.includes('=')).sort();
const dataFiles = (dir: string): string[] => allFiles(dir).filter((f) => f.endsWith('.parquet') && !f.startsWith('_delta_log'));

function commitActions(t: DeltaTable, version: number): Record<string, unknown>[] {
  return readFileSync(path.join(logDir(t), commitName(version)), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

// ---- 1. what we write, through every state, reads the same in Spark and delta-rs ----

test('a partitioned table through replaceWhere, mergeSchema, checkpoints, deleted JSON commits, overwrite and vacuum', async () => {
  const t = await DeltaTable.create(path.join(scratch.dir, 'partitioned'), { schema: READING_SCHEMA, partitionColumns: ['date'] });
  const cols = READING_COLUMNS;

  // (a) partitioned by date: v1 two days, v2 a third; travel to v1.
  const a = readings(2, 0, 1);
  assert.equal((await t.write(arrowOf(a, cols))).version, 1);
  const t1 = await between();
  const b = readings(1, 2, 2);
  await t.write(arrowOf(b, cols));
  await checkState(t, '(a) partitioned', { columns: cols, rows: [...a, ...b], versions: range(0, 2), travel: { version: 1, time: t1, columns: cols, rows: a } });

  // (d) replaceWhere: day 2, but only before a µs-precise cutoff, so the predicate cuts through the partition.
  const t2 = await between();
  const day2 = JAN1 + US_PER_DAY;
  const cutoff = day2 + 90_000_001n;
  const c = canonReadings([
    { ts: day2 + 1n, sensor_id: 'sensor-9', value: 0.5, quality: 7 },
    { ts: cutoff - 1n, sensor_id: 'sensor-9', value: null, quality: 8 },
  ]);
  const replaced = (r: CanonicalRow): boolean => r.date === '2024-01-02' && BigInt(r.ts as string) < cutoff;
  const before3 = [...a, ...b];
  assert.ok(before3.some(replaced) && before3.some((r) => r.date === '2024-01-02' && !replaced(r)), 'the cutoff splits day 2');
  const res3 = await t.write(arrowOf(c, cols), { mode: 'overwrite', replaceWhere: `date = '2024-01-02' AND ts < '${isoOfMicros(cutoff)}'` });
  assert.equal(res3.version, 3);
  const after3 = [...before3.filter((r) => !replaced(r)), ...c];
  await checkState(t, '(d) replaceWhere', { columns: cols, rows: after3, versions: range(0, 3), travel: { version: 2, time: t2, columns: cols, rows: before3 } });

  // (e) mergeSchema adds a nullable column; older rows read null, v3 still reads the old schema.
  const t3 = await between();
  const colsU = [...cols, UNIT];
  const d = readings(1, 3, 3).map((r): CanonicalRow => ({ ...r, unit: 'degC' }));
  d[0].unit = null;
  assert.equal((await t.write(arrowOf(d, colsU), { mergeSchema: true })).version, 4);
  const after4 = [...after3, ...d];
  await checkState(t, '(e) mergeSchema', { columns: colsU, rows: after4, versions: range(0, 4), travel: { version: 3, time: t3, columns: cols, rows: after3 } });

  // (c) ten commits and more: a checkpoint at v10, then readers must start from it once the JSON before it is gone.
  let all = after4;
  for (let v = 5; v <= 10; v++) {
    const e = readings(1, v, v, 2, 1).map((r) => ({ ...r, unit: `u${v}` }));
    assert.equal((await t.write(arrowOf(e, colsU))).version, v);
    all = [...all, ...e];
  }
  const at10 = all;
  const t10 = await between();
  const e11 = readings(1, 11, 11, 2, 1);
  await t.write(arrowOf(e11, cols)); // without the new column: it reads null
  all = [...all, ...e11];
  assert.ok(existsSync(path.join(logDir(t), '00000000000000000010.checkpoint.parquet')), 'checkpoint at v10');
  assert.equal(JSON.parse(readFileSync(path.join(logDir(t), '_last_checkpoint'), 'utf8')).version, 10);
  const travel10 = { version: 10, time: t10, columns: colsU, rows: at10 };
  await checkState(t, '(c) checkpointed', { columns: colsU, rows: all, versions: range(0, 11), travel: travel10 });
  for (let v = 0; v < 10; v++) unlinkSync(path.join(logDir(t), commitName(v)));
  await checkState(t, '(c) JSON before the checkpoint deleted', { columns: colsU, rows: all, versions: range(10, 11), travel: travel10 });
  await assert.rejects(t.read({ version: 5 }), (e: Error) => e instanceof SensorlakeError, 'v5 cannot be rebuilt once its commits are gone');

  // (f) overwrite, one more append, vacuum at retention 0: only live files remain and every peer reads them.
  const f = readings(2, 20, 20);
  const g = readings(1, 22, 22).map((r) => ({ ...r, unit: 'K' }));
  const liveBefore = await t.files();
  assert.equal((await t.write(arrowOf(f, cols), { mode: 'overwrite' })).version, 12);
  const t12 = await between();
  await t.write(arrowOf(g, colsU));
  const onDisk = dataFiles(t.location);
  const live = (await t.files()).map((p) => decodeURIComponent(p)).sort();
  assert.ok(liveBefore.every((p) => onDisk.includes(decodeURIComponent(p))), 'before vacuum, the overwritten files are still there');
  const vac = await t.vacuum({ retentionHours: 0, enforceRetentionDuration: false, now: Date.now() + 3600_000 });
  assert.deepEqual([...vac.files].sort(), onDisk.filter((p) => !live.includes(p)));
  assert.ok(vac.files.length >= liveBefore.length);
  assert.deepEqual(dataFiles(t.location), live, 'after vacuum only live data files remain');
  await checkState(t, '(f) overwrite + vacuum', { columns: colsU, rows: [...f, ...g], versions: range(10, 13), travel: { version: 12, time: t12, columns: colsU, rows: f } });
});

test('(b) an unpartitioned table with delta.checkpointInterval=2', async () => {
  const t = await DeltaTable.create(path.join(scratch.dir, 'unpartitioned'), {
    schema: READING_SCHEMA,
    properties: { 'delta.checkpointInterval': '2' },
  });
  const cols = READING_COLUMNS;
  const a = readings(2, 0, 31);
  await t.write(arrowOf(a, cols));
  const t1 = await between();
  const b = readings(1, 5, 32);
  await t.write(arrowOf(b, cols), { sortBy: ['sensor_id', 'ts'] });
  const c = readings(1, 6, 33);
  await t.write(arrowOf(c, cols));
  assert.deepEqual(dataFiles(t.location).filter((p) => p.includes('/')), [], 'no partition directories');
  assert.ok(existsSync(path.join(logDir(t), '00000000000000000002.checkpoint.parquet')), 'checkpoint at v2');
  await checkState(t, '(b) unpartitioned', { columns: cols, rows: [...a, ...b, ...c], versions: range(0, 3), travel: { version: 1, time: t1, columns: cols, rows: a } });
});

// ---- special characters in a string partition column; 2. peers append to our table; 4. mistyped writes ----

const SITE_COLUMNS: PeerColumn[] = [
  { name: 'ts', type: 'timestamp' },
  { name: 'site', type: 'string' },
  { name: 'value', type: 'double' },
];
const SITES = ['a b', 'a:b', 'a%b', 'a/b', 'ü', 'a=b', null, 'a%253Ab', '100%', 'x#y?z'];
const siteRows = (base: bigint, sites: (string | null)[]): CanonicalRow[] =>
  sites.map((site, k) => ({ ts: String(base + BigInt(k) * 1_000_001n), site, value: k + 0.25 }));

test('special characters in a string partition column; Spark and delta-rs append; a mistyped write leaves nothing', async () => {
  const t = await DeltaTable.create(path.join(scratch.dir, 'sites'), {
    schema: struct([field('ts', 'timestamp'), field('site', 'string'), field('value', 'double')]),
    partitionColumns: ['site'],
  });
  const ours = siteRows(JAN1 + 1n, SITES);
  await t.write(arrowOf(ours, SITE_COLUMNS));
  const t1 = await between();
  const more = siteRows(JAN1 + 7n, ['a b', null, 'é/ü']);
  await t.write(arrowOf(more, SITE_COLUMNS));
  await checkState(t, 'special partition values', {
    columns: SITE_COLUMNS,
    rows: [...ours, ...more],
    versions: range(0, 2),
    travel: { version: 1, time: t1, columns: SITE_COLUMNS, rows: ours },
  });

  // 2. Spark, then delta-rs, append to our table, special partition values included; we read the union exactly.
  const bySpark = siteRows(JAN1 + 1_000_000_000_003n, ['a:b', 'a%b', 'spark=1', null, 'ü', 'a/b']);
  const dirsBefore = partitionDirs(t.location);
  assert.equal(await peers.sparkAppend(t.location, { schemaDdl: 'ts timestamp, site string, value double', rows: bySpark, partitionBy: ['site'] }), 3);
  // Spark escapes directory names as we do: its rows for values we wrote land in our directories.
  assert.deepEqual(partitionDirs(t.location), [...dirsBefore, 'site=spark%3D1'].sort());
  const byDeltaRs = siteRows(JAN1 + 2_000_000_000_005n, ['a/b', 'a b', 'rs:%', null]);
  assert.equal(await peers.deltaRsAppend(t.location, { schema: SITE_COLUMNS, rows: byDeltaRs, partitionBy: ['site'] }), 4);
  const union = [...ours, ...more, ...bySpark, ...byDeltaRs];
  await checkState(t, 'after Spark and delta-rs appends', {
    columns: SITE_COLUMNS,
    rows: union,
    versions: range(0, 4),
    travel: { version: 3, columns: SITE_COLUMNS, rows: [...ours, ...more, ...bySpark] },
  });
  const hist = await t.history();
  assert.match(hist[1].engineInfo ?? '', /Apache-Spark/, 'v3 was written by Spark');

  // 4. A write whose types do not match fails before any file is written, naming column, expected and actual.
  const before = allFiles(t.location);
  const badValue = new arrow.Table({
    ts: arrowColumn('timestamp', ['1', '2']),
    site: arrowColumn('string', ['a', 'b']),
    value: arrow.vectorFromArray(['x', 'y'], new arrow.Utf8()),
  });
  await assert.rejects(t.write(badValue), (e: Error) => e instanceof SchemaMismatchError && /'value' expects type double but the data has string/.test(e.message));
  const badTs = new arrow.Table({ ts: arrowColumn('long', ['1', '2']), site: arrowColumn('string', ['a', 'b']), value: arrowColumn('double', [1, 2]) });
  await assert.rejects(t.write(badTs), (e: Error) => e instanceof SchemaMismatchError && /'ts' expects type timestamp but the data has long/.test(e.message));
  const badSite = new arrow.Table({ ts: arrowColumn('timestamp', ['1', '2']), site: arrowColumn('integer', [1, 2]), value: arrowColumn('double', [1, 2]) });
  await assert.rejects(t.write(badSite, { mode: 'overwrite' }), (e: Error) => e instanceof SchemaMismatchError && /'site' expects type string but the data has integer/.test(e.message));
  assert.deepEqual(allFiles(t.location), before, 'no file written, no commit made');
  assert.equal(await t.version(), 4);
  assert.deepEqual((await peers.deltaRsRead(t.location)).rows, normalise(union, SITE_COLUMNS));
});

// ---- 3. Spark turns on deletion vectors, deletes and optimizes; we read every version, and refuse to write ----

test('deletion vectors from Spark: DELETE and OPTIMIZE read right at every version; our writer refuses', async () => {
  const t = await DeltaTable.create(path.join(scratch.dir, 'dv'), { schema: READING_SCHEMA });
  const cols = READING_COLUMNS;
  const parts = [readings(1, 0, 41, 4, 3), readings(1, 1, 42, 4, 3), readings(1, 2, 43, 4, 3)];
  for (const p of parts) await t.write(arrowOf(p, cols));
  const all = parts.flat();
  const sql = `delta.\`${t.location}\``;

  await peers.sparkSql(`ALTER TABLE ${sql} SET TBLPROPERTIES ('delta.enableDeletionVectors' = true)`);
  const protocol = commitActions(t, 4).find((a) => 'protocol' in a)?.protocol as { readerFeatures?: string[] } | undefined;
  assert.ok(protocol?.readerFeatures?.includes('deletionVectors'), 'v4 adds the deletionVectors reader feature');

  // Some rows of the first two files only.
  const doomed = (r: CanonicalRow): boolean => r.sensor_id === 'sensor-1' && (r.date as string) <= '2024-01-02';
  await peers.sparkSql(`DELETE FROM ${sql} WHERE sensor_id = 'sensor-1' AND date <= DATE'2024-01-02'`);
  const dvAdds = commitActions(t, 5).filter((a) => (a.add as { deletionVector?: unknown } | undefined)?.deletionVector);
  assert.equal(dvAdds.length, 2, 'DELETE marked rows in two files with deletion vectors');
  await peers.sparkSql(`OPTIMIZE ${sql}`);
  assert.equal(await peers.sparkVersion(t.location), 6);
  const remaining = all.filter((r) => !doomed(r));
  assert.ok(remaining.length > 0 && remaining.length < all.length);

  const expectAt: [number, CanonicalRow[]][] = [
    [3, all],
    [4, all],
    [5, remaining],
    [6, remaining],
  ];
  // delta-rs 1.6 refuses tables listing the deletionVectors reader feature (v4 on): there Spark alone is the oracle.
  for (const [version, rows] of expectAt) {
    await checkRead(t, `deletion vectors @ v${version}`, { columns: cols, rows }, { version }, { deltaRs: version < 4 });
  }
  await checkState(t, 'deletion vectors @ latest', { columns: cols, rows: remaining, versions: range(0, 6) }, { deltaRs: false });
  const hist = await t.history();
  assert.deepEqual(hist.slice(0, 3).map((h) => h.operation), ['OPTIMIZE', 'DELETE', 'SET TBLPROPERTIES']);

  const before = allFiles(t.location);
  await assert.rejects(
    t.write(arrowOf(readings(1, 9, 44), cols)),
    (e: Error) => e instanceof UnsupportedFeatureError && e.feature === 'deletionVectors' && /deletion vectors/i.test(e.message),
  );
  assert.deepEqual(allFiles(t.location), before, 'the refused write left nothing behind');
  assert.equal(await t.version(), 6);
});
