// OPTIMIZE (compaction) against its contract: same rows, fewer files, sorted files, dataChange=false commit with
// Spark's commitInfo, partition predicates, idempotence, the conflict rules under races, refusals, and the CLI.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { DeltaTable, field, struct, shutdownWorkers } from '../../src/delta/table.js';
import type { Storage, FileMeta } from '../../src/delta/engine/storage.js';
import { LocalStorage } from '../../src/delta/engine/local-storage.js';
import { decodeParquet } from '../../src/delta/engine/parquet.js';
import { parseCommit, type Action, type Add } from '../../src/delta/kernel/actions.js';
import { checkConflict, type TransactionFootprint } from '../../src/delta/kernel/conflict.js';
import { bindPredicate, parsePredicate } from '../../src/delta/kernel/predicate.js';
import { planBins } from '../../src/delta/operations/optimize.js';
import { parseByteSize } from '../../src/cli/table.js';
import { ConflictError, InvalidArgumentError, UnsupportedFeatureError } from '../../src/errors.js';
import { tempDir, readingsTable, makeReadings, rowsOf, expectedRows, REPO_ROOT, type Reading } from '../helpers.js';

after(() => shutdownWorkers());

const schema = struct([
  field('ts', 'timestamp', false),
  field('sensor_id', 'string', false),
  field('value', 'double'),
  field('quality', 'integer', false),
  field('date', 'date', false),
]);
const DAYS = ['2024-01-01', '2024-01-02', '2024-01-03'];

/** Readings over 3 days, shuffled, written in `commits` appends: each append adds one small file per day. */
async function smallFilesTable(dir: string, commits = 30, seed = 7): Promise<{ t: DeltaTable; rows: Reading[] }> {
  const t = await DeltaTable.create(path.join(dir, 't'), { schema, partitionColumns: ['date'] });
  const rows = makeReadings({ days: 3, sensors: 12, perDay: 40, seed });
  let x = seed;
  const shuffled = rows.slice();
  for (let i = shuffled.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const j = x % (i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const per = Math.ceil(shuffled.length / commits);
  for (let c = 0; c < commits; c++) await t.write(readingsTable(shuffled.slice(c * per, (c + 1) * per)));
  return { t, rows };
}

function commitActions(t: DeltaTable, version: number): Action[] {
  const file = path.join(t.location, '_delta_log', `${String(version).padStart(20, '0')}.json`);
  return parseCommit(readFileSync(file, 'utf8'), file);
}

function parquetFilesOnDisk(location: string): string[] {
  return (readdirSync(location, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet') && !f.startsWith('_delta_log')).sort();
}

/** The (sensor_id, ts) pairs of one data file, in file order, read straight from its Parquet. */
function fileKeys(location: string, add: Add): [string, bigint][] {
  const t = decodeParquet(readFileSync(path.join(location, decodeURIComponent(add.path))), add.path);
  const ids = t.getChild('sensor_id')!.toArray() as string[];
  const ts = t.getChild('ts')!.data.flatMap((d) => Array.from(d.values as unknown as BigInt64Array));
  return ids.map((id, i) => [id, ts[i]]);
}

function assertSorted(keys: [string, bigint][], where: string): void {
  for (let i = 1; i < keys.length; i++) {
    const [a, b] = [keys[i - 1], keys[i]];
    assert.ok(a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]), `${where}: row ${i} (${b[0]}, ${b[1]}) comes after (${a[0]}, ${a[1]})`);
  }
}

test('compaction keeps exactly the rows, leaves one sorted file per partition, commits dataChange=false with Spark metrics', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { t, rows } = await smallFilesTable(dir);
    const before = await t.snapshot();
    assert.equal(before.version, 30);
    assert.equal(before.files().length, 90);
    const bytesBefore = before.files().reduce((s, f) => s + f.size, 0);
    const rowsBefore = rowsOf(await t.read());
    assert.deepEqual(rowsBefore, expectedRows(rows));

    const r = await t.optimize();
    assert.equal(r.version, 31);
    assert.equal(r.filesRemoved, 90);
    assert.equal(r.filesAdded, 3);
    assert.equal(r.partitionsOptimized, 3);
    assert.equal(r.numBatches, 3);
    assert.equal(r.bytesBefore, bytesBefore);
    assert.equal(r.rowsRewritten, rows.length);

    const after = await t.snapshot();
    assert.equal(after.version, 31);
    assert.equal(after.files().length, 3);
    assert.deepEqual(after.files().map((f) => f.partitionValues.date).sort(), DAYS);
    assert.equal(r.bytesAfter, after.files().reduce((s, f) => s + f.size, 0));
    assert.deepEqual(rowsOf(await t.read()), rowsBefore);
    assert.equal(after.numRecords(), rows.length);
    // Each file sorted by (sensor_id, ts), holding exactly its day's rows, with stats as the write path makes them.
    for (const f of after.files()) {
      const keys = fileKeys(t.location, f);
      assert.equal(keys.length, rows.filter((x) => new Date(Number(x.ts / 1000n)).toISOString().startsWith(f.partitionValues.date!)).length);
      assertSorted(keys, f.path);
      const stats = JSON.parse(f.stats!) as { numRecords: number; minValues: Record<string, unknown>; maxValues: Record<string, unknown> };
      assert.equal(stats.numRecords, keys.length);
      assert.equal(stats.minValues.sensor_id, keys[0][0]);
      assert.equal(stats.maxValues.sensor_id, keys[keys.length - 1][0]);
      assert.equal(f.dataChange, false);
    }

    const actions = commitActions(t, 31);
    const removes = actions.filter((a) => 'remove' in a);
    const adds = actions.filter((a) => 'add' in a);
    assert.equal(removes.length, 90);
    assert.equal(adds.length, 3);
    for (const a of actions) {
      if ('add' in a) assert.equal(a.add.dataChange, false);
      if ('remove' in a) assert.equal(a.remove.dataChange, false);
    }
    const info = actions.find((a) => 'commitInfo' in a) as { commitInfo: Record<string, unknown> };
    assert.equal(info.commitInfo.operation, 'OPTIMIZE');
    assert.equal(info.commitInfo.isBlindAppend, false);
    assert.equal(info.commitInfo.readVersion, 30);
    assert.deepEqual(info.commitInfo.operationParameters, { predicate: '[]', targetSize: String(128 * 1024 * 1024) });

    const [h] = await t.history(1);
    assert.equal(h.version, 31);
    assert.equal(h.operation, 'OPTIMIZE');
    assert.equal(h.operationMetrics.numRemovedFiles, '90');
    assert.equal(h.operationMetrics.numAddedFiles, '3');
    assert.equal(h.operationMetrics.numRemovedBytes, String(bytesBefore));
    assert.equal(h.operationMetrics.numAddedBytes, String(r.bytesAfter));

    // Time travel still reads the small files; a second run has nothing to do and commits nothing.
    assert.deepEqual(rowsOf(await t.read({ version: 30 })), rowsBefore);
    const again = await t.optimize();
    assert.equal(again.version, null);
    assert.equal(again.filesRemoved, 0);
    assert.equal(await t.version(), 31);
  } finally {
    cleanup();
  }
});

