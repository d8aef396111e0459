// Background compaction during a live ingest: the real ingestor (WAL, micro-batch commits on its worker thread) takes
// a stream of requests into `readings` (today's partition, with late data for two closed days) while the compactor,
// woken by the ingestor's onCommit and its timer, compacts. Afterwards
// every reading is there exactly once for our reader and for Spark, the file count went down, and the OPTIMIZE
// commits carry only dataChange=false actions. Also: stop() waits for the optimize in progress, a table the policy
// cannot handle is an error in the run's result and not a crash, and two compactors racing lose no row.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { DeltaTable, shutdownWorkers } from '../../src/delta/table.js';
import { lakePaths, readingsSchema } from '../../src/backfill/lake.js';
import { startCompactor, type Compactor } from '../../src/ingest/compaction.js';
import { registerCompactionMetrics } from '../../src/ingest/compaction-metrics.js';
import { Registry } from 'prom-client';
import { openIngestor } from '../../src/ingest/ingestor.js';
import type { IngestRequest } from '../../src/ingest/contract.js';
import { readJsonItems } from '../../src/sources/jsonl.js';
import { tempDir } from '../helpers.js';
import { startPeers, type Peers } from '../interop/peers.js';

let peers: Peers;
let sparkReady: Promise<unknown>;
const scratch = tempDir('sensorlake-compaction-');

before(async () => {
  peers = await startPeers({ timeoutMs: 300_000 });
  sparkReady = peers.sparkStart(); // starts while the ingest runs
  sparkReady.catch(() => undefined);
});

after(async () => {
  await peers?.close();
  await shutdownWorkers();
  scratch.cleanup();
});

const NOW = Date.UTC(2024, 0, 3, 2); // Jan 1 and Jan 2 are closed (past midnight + 1 h), Jan 3 is open
const DAY_US = 86_400_000_000n;
const JAN1_US = BigInt(Date.UTC(2024, 0, 1)) * 1000n;

interface Reading {
  ts: bigint;
  sensor: string;
  value: number;
}

function readingsBatch(rows: Reading[]): arrow.Table {
  const n = rows.length;
  const ts = BigInt64Array.from(rows.map((r) => r.ts));
  const date = Int32Array.from(rows.map((r) => Number(r.ts / DAY_US)));
  return new arrow.Table({
    ts: arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: n, nullCount: 0, data: ts })),
    sensor_id: arrow.vectorFromArray(rows.map((r) => r.sensor), new arrow.Utf8()),
    value: arrow.makeVector(Float64Array.from(rows.map((r) => r.value))),
    value_text: arrow.vectorFromArray(new Array<string | null>(n).fill(null), new arrow.Utf8()),
    quality: arrow.makeVector(new BigInt64Array(n)),
    source: arrow.vectorFromArray(new Array<string>(n).fill('http'), new arrow.Utf8()),
    date: arrow.makeVector(arrow.makeData({ type: new arrow.DateDay(), length: n, nullCount: 0, data: date })),
  });
}

/**
 * Commit k of the stream: 40 sensors at second k of Jan 3; every 3rd commit also a late reading of Jan 2, every 7th
 * one of Jan 1. Keys are distinct across the stream.
 */
function commitRows(k: number): Reading[] {
  const rows: Reading[] = [];
  const at = (day: bigint, second: number): bigint => JAN1_US + day * DAY_US + BigInt(second) * 1_000_000n;
  for (let s = 0; s < 40; s++) rows.push({ ts: at(2n, k), sensor: `line1/s${s}`, value: k + s / 100 });
  if (k % 3 === 0) rows.push({ ts: at(1n, k), sensor: 'line2/late', value: k });
  if (k % 7 === 0) rows.push({ ts: at(0n, k), sensor: 'line3/later', value: -k });
  return rows;
}

