// What tombstones cost a long-lived table: compaction turns every small file into a remove action that checkpoints
// keep for delta.deletedFileRetentionDuration (7 days by default), about 600k of them after a week of 1-s commits.
// For each tombstone count, synthesises the log cheaply (JSON commits of `--live` add actions for files that stay
// and N add+remove pairs, with realistic paths and stats, no data files), then measures:
//   replay      a fresh DeltaTable.open from the JSON log (no checkpoint yet)
//   checkpoint  t.checkpoint() on a long-lived instance after one more commit (encode + write, plus whatever
//               snapshot work the engine does first), and again after the long ingest
//   fresh load  DeltaTable.open of a new instance: what every new reader (Spark job, CLI) pays, from the checkpoint
//   ingest      `--commits` one-row appends on a long-lived instance, each under a txn with autoCheckpoint: false
//               (ignored by engines without it, which then checkpoint every delta.checkpointInterval commits):
//               per-commit write ms, and the ms a second long-lived instance takes to catch up with each commit
//   ingestor    `--ingestor-commits` micro-batch commits through the live Ingestor (WAL, commit worker, its checkpoint
//               schedule): ms from flush() to the commit (the first one apart: it opens the table on the commit
//               worker), the checkpoints it wrote meanwhile, and close() (which writes the last checkpoint)
//   heap        V8 heap used with the two instances' snapshots loaded
//   copy        what a copy-on-write snapshot would pay per commit: copying its file and tombstone maps once
//
//   node dist/bench/ingest/tombstones.js [--counts 8000,50000,600000] [--live 8000] [--commits 1000]
//        [--ingestor-commits 1000] [--dir D] [--keep]
// Prints one table and one JSON line; asserts nothing.

import * as arrow from 'apache-arrow';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DeltaTable, shutdownWorkers } from '../../src/delta/table.js';
import { readingsSchema } from '../../src/backfill/lake.js';
import { openIngestor } from '../../src/ingest/ingestor.js';
import { ReadingsBuilder } from '../../src/sources/batch.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
const COUNTS = flag('counts', '8000,50000,600000').split(',').map(Number);
const LIVE = Number(flag('live', '8000'));
const COMMITS = Number(flag('commits', '1000'));
const INGESTOR_COMMITS = Number(flag('ingestor-commits', '1000'));
const BASE_DIR = flag('dir', os.tmpdir());
const DAY_MS = 86_400_000;
const START_DAY = Date.UTC(2024, 0, 1) / DAY_MS;
const PER_COMMIT = 20_000;
// A gc() for the heap figure without --expose-gc on the command line (worker threads refuse that flag).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function isoDay(d: number): string {
  return new Date(d * DAY_MS).toISOString().slice(0, 10);
}

/** An add action as the ingest writer makes it: one small file in a date partition, with full stats. */
function addAction(k: number, now: number): Record<string, unknown> {
  const day = START_DAY + (k % 365);
  const date = isoDay(day);
  const t0 = new Date(day * DAY_MS + (k % 86_400) * 1000).toISOString().replace('Z', '000Z');
  const stats = {
    numRecords: 1000,
    minValues: { ts: t0, sensor_id: 'plant1/line0/sensor-0', value: -99.98, quality: 0, source: 'http' },
    maxValues: { ts: t0, sensor_id: 'plant1/line7/sensor-999', value: 99.99, quality: 1073741824, source: 'mqtt' },
    nullCount: { ts: 0, sensor_id: 0, value: 3, value_text: 1000, quality: 0, source: 0 },
  };
  return {
    path: `date=${date}/part-00000-${randomUUID()}.c000.snappy.parquet`,
    partitionValues: { date },
    size: 14_000 + (k % 977),
    modificationTime: now,
    dataChange: true,
    stats: JSON.stringify(stats),
  };
}

/** The remove compaction writes for an add: dataChange false, extended metadata and stats kept. */
function removeAction(add: Record<string, unknown>, now: number): Record<string, unknown> {
  return { path: add.path, deletionTimestamp: now, dataChange: false, extendedFileMetadata: true, partitionValues: add.partitionValues, size: add.size, stats: add.stats };
}