test('where compacts only the matching partition; a predicate on data columns is refused', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { t, rows } = await smallFilesTable(dir, 10);
    const before = (await t.snapshot()).files();
    const r = await t.optimize({ where: "date = '2024-01-02'" });
    assert.equal(r.filesRemoved, 10);
    assert.equal(r.filesAdded, 1);
    assert.equal(r.partitionsOptimized, 1);
    const after = (await t.snapshot()).files();
    assert.equal(after.length, 21);
    const untouched = before.filter((f) => f.partitionValues.date !== '2024-01-02').map((f) => f.path).sort();
    assert.deepEqual(after.filter((f) => f.partitionValues.date !== '2024-01-02').map((f) => f.path).sort(), untouched);
    assert.deepEqual(rowsOf(await t.read()), expectedRows(rows));
    const [h] = await t.history(1);
    const predicate = JSON.parse(String(h.operationParameters.predicate)) as string[];
    assert.equal(predicate.length, 1);
    assert.match(predicate[0], /date = (DATE )?'2024-01-02'/);
    await assert.rejects(t.optimize({ where: "sensor_id = 'sensor-1'" }), (e: Error) => e instanceof InvalidArgumentError && /partition columns only/.test(e.message));
    assert.equal(await t.version(), 11);
  } finally {
    cleanup();
  }
});

