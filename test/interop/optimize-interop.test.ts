// Optimize interop: after our OPTIMIZE, real Spark and delta-rs read exactly the rows they read before, at the latest
// version and by time travel to the pre-optimize one; Spark's DESCRIBE HISTORY and DESCRIBE DETAIL show the OPTIMIZE,
// its metrics and the new file count; a Spark append racing our optimize into a compacted partition survives.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { DeltaTable, field, struct, shutdownWorkers } from '../../src/delta/table.js';
import type { Storage, FileMeta } from '../../src/delta/engine/storage.js';
import { LocalStorage } from '../../src/delta/engine/local-storage.js';
import { tempDir, readingsTable, makeReadings, dayOf, JAN1, US_PER_DAY, type Reading } from '../helpers.js';
import { startPeers, type Peers, type PeerColumn, type ReadOptions } from './peers.js';
import { canonicalRows, sortRows, type CanonicalRow } from './canonical.js';

let peers: Peers;
const scratch = tempDir('sensorlake-optimize-interop-');

before(async () => {
  peers = await startPeers({ timeoutMs: 300_000 });
  await peers.sparkStart();
});

after(async () => {
  await peers?.close();
  await shutdownWorkers();
  scratch.cleanup();
});

const COLUMNS: PeerColumn[] = [
  { name: 'ts', type: 'timestamp' },
  { name: 'sensor_id', type: 'string' },
  { name: 'value', type: 'double' },
  { name: 'quality', type: 'integer' },
  { name: 'date', type: 'date' },
];
const TYPES = Object.fromEntries(COLUMNS.map((c) => [c.name, c.type]));
const SCHEMA = struct([
  field('ts', 'timestamp', false),
  field('sensor_id', 'string', false),
  field('value', 'double'),
  field('quality', 'integer', false),
  field('date', 'date', false),
]);
const isoDay = (days: number): string => new Date(days * 86_400_000).toISOString().slice(0, 10);
const canon = (rows: Reading[]): CanonicalRow[] =>
  sortRows(rows.map((r) => ({ ts: String(r.ts), sensor_id: r.sensor_id, value: r.value, quality: r.quality, date: isoDay(dayOf(r.ts)) })));
const delta = (p: string): string => `delta.\`${p}\``;

/** Ours, Spark's and delta-rs's reads at `at` all equal `want`. */
async function checkRead(t: DeltaTable, what: string, want: CanonicalRow[], at: ReadOptions = {}): Promise<void> {
  const [spark, deltaRs, ours] = await Promise.all([peers.sparkRead(t.location, at), peers.deltaRsRead(t.location, at), t.read(at)]);
  assert.deepEqual(sortRows(canonicalRows(ours, TYPES)), want, `${what}: our rows`);
  assert.deepEqual(spark, { schema: COLUMNS, rows: want }, `${what}: Spark`);
  assert.deepEqual(deltaRs, { schema: COLUMNS, rows: want }, `${what}: delta-rs`);
}