/** Writes commits 1.. straight into _delta_log: `live` adds that stay, then `tombstones` adds and their removes. */
function synthesise(location: string, live: number, tombstones: number): number {
  const log = path.join(location, '_delta_log');
  mkdirSync(log, { recursive: true });
  const now = Date.now();
  let version = 0;
  const commit = (actions: Record<string, unknown>[], operation: string): void => {
    const info = { commitInfo: { timestamp: now, operation, operationParameters: {}, isBlindAppend: operation === 'WRITE', engineInfo: 'bench/synthetic' } };
    const body = [info, ...actions].map((a) => JSON.stringify(a)).join('\n') + '\n';
    writeFileSync(path.join(log, `${String(++version).padStart(20, '0')}.json`), body);
  };
  for (let k = 0; k < live; k += PER_COMMIT) {
    commit(Array.from({ length: Math.min(PER_COMMIT, live - k) }, (_, i) => ({ add: addAction(k + i, now) })), 'WRITE');
  }
  for (let k = 0; k < tombstones; k += PER_COMMIT) {
    const adds = Array.from({ length: Math.min(PER_COMMIT, tombstones - k) }, (_, i) => addAction(live + k + i, now));
    commit(adds.map((add) => ({ add })), 'WRITE');
    commit(adds.map((a) => ({ remove: removeAction(a, now) })), 'OPTIMIZE');
  }
  return version;
}

function oneRow(k: number): arrow.Table {
  const ts = BigInt(START_DAY * DAY_MS + k * 1000) * 1000n;
  const date = new Int32Array([START_DAY]);
  return new arrow.Table({
    ts: arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: 1, nullCount: 0, data: BigInt64Array.of(ts) })),
    sensor_id: arrow.vectorFromArray(['plant1/line1/sensor-00001'], new arrow.Utf8()),
    value: arrow.makeVector(Float64Array.of(k)),
    value_text: arrow.vectorFromArray([null], new arrow.Utf8()),
    quality: arrow.makeVector(new BigInt64Array(1)),
    source: arrow.vectorFromArray(['http'], new arrow.Utf8()),
    date: arrow.makeVector(arrow.makeData({ type: new arrow.DateDay(), length: 1, nullCount: 0, data: date })),
  });
}

/**
 * Micro-batch commits through the Ingestor on the table's lake. Readings are 400 days after the synthetic files and
 * from sensors outside their stats, so the dedup look-up of a new sensor prunes every file that has no data behind it.
 */
async function ingest(lake: string, commits: number): Promise<{ flushMs: number[]; checkpoints: number; closeMs: number }> {
  const ing = await openIngestor({ lake, serverId: 'bench', commitMs: 60_000 });
  const flushMs: number[] = [];
  const t0 = (START_DAY + 400) * DAY_MS * 1000;
  for (let k = 0; k < commits; k++) {
    const b = new ReadingsBuilder('bench', 'record', 100);
    for (let i = 0; i < 100; i++) b.append(`zz-bench-${i % 10}`, t0 + k * 1_000_000 + i, i, null, null, i);
    await ing.submit({ chunks: [b.flush(0)], source: 'http' });
    const [f] = await ms(() => ing.flush());
    flushMs.push(f);
  }
  const checkpoints = (ing.stats as { checkpoints?: number }).checkpoints ?? -1;
  const [closeMs] = await ms(() => ing.close());
  return { flushMs, checkpoints, closeMs };
}