test('bins follow the target size, and files at or above minFileBytes are left alone', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { t, rows } = await smallFilesTable(dir, 30);
    const files = (await t.snapshot()).files();
    const day1 = files.filter((f) => f.partitionValues.date === '2024-01-01');
    const total = day1.reduce((s, f) => s + f.size, 0);
    // A target of a third of a day's bytes: about three bins per day, each one output file.
    const target = Math.ceil(total / 3);
    const r = await t.optimize({ targetFileBytes: target, minFileBytes: target });
    assert.ok(r.numBatches >= 9 && r.numBatches <= 12, `numBatches ${r.numBatches}`);
    assert.equal(r.filesAdded, r.numBatches);
    // A partition's last bin may hold one file, which stays as it is: at most one per partition.
    assert.ok(r.filesRemoved >= 87 && r.filesRemoved <= 90, `filesRemoved ${r.filesRemoved}`);
    const after = (await t.snapshot()).files();
    assert.equal(after.length, 90 - r.filesRemoved + r.filesAdded);
    assert.deepEqual(rowsOf(await t.read()), expectedRows(rows));
    for (const f of after) assert.ok(f.size < target * 1.5, `${f.path} is ${f.size} bytes for a target of ${target}`);
    // With a row cap, bins stop at that many rows: no new file holds more, and each is sorted.
    const r2 = await t.optimize({ maxRowsPerFile: 200, targetFileBytes: 1 << 30 });
    assert.ok(r2.version !== null);
    const cappedFiles = (await t.snapshot()).files();
    for (const f of cappedFiles) {
      const keys = fileKeys(t.location, f);
      assert.ok(keys.length <= 200, `${f.path} has ${keys.length} rows`);
      assertSorted(keys, f.path);
    }
    assert.ok(cappedFiles.length >= 9, `${cappedFiles.length} files`); // 480 rows a day: at least 3 files a day
    assert.deepEqual(rowsOf(await t.read()), expectedRows(rows));

    // The pure planner: big files stay, a lone small file is not rewritten, bins close at the target.
    const mk = (p: string, size: number, date = '2024-01-01', numRecords = size): Add => ({
      path: p,
      size,
      partitionValues: { date },
      modificationTime: 0,
      dataChange: true,
      stats: JSON.stringify({ numRecords }),
    });
    const bins = planBins([mk('a', 60), mk('big', 100), mk('b', 30), mk('c', 20), mk('d', 50), mk('lone', 10, '2024-01-02')], ['date'], 100, 75);
    assert.deepEqual(bins.map((b) => b.files.map((f) => f.path)), [['a', 'b'], ['c', 'd']]);
    // The row cap (the memory bound) closes bins too.
    const capped = planBins([mk('a', 10, 'd', 500), mk('b', 10, 'd', 400), mk('c', 10, 'd', 300), mk('e', 10, 'd', 200)], ['date'], 100, 75, 1000);
    assert.deepEqual(capped.map((b) => [b.files.map((f) => f.path), b.rows]), [[['a', 'b'], 900], [['c', 'e'], 500]]);
  } finally {
    cleanup();
  }
});

test('an unpartitioned table with null and non-ASCII sort keys: nulls first, strings in order, rows kept', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const t = await DeltaTable.create(path.join(dir, 'u'), { schema: struct([field('sensor_id', 'string'), field('ts', 'long'), field('v', 'double')]) });
    const ids = [null, 'b', 'a', 'ü', 'a', null, 'B', 'é-long-identifier-'.repeat(6)];
    const all: { sensor_id: string | null; ts: bigint; v: number }[] = [];
    for (let c = 0; c < 6; c++) {
      const part = ids.map((id, k) => ({ sensor_id: id, ts: BigInt(100 - c * 10 - k), v: c * 10 + k }));
      all.push(...part);
      await t.write(
        new arrow.Table({
          sensor_id: arrow.vectorFromArray(part.map((p) => p.sensor_id), new arrow.Utf8()),
          ts: arrow.vectorFromArray(part.map((p) => p.ts), new arrow.Int64()),
          v: arrow.vectorFromArray(part.map((p) => p.v), new arrow.Float64()),
        }),
      );
    }
    const before = rowsOf(await t.read());
    const r = await t.optimize({ sortBy: ['sensor_id', 'ts'] });
    assert.equal(r.filesRemoved, 6);
    assert.equal(r.filesAdded, 1);
    assert.deepEqual(rowsOf(await t.read()), before);
    const [f] = (await t.snapshot()).files();
    const file = decodeParquet(readFileSync(path.join(t.location, decodeURIComponent(f.path))), f.path);
    const got = [...file.getChild('sensor_id')!].map((x, i) => [x as string | null, file.getChild('ts')!.get(i) as bigint] as const);
    const want = all
      .map((x) => [x.sensor_id, x.ts] as const)
      .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] === null ? -1 : b[0] === null ? 1 : a[0] < b[0] ? -1 : 1));
    assert.deepEqual(got, want);
  } finally {
    cleanup();
  }
});