/** A table of small files: `commits` appends of shuffled readings over 3 days, one small file per day each. */
async function smallFiles(name: string, commits: number): Promise<{ t: DeltaTable; rows: Reading[] }> {
  const t = await DeltaTable.create(path.join(scratch.dir, name), { schema: SCHEMA, partitionColumns: ['date'] });
  const rows = makeReadings({ days: 3, sensors: 8, perDay: 30, seed: 11 });
  const shuffled = rows.slice();
  let x = 11;
  for (let i = shuffled.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const j = x % (i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const per = Math.ceil(shuffled.length / commits);
  for (let c = 0; c < commits; c++) await t.write(readingsTable(shuffled.slice(c * per, (c + 1) * per)));
  return { t, rows };
}

test('Spark and delta-rs read the same rows after our OPTIMIZE, and before it by time travel; Spark history shows it', async () => {
  const { t, rows } = await smallFiles('compacted', 12);
  const want = canon(rows);
  assert.equal(await t.version(), 12);
  assert.equal((await t.snapshot()).files().length, 36);
  await checkRead(t, 'before optimize', want);

  const r = await t.optimize();
  assert.equal(r.version, 13);
  assert.equal(r.filesRemoved, 36);
  assert.equal(r.filesAdded, 3);
  await checkRead(t, 'after optimize', want);
  await checkRead(t, 'versionAsOf 12', want, { version: 12 });

  const [sparkHist, rsHist] = await Promise.all([peers.sparkHistory(t.location), peers.deltaRsHistory(t.location)]);
  assert.deepEqual(sparkHist.map((x) => x.version), Array.from({ length: 14 }, (_, v) => v));
  assert.deepEqual([sparkHist.at(-1)?.operation, sparkHist.at(-2)?.operation], ['OPTIMIZE', 'WRITE']);
  assert.deepEqual([rsHist.at(-1)?.version, rsHist.at(-1)?.operation], [13, 'OPTIMIZE']);

  const [h] = await peers.sparkSql(`DESCRIBE HISTORY ${delta(t.location)} LIMIT 1`);
  assert.equal(h.version, '13');
  assert.equal(h.operation, 'OPTIMIZE');
  assert.equal(h.isBlindAppend, false);
  const metrics = Object.fromEntries(h.operationMetrics as [string, string][]);
  assert.equal(metrics.numRemovedFiles, '36');
  assert.equal(metrics.numAddedFiles, '3');
  assert.equal(metrics.numRemovedBytes, String(r.bytesBefore));
  assert.equal(metrics.numAddedBytes, String(r.bytesAfter));
  const params = Object.fromEntries(h.operationParameters as [string, string][]);
  assert.equal(params.predicate, '[]');

  const [detail] = await peers.sparkSql(`DESCRIBE DETAIL ${delta(t.location)}`);
  assert.equal(detail.numFiles, '3');
  assert.equal(detail.sizeInBytes, String(r.bytesAfter));

  // A partition-restricted second pass after more small appends: only that day changes, every engine agrees.
  const more = makeReadings({ days: 1, sensors: 3, perDay: 4, seed: 21, startUs: JAN1 + US_PER_DAY });
  await t.write(readingsTable(more.slice(0, 6)));
  await t.write(readingsTable(more.slice(6)));
  const r2 = await t.optimize({ where: "date = '2024-01-02'" });
  assert.equal(r2.version, 16);
  assert.equal(r2.filesRemoved, 3);
  assert.equal(r2.filesAdded, 1);
  await checkRead(t, 'after a partition optimize', canon([...rows, ...more]));
  await checkRead(t, 'versionAsOf 13', want, { version: 13 });
  const [h2] = await peers.sparkSql(`DESCRIBE HISTORY ${delta(t.location)} LIMIT 1`);
  assert.equal(h2.operation, 'OPTIMIZE');
  assert.match(String(Object.fromEntries(h2.operationParameters as [string, string][]).predicate), /date = (DATE )?'2024-01-02'/);
});

/** Local storage that runs `hook` once, just before the first attempt to create a commit file. */
function racing(root: string, hook: () => Promise<void>): Storage {
  const inner = new LocalStorage(root);
  let pending: (() => Promise<void>) | null = hook;
  return {
    root: inner.root,
    list: (dir: string, from?: string): Promise<FileMeta[]> => inner.list(dir, from),
    listRecursive: (dir: string) => inner.listRecursive(dir),
    head: (p: string) => inner.head(p),
    read: (p: string) => inner.read(p),
    readRange: (p: string, o: number, n: number) => inner.readRange(p, o, n),
    write: (p: string, d: Uint8Array) => inner.write(p, d),
    delete: (p: string) => inner.delete(p),
    exists: (p: string) => inner.exists(p),
    async putIfAbsent(p: string, d: Uint8Array): Promise<boolean> {
      const h = pending;
      if (h && /^_delta_log\/\d{20}\.json$/.test(p)) {
        pending = null;
        await h();
      }
      return inner.putIfAbsent(p, d);
    },
  };
}

test('a Spark append racing our OPTIMIZE into a compacted partition survives, and every engine reads it', async () => {
  const { t, rows } = await smallFiles('raced', 6);
  const extra = makeReadings({ days: 1, sensors: 2, perDay: 3, seed: 31 }); // day 2024-01-01
  const sparkRows = canon(extra);
  let sparkVersion: number | null = null;
  const handle = await DeltaTable.open(
    racing(t.location, async () => {
      sparkVersion = await peers.sparkAppend(t.location, {
        schemaDdl: 'ts timestamp, sensor_id string, value double, quality int, date date',
        rows: sparkRows,
        partitionBy: ['date'],
      });
    }),
  );
  const r = await handle.optimize();
  assert.equal(sparkVersion, 7);
  assert.equal(r.version, 8);
  assert.equal(r.filesRemoved, 18);
  const snap = await t.snapshot();
  assert.equal(snap.files().length, 3 + snap.files().filter((f) => f.dataChange).length);
  assert.ok(snap.files().some((f) => f.dataChange), "Spark's file is still live");
  await checkRead(t, 'after a raced optimize', canon([...rows, ...extra]));
  const hist = await peers.sparkHistory(t.location);
  assert.deepEqual(hist.slice(-2).map((x) => x.operation), ['WRITE', 'OPTIMIZE']);
});