/** A request's readings as the HTTP front end hands them to the core: decoded by the sources' JSON rules. */
function request(rows: Reading[], k: number): IngestRequest {
  const items = rows.map((r) => ({ ts: new Date(Number(r.ts / 1000n)).toISOString(), sensor_id: r.sensor, value: r.value }));
  return { chunks: readJsonItems(`request ${k}`, items), source: 'http' };
}

const key = (sensor: unknown, ts: unknown): string => `${String(sensor)}@${String(ts)}`;

/** Keys of the rows our reader sees, with how often each is seen. */
async function ourKeys(t: DeltaTable): Promise<Map<string, number>> {
  const table = await t.read({ columns: ['sensor_id', 'ts'] });
  const out = new Map<string, number>();
  for (const b of table.batches) {
    const ids = b.getChild('sensor_id')!;
    const ts = b.getChild('ts')!.data[0].values as BigInt64Array;
    for (let i = 0; i < b.numRows; i++) {
      const k = key(ids.get(i), ts[i]);
      out.set(k, (out.get(k) ?? 0) + 1);
    }
  }
  return out;
}

/** Every action of every OPTIMIZE commit in the log, with its version. */
function optimizeActions(tableDir: string): { version: number; actions: Record<string, { dataChange?: boolean }>[] }[] {
  const logDir = path.join(tableDir, '_delta_log');
  const out = [];
  for (const name of readdirSync(logDir).filter((n) => /^\d{20}\.json$/.test(n)).sort()) {
    const actions = readFileSync(path.join(logDir, name), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, { dataChange?: boolean; operation?: string }>);
    if (actions.some((a) => a.commitInfo?.operation === 'OPTIMIZE')) out.push({ version: Number(name.slice(0, 20)), actions });
  }
  return out;
}