/** Local storage that runs `hook` once, just before the first attempt to create a commit file. */
class RacingStorage implements Storage {
  private readonly inner: LocalStorage;
  constructor(
    root: string,
    private hook: (() => Promise<void>) | null,
  ) {
    this.inner = new LocalStorage(root);
  }
  get root(): string {
    return this.inner.root;
  }
  list(dir: string, fromName?: string): Promise<FileMeta[]> {
    return this.inner.list(dir, fromName);
  }
  listRecursive(dir: string): Promise<FileMeta[]> {
    return this.inner.listRecursive(dir);
  }
  head(p: string): Promise<FileMeta | null> {
    return this.inner.head(p);
  }
  read(p: string): Promise<Uint8Array> {
    return this.inner.read(p);
  }
  readRange(p: string, offset: number, length: number): Promise<Uint8Array> {
    return this.inner.readRange(p, offset, length);
  }
  write(p: string, data: Uint8Array): Promise<FileMeta> {
    return this.inner.write(p, data);
  }
  async putIfAbsent(p: string, data: Uint8Array): Promise<boolean> {
    const hook = this.hook;
    if (hook && /^_delta_log\/\d{20}\.json$/.test(p)) {
      this.hook = null;
      await hook();
    }
    return this.inner.putIfAbsent(p, data);
  }
  delete(p: string): Promise<void> {
    return this.inner.delete(p);
  }
  exists(p: string): Promise<boolean> {
    return this.inner.exists(p);
  }
}

test('an append committed while optimize runs, into a partition it compacts, does not make it fail and survives', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { t, rows } = await smallFilesTable(dir, 10);
    const extra = makeReadings({ days: 1, sensors: 2, perDay: 5, seed: 99 }); // day 2024-01-01
    let appended: number | null = null;
    const racing = await DeltaTable.open(new RacingStorage(t.location, async () => {
      appended = (await t.write(readingsTable(extra))).version;
    }));
    const r = await racing.optimize();
    assert.equal(appended, 11);
    assert.equal(r.version, 12);
    assert.equal(r.filesRemoved, 30);
    const snap = await t.snapshot();
    // The appended file is live beside the three compacted ones; every row is there exactly once.
    assert.equal(snap.files().length, 4);
    assert.ok(snap.files().some((f) => f.dataChange));
    assert.deepEqual(rowsOf(await t.read()), expectedRows([...rows, ...extra]));
  } finally {
    cleanup();
  }
});

test('a concurrent replaceWhere or optimize removing a compacted file makes optimize fail and leaves the table as the winner left it', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { t, rows } = await smallFilesTable(dir, 10);
    const replacement = makeReadings({ days: 1, sensors: 1, perDay: 3, seed: 5 }); // day 2024-01-01
    const onDisk = parquetFilesOnDisk(t.location).length;
    const racing = await DeltaTable.open(new RacingStorage(t.location, async () => {
      await t.write(readingsTable(replacement), { mode: 'overwrite', replaceWhere: "date = '2024-01-01'" });
    }));
    await assert.rejects(racing.optimize(), (e: Error) => e instanceof ConflictError && /removed file .* which we read|also removed file/.test(e.message));
    assert.equal(await t.version(), 11);
    const [h] = await t.history(1);
    assert.equal(h.operation, 'WRITE');
    const kept = rows.filter((x) => !new Date(Number(x.ts / 1000n)).toISOString().startsWith('2024-01-01'));
    assert.deepEqual(rowsOf(await t.read()), expectedRows([...kept, ...replacement]));
    // Optimize's own files were never committed and are gone; only the replaceWhere's one file is new.
    assert.equal(parquetFilesOnDisk(t.location).length, onDisk + 1);

    // Two optimizes racing over the same files: the loser fails the same way.
    const racing2 = await DeltaTable.open(new RacingStorage(t.location, async () => {
      assert.equal((await t.optimize()).filesRemoved, 20);
    }));
    await assert.rejects(racing2.optimize(), ConflictError);
    assert.equal(await t.version(), 12);
    assert.equal((await t.snapshot()).files().length, 3);
  } finally {
    cleanup();
  }
});