async function ms<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await fn();
  return [performance.now() - t0, r];
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const out = [];
const loadAtStart = os.loadavg();
for (const n of COUNTS) {
  const dir = mkdtempSync(path.join(BASE_DIR, 'tombstones-'));
  const location = path.join(dir, 'readings');
  await DeltaTable.create(location, { schema: readingsSchema('date'), partitionColumns: ['date'] });
  const synthVersion = synthesise(location, LIVE, n);
  const [replayMs, a] = await ms(() => DeltaTable.open(location));
  const b = await DeltaTable.open(location);
  await a.checkpoint();
  // One ordinary commit, then the checkpoint a long-lived writer would write at that point.
  await a.write(oneRow(0), { autoCheckpoint: false, txn: { appId: 'bench', version: 0 } });
  const [checkpointMs] = await ms(() => a.checkpoint());
  const [freshLoadMs, fresh] = await ms(() => DeltaTable.open(location));
  const tombstones = (await fresh.snapshot()).tombstones().size;
  await b.snapshot();
  // What a copy-on-write snapshot would pay per commit instead of a layered map: copying both file maps once.
  const held = await b.snapshot();
  const [copyMs] = await ms(async () => [new Map(held.fileMap()), new Map(held.tombstones())]);
  gc();
  const heapBytes = process.memoryUsage().heapUsed;
  const writeMs: number[] = [];
  const advanceMs: number[] = [];
  const started = performance.now();
  for (let k = 1; k <= COMMITS; k++) {
    const [w] = await ms(() => a.write(oneRow(k), { autoCheckpoint: false, txn: { appId: 'bench', version: k } }));
    writeMs.push(w);
    const [adv] = await ms(() => b.snapshot());
    advanceMs.push(adv);
  }
  const ingestSeconds = (performance.now() - started) / 1000;
  const [checkpointAfterMs] = await ms(() => a.checkpoint());
  const version = (await a.snapshot()).version;
  const ig = INGESTOR_COMMITS > 0 ? await ingest(dir, INGESTOR_COMMITS) : null;
  const row = {
    tombstones,
    liveFiles: LIVE,
    synthVersion,
    replayMs,
    checkpointMs,
    freshLoadMs,
    heapMB: heapBytes / 2 ** 20,
    copyMs,
    commits: COMMITS,
    ingestSeconds,
    writeMsP50: pct(writeMs, 50),
    writeMsP99: pct(writeMs, 99),
    writeMsMax: writeMs.length > 0 ? Math.max(...writeMs) : Number.NaN,
    advanceMsP50: pct(advanceMs, 50),
    advanceMsP99: pct(advanceMs, 99),
    advanceMsMax: advanceMs.length > 0 ? Math.max(...advanceMs) : Number.NaN,
    checkpointAfterMs,
    finalVersion: version,
    ingestorCommits: INGESTOR_COMMITS,
    // The first commit also opens the table on the commit worker (a fresh load); the others advance it.
    ingestorFirstFlushMs: ig?.flushMs[0] ?? Number.NaN,
    ingestorFlushMsP50: ig ? pct(ig.flushMs.slice(1), 50) : Number.NaN,
    ingestorFlushMsP99: ig ? pct(ig.flushMs.slice(1), 99) : Number.NaN,
    ingestorFlushMsMax: ig && ig.flushMs.length > 1 ? Math.max(...ig.flushMs.slice(1)) : Number.NaN,
    ingestorCheckpoints: ig?.checkpoints ?? -1,
    ingestorCloseMs: ig?.closeMs ?? Number.NaN,
    loadavg: os.loadavg()[0],
  };
  out.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
  if (process.argv.includes('--keep')) process.stderr.write(`kept ${location}\n`);
  else rmSync(dir, { recursive: true, force: true });
}
const f = (x: number, w = 9): string => (Number.isFinite(x) ? x.toFixed(x < 10 ? 1 : 0) : '-').padStart(w);
console.log(`live files ${LIVE}; load average at start ${loadAtStart.map((x) => x.toFixed(1)).join(' ')}`);
console.log('tombstones  replay ms  ckpt ms  fresh load ms  heap MB  copy ms  commits  write p50/p99/max ms       advance p50/p99/max ms  ckpt after ms | ingestor commits  first ms  flush p50/p99/max ms  ckpts  close ms  load');
for (const r of out) {
  console.log(
    `${String(r.tombstones).padStart(10)} ${f(r.replayMs, 10)} ${f(r.checkpointMs, 8)} ${f(r.freshLoadMs, 14)} ${f(r.heapMB, 8)} ${f(r.copyMs, 8)} ${String(r.commits).padStart(8)}  ${f(r.writeMsP50, 7)}/${f(r.writeMsP99, 7)}/${f(r.writeMsMax, 7)}   ${f(r.advanceMsP50, 7)}/${f(r.advanceMsP99, 7)}/${f(r.advanceMsMax, 7)} ${f(r.checkpointAfterMs, 14)} | ${String(r.ingestorCommits).padStart(16)} ${f(r.ingestorFirstFlushMs, 9)}  ${f(r.ingestorFlushMsP50, 6)}/${f(r.ingestorFlushMsP99, 6)}/${f(r.ingestorFlushMsMax, 6)} ${String(r.ingestorCheckpoints).padStart(6)} ${f(r.ingestorCloseMs, 9)} ${r.loadavg.toFixed(1).padStart(5)}`,
  );
}
console.log(JSON.stringify({ bench: 'ingest-tombstones', liveFiles: LIVE, loadavgAtStart: loadAtStart, results: out }));
await shutdownWorkers();