/** Resolves once the compactor has committed an OPTIMIZE (a wait, not a timing check: it fails only after a minute). */
async function firstCompaction(compactor: Compactor): Promise<void> {
  for (let waited = 0; compactor.stats.optimizeCommits === 0; waited += 50) {
    if (waited > 60_000) throw new Error('no compaction after 35 small-file commits and a minute');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('compaction during a live ingest: every row once for us and Spark, fewer files, OPTIMIZE commits with dataChange=false', async () => {
  const lake = path.join(scratch.dir, 'live');
  const ingest = await openIngestor({ lake, commitMs: 10 });
  // No timer: only the ingestor's commits wake the compactor here (the timer has a test of its own below).
  const compactor = startCompactor(lake, { minSmallFiles: 4, openMaxSmallFiles: 12 }, { ingest, now: () => NOW, timer: false });
  const COMMITS = 45;
  const expected = new Set<string>();
  let accepted = 0;
  let filesWritten = 0;
  let warmUp: Promise<unknown> = Promise.resolve();
  try {
    for (let k = 0; k < COMMITS; k++) {
      // Spark's first Delta read is its slowest (JIT, class loading): have it happen on the other core meanwhile.
      if (k === 10) warmUp = sparkReady.then(() => peers.sparkRead(lakePaths(lake).readings, { columns: ['sensor_id'] })).catch(() => undefined);
      // The compactor runs on its own worker: on a loaded machine it may not have committed yet. Let it, so the
      // commits that follow are ingest after a compaction, whatever the scheduling.
      if (k === COMMITS - 10) await firstCompaction(compactor);
      const rows = commitRows(k);
      for (const r of rows) expected.add(key(r.sensor, r.ts));
      filesWritten += 1 + (k % 3 === 0 ? 1 : 0) + (k % 7 === 0 ? 1 : 0);
      accepted += (await ingest.submit(request(rows, k))).accepted;
      await ingest.flush(); // one micro-batch commit per request: a small file in each day it touches
    }
  } finally {
    await ingest.close();
  }
  const last = await compactor.runOnce(); // whatever the stream left due
  await compactor.stop();
  const table = await DeltaTable.open(lakePaths(lake).readings);

  assert.equal(accepted, expected.size);
  assert.equal(last.error, undefined);
  const stats = compactor.stats;
  assert.ok(stats.optimizeCommits >= 3, `optimize commits: ${stats.optimizeCommits}`);
  assert.equal(stats.errors, 0);
  assert.equal(stats.running, false);
  const history = await table.history();
  const ingestCommits = history.filter((h) => h.operation === 'WRITE').length;
  assert.ok(ingestCommits >= COMMITS, `${ingestCommits} ingest commits`);
  const firstOptimize = Math.min(...history.filter((h) => h.operation === 'OPTIMIZE').map((h) => h.version));
  assert.ok(history.some((h) => h.operation === 'WRITE' && h.version > firstOptimize), 'ingest went on committing after a compaction');

  // Every reading exactly once, for us ...
  const ours = await ourKeys(table);
  assert.equal(ours.size, expected.size);
  assert.deepEqual([...ours.values()].filter((n) => n !== 1), [], 'no reading twice');
  assert.deepEqual([...expected].filter((k) => !ours.has(k)), [], 'no reading missing');

  // ... and for Spark, which must read the compacted table.
  await sparkReady;
  await warmUp;
  const spark = await peers.sparkRead(table.location, { columns: ['sensor_id', 'ts'] });
  assert.equal(spark.rows.length, expected.size, 'Spark reads each reading once');
  assert.deepEqual(new Set(spark.rows.map((r) => key(r.sensor_id, r.ts))), expected);

  // Fewer files: each closed day and the open day are down to a few compacted files plus what came after.
  const snap = await table.snapshot();
  const perDay = new Map<string, number>();
  for (const f of snap.files()) perDay.set(f.partitionValues.date!, (perDay.get(f.partitionValues.date!) ?? 0) + 1);
  assert.ok(snap.files().length < filesWritten / 3, `${snap.files().length} live files of ${filesWritten} written`);
  assert.ok(perDay.get('2024-01-01')! < 4 && perDay.get('2024-01-02')! < 4, `closed days: ${JSON.stringify([...perDay])}`);
  assert.ok(perDay.get('2024-01-03')! < 12, `open day: ${perDay.get('2024-01-03')}`);

  // The OPTIMIZE commits: only dataChange=false adds and removes, as Spark's history shows them.
  const optimizes = optimizeActions(table.location);
  assert.equal(optimizes.length, stats.optimizeCommits);
  for (const o of optimizes) {
    const files = o.actions.filter((a) => a.add || a.remove);
    assert.ok(files.length >= 2, `version ${o.version} has adds and removes`);
    for (const a of files) assert.equal((a.add ?? a.remove)!.dataChange, false, `version ${o.version}`);
  }
  const sparkHistory = await peers.sparkHistory(table.location);
  const sparkOptimizes = sparkHistory.filter((h) => h.operation === 'OPTIMIZE').map((h) => h.version).sort((a, b) => a - b);
  assert.deepEqual(sparkOptimizes, optimizes.map((o) => o.version));
});

test('stop() waits for the optimize in progress, and skips the partitions after it; /metrics sees what it did', async () => {
  const t = await DeltaTable.create(path.join(scratch.dir, 'stop'), { schema: readingsSchema('date'), partitionColumns: ['date'] });
  for (let k = 0; k < 20; k++) await t.write(readingsBatch(commitRows(k * 3 * 7))); // three days, one file each
  const compactor = startCompactor(t, { minSmallFiles: 4, openMaxSmallFiles: 4 }, { now: () => NOW, timer: false });
  const registry = new Registry();
  registerCompactionMetrics(registry, compactor.stats);
  const run = compactor.runOnce();
  while (compactor.stats.compacting === null) await new Promise((r) => setImmediate(r));
  await compactor.stop();
  assert.equal(compactor.stats.running, false);
  const r = await run;
  assert.equal(r.partitions.length + r.skipped, 3, JSON.stringify(r));
  assert.equal(r.partitions.length, 1, 'the partition in progress, and no other');
  assert.equal(r.skipped, 2);
  for (const p of r.partitions) assert.ok(p.result?.version !== undefined && p.result.version !== null, JSON.stringify(p));
  assert.equal((await t.history(1))[0].operation, 'OPTIMIZE', 'the optimize in progress committed before stop() resolved');
  assert.equal((await t.read()).numRows, 20 * 42);
  const metrics = await registry.metrics();
  assert.match(metrics, /^sensorlake_compaction_commits_total 1$/m);
  assert.match(metrics, /^sensorlake_compaction_files_removed_total 20$/m);
  assert.match(metrics, /^sensorlake_compaction_optimize_seconds_count 1$/m);
  assert.match(metrics, /^sensorlake_compaction_running 0$/m);
});

test('the timer wakes the compactor without any commit (a day closing, a server restarted over due partitions)', async () => {
  const t = await DeltaTable.create(path.join(scratch.dir, 'timer'), { schema: readingsSchema('date'), partitionColumns: ['date'] });
  for (let k = 0; k < 5; k++) await t.write(readingsBatch(commitRows(k * 7 * 3)));
  const compactor = startCompactor(t, { minSmallFiles: 4, intervalMs: 20 }, { now: () => NOW, thread: 'main' });
  while (compactor.stats.optimizeCommits < 2) await new Promise((r) => setTimeout(r, 20));
  await compactor.stop();
  const perDay = new Map<string, number>();
  for (const f of (await t.snapshot()).files()) perDay.set(f.partitionValues.date!, (perDay.get(f.partitionValues.date!) ?? 0) + 1);
  // Jan 1 and 2 are closed with 5 small files each: compacted. Jan 3 is open, below 300: left alone.
  assert.deepEqual(Object.fromEntries(perDay), { '2024-01-01': 1, '2024-01-02': 1, '2024-01-03': 5 });
});

test('a table the policy cannot handle is an error in the run, logged, never thrown', async () => {
  const t = await DeltaTable.create(path.join(scratch.dir, 'unpartitioned'), { schema: readingsSchema('date'), partitionColumns: [] });
  await t.write(readingsBatch(commitRows(1)));
  const compactor = startCompactor(t, {}, { now: () => NOW, timer: false });
  const r = await compactor.runOnce();
  await compactor.stop();
  assert.match(r.error ?? '', /background compaction needs a table partitioned by 'date' or 'month' alone/);
  assert.equal(compactor.stats.errors, 1);
  assert.equal(r.partitions.length, 0);
});

test('two compactors racing on one table: at most one wins each partition, no row lost or doubled', async () => {
  const t = await DeltaTable.create(path.join(scratch.dir, 'race'), { schema: readingsSchema('date'), partitionColumns: ['date'] });
  const expected = new Set<string>();
  for (let k = 0; k < 12; k++) {
    const rows = commitRows(k * 21);
    for (const r of rows) expected.add(key(r.sensor, r.ts));
    await t.write(readingsBatch(rows));
  }
  const opts = { now: () => NOW, timer: false, thread: 'main' as const }; // the worker path runs in the tests above
  const a = startCompactor(t, { minSmallFiles: 4, openMaxSmallFiles: 4 }, opts);
  const b = startCompactor(await DeltaTable.open(t.location), { minSmallFiles: 4, openMaxSmallFiles: 4 }, opts);
  const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
  await Promise.all([a.stop(), b.stop()]);
  for (const p of [...ra.partitions, ...rb.partitions]) assert.ok(p.error === undefined || p.conflict, `only conflicts may fail: ${p.error}`);
  assert.equal(a.stats.errors + b.stats.errors, 0);
  const ours = await ourKeys(t);
  assert.equal(ours.size, expected.size);
  assert.deepEqual([...ours.values()].filter((n) => n !== 1), []);
  const perDay = new Map<string, number>();
  for (const f of (await t.snapshot()).files()) perDay.set(f.partitionValues.date!, (perDay.get(f.partitionValues.date!) ?? 0) + 1);
  assert.deepEqual([...perDay.values()], [1, 1, 1], 'each day compacted to one file, once');
});