test('conflict rules: a dataChange=false footprint ignores concurrent adds, not removes of what it read or metadata changes', () => {
  const pred = bindPredicate(parsePredicate("date = '2024-01-01'"), schema);
  const key = 'date=2024-01-01/a.parquet';
  const ours: TransactionFootprint = {
    table: 't',
    readVersion: 3,
    isBlindAppend: false,
    readPredicate: pred,
    readFiles: new Set([key]),
    removedFiles: new Set([key]),
    txnAppIds: new Set(),
    changesMetadata: false,
    dataChange: false,
  };
  const append: Action = { add: { path: 'date=2024-01-01/new.parquet', partitionValues: { date: '2024-01-01' }, size: 1, modificationTime: 0, dataChange: true } };
  assert.doesNotThrow(() => checkConflict(ours, [append], 4));
  // The same footprint changing data (a replaceWhere) must conflict with that append: the downgrade is the difference.
  assert.throws(() => checkConflict({ ...ours, dataChange: true }, [append], 4), /matches what we read/);
  assert.throws(() => checkConflict(ours, [{ remove: { path: key, dataChange: true } }], 4), /also removed file/);
  assert.throws(() => checkConflict(ours, [{ remove: { path: key, dataChange: false } }], 4), ConflictError);
  assert.doesNotThrow(() => checkConflict(ours, [{ remove: { path: 'date=2024-01-01/other.parquet', dataChange: true } }], 4));
  assert.throws(() => checkConflict(ours, [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }], 4), /protocol/);
});

test('optimize refuses a table that has deletion vectors, writing nothing', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { t } = await smallFilesTable(dir, 3);
    const snap = await t.snapshot();
    // Enable deletion vectors the way Spark's ALTER TABLE does: a protocol and a metaData action.
    const commit = [
      { commitInfo: { timestamp: Date.now(), operation: 'SET TBLPROPERTIES' } },
      { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'], writerFeatures: ['deletionVectors'] } },
      { metaData: { ...snap.metadata, configuration: { 'delta.enableDeletionVectors': 'true' } } },
    ];
    writeFileSync(path.join(t.location, '_delta_log', `${String(4).padStart(20, '0')}.json`), commit.map((a) => JSON.stringify(a)).join('\n') + '\n');
    const onDisk = parquetFilesOnDisk(t.location);
    await assert.rejects(t.optimize(), (e: Error) => e instanceof UnsupportedFeatureError && e.feature === 'deletionVectors');
    assert.equal(await t.version(), 4);
    assert.deepEqual(parquetFilesOnDisk(t.location), onDisk);
  } finally {
    cleanup();
  }
});

test('sensorlake table optimize: json and human output, exit codes', async () => {
  assert.equal(parseByteSize('128MB', 'x'), 128 * 2 ** 20);
  assert.equal(parseByteSize('1g', 'x'), 2 ** 30);
  assert.equal(parseByteSize('64KiB', 'x'), 65536);
  assert.equal(parseByteSize('1000', 'x'), 1000);
  assert.throws(() => parseByteSize('12 parsecs', '--target-size'), InvalidArgumentError);
  const { dir, cleanup } = tempDir();
  try {
    const { t } = await smallFilesTable(dir, 4);
    const bin = path.join(REPO_ROOT, 'bin', 'sensorlake.js');
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'table', 'optimize', t.location, ...args], { encoding: 'utf8' });
    const bad = run('--target-size', 'lots');
    assert.equal(bad.status, 2, bad.stderr);
    const json = run('--where', "date = '2024-01-01'", '--target-size', '64MB', '--json');
    assert.equal(json.status, 0, json.stderr);
    const r = JSON.parse(json.stdout) as Record<string, number | null>;
    assert.equal(r.version, 5);
    assert.equal(r.filesRemoved, 4);
    assert.equal(r.filesAdded, 1);
    assert.equal(r.filesBefore, 12);
    assert.equal(r.filesAfter, 9);
    const human = run();
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /optimized at version 6: 8 file\(s\), [\d.]+ MB -> 2 file\(s\)/);
    assert.match(human.stdout, /table files 9 -> 3/);
    const none = run();
    assert.equal(none.status, 0, none.stderr);
    assert.match(none.stdout, /nothing to compact/);
    assert.equal(await t.version(), 6);
  } finally {
    cleanup();
  }
});
