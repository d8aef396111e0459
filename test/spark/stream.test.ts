// Structured Streaming mode: files landing in a folder are backfilled micro-batch by micro-batch (one file per batch)
// with the batch rules, each batch committing under txn(query name, batch id), while our live HTTP ingest writes other
// sensors into the same lake: every row of both writers lands exactly once. Then the stream restarts after a crash that
// lost its last checkpoint commit, through `sensorlake spark-stream`: the replayed batch changes nothing. Two streaming
// runs (spark-submits) in all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { backfill } from '../../src/backfill/run.js';
import { DeltaTable, shutdownWorkers } from '../../src/delta/table.js';
import { simulate } from '../../src/sim/simulate.js';
import { sparkStream, type StreamBatch } from '../../src/spark/launcher.js';
import { REPO_ROOT, tempDir } from '../helpers.js';
import { post, startServer, type Running } from '../ingest/http-helpers.js';
import { LOCAL_SPARK, SPARK_CONF_FLAGS, sparkReady, tableRows, txnCommits } from './helpers.js';

const scratch = tempDir('sensorlake-spark-stream-');
const landing = path.join(scratch.dir, 'landing');
const lake = path.join(scratch.dir, 'lake'); // startServer(scratch.dir) serves <dir>/lake: the same lake
const checkpoint = path.join(scratch.dir, 'checkpoint');
const skip = sparkReady() ? false : 'Spark peers not installed (scripts/setup-peers.sh)';
let sensors: string;
const batches: StreamBatch[] = [];

/** One simulated day of narrow CSV cut into `parts` files by line, each with the header, landed in the landing folder. */
function landCut(file: string, parts: number): void {
  const [header, ...rows] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const size = Math.ceil(rows.length / parts);
  for (let p = 0; p < parts; p++) {
    // Written beside the folder, then renamed in: a file lands whole, as writers must land them.
    const f = path.join(scratch.dir, `part-${p}.csv`);
    writeFileSync(f, [header, ...rows.slice(p * size, (p + 1) * size)].join('\n') + '\n');
    renameSync(f, path.join(landing, `part-${p}.csv`));
  }
}

const STREAM = { landing, lake, checkpoint, format: 'csv' as const, queryName: 'plant-a', maxFilesPerTrigger: 1 };

/** One streaming run (available-now: it takes what has landed, then stops); `onBatch` hears each micro-batch. */
async function stream(onBatch?: () => void): Promise<void> {
  const onEach = (b: StreamBatch): void => {
    batches.push(b);
    onBatch?.();
  };
  await sparkStream({ ...STREAM, sensors, onBatch: onEach }, LOCAL_SPARK);
}

/**
 * What the batch engine makes of the same files taken one job per file in landing order, as the stream takes them
 * (each micro-batch merges into what the earlier ones wrote): the expected readings and quarantine. Each file is named
 * by a glob so that its `source` is its name relative to the landing folder, as the stream names it.
 */
async function expected(files: string[]): Promise<{ readings: unknown[]; quarantine: unknown[] }> {
  const ref = path.join(scratch.dir, `ref-${files.length}`);
  rmSync(ref, { recursive: true, force: true });
  for (const f of files) await backfill({ source: `${f.slice(0, -1)}[${f.slice(-1)}]`, lake: ref, sensors });
  const q = ['quarantined_at', 'job_id'];
  return { readings: await tableRows(ref, 'readings'), quarantine: await tableRows(ref, 'quarantine', q) };
}

before(async () => {
  if (skip) return;
  mkdirSync(landing, { recursive: true });
  const sim = await simulate({ out: path.join(scratch.dir, 'sim'), format: 'csv', sensors: 6, interval: '2m', from: '2024-06-02T00:00:00Z', to: '2024-06-03T00:00:00Z', seed: 91, faults: 'default' });
  sensors = sim.sensorsFile;
  landCut(path.join(sim.dir, sim.files[0].path), 2);
});

after(async () => {
  await shutdownWorkers();
  scratch.cleanup();
});

const landedFiles = (): string[] => readdirSync(landing).sort().map((f) => path.join(landing, f));
const Q_DROP = ['quarantined_at', 'job_id'];

test('landed files are backfilled one micro-batch each while our HTTP ingest writes the same lake: every row lands exactly once', { skip }, async () => {
  // The ingest server creates the lake's tables: the stream writes into tables our engine made.
  const server: Running = await startServer(scratch.dir, { commitMs: 100 });
  const sent: string[] = [];
  let stop = false;
  // Other sensors over HTTP, a batch every 100 ms from the stream's first micro-batch on, for as long as it runs, so
  // its second batch commits while the ingest does (at least 3 posts; at most 1,200 or 10 minutes, so a stuck stream
  // cannot leave this loop committing forever). Before that the JVM starts: nothing to overlap with.
  const deadline = Date.now() + 600_000;
  let writer: Promise<void> | undefined;
  const write = async (): Promise<void> => {
    for (let k = 0; (!stop || k < 3) && k < 1200 && Date.now() < deadline; k++) {
      const items = Array.from({ length: 50 }, (_, i) => ({ ts: new Date(Date.UTC(2024, 5, 1) + (k * 50 + i) * 1000).toISOString(), sensor_id: `http/s${i % 5}`, value: k + i / 100 }));
      const r = await post(server, JSON.stringify(items), 'application/json');
      assert.ok(r.status < 300, `HTTP ${r.status}: ${r.text}`);
      for (const it of items) sent.push(`${it.sensor_id}@${it.ts}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const readingsBefore = await (await DeltaTable.open(path.join(lake, 'readings'))).version();
  try {
    await stream(() => (writer ??= write()));
  } finally {
    stop = true;
    await (writer ?? write());
    await server.ingest.flush();
    await server.close();
  }
  assert.deepEqual(batches.map((b) => [b.batch_id, b.files, b.committed]), [[0, 1, true], [1, 1, true]]);
  // At the same time, not one after the other: the ingest committed between the stream's two commits.
  const writers = txnCommits(path.join(lake, 'readings'), readingsBefore).map((c) => c.appIds.join(',') || '-');
  const [first, second] = [writers.indexOf('plant-a'), writers.lastIndexOf('plant-a')];
  assert.equal(writers.filter((id) => id === 'plant-a').length, 2, `the stream committed two batches: ${writers.join(' ')}`);
  assert.ok(writers.slice(first + 1, second).includes(server.ingest.serverId), `the ingest (${server.ingest.serverId}) committed between them: ${writers.join(' ')}`);
  const rows = await tableRows(lake, 'readings');
  const keys = rows.map((r) => `${String(r.sensor_id)}@${String(r.ts)}`);
  assert.equal(new Set(keys).size, keys.length, 'no key twice');
  const http = rows.filter((r) => String(r.sensor_id).startsWith('http/'));
  assert.equal(http.length, sent.length, 'every HTTP reading once');
  const want = await expected(landedFiles());
  assert.deepEqual(rows.filter((r) => !String(r.sensor_id).startsWith('http/')), want.readings, 'every streamed reading once, as the batch engine writes it');
  assert.deepEqual(await tableRows(lake, 'quarantine', Q_DROP), want.quarantine, 'every streamed reject once');
});

test('a micro-batch replayed after its checkpoint commit was lost writes nothing twice (txn per batch id)', { skip }, async () => {
  const commits = path.join(checkpoint, 'commits');
  const last = readdirSync(commits).filter((f) => /^\d+$/.test(f)).sort((a, b) => Number(a) - Number(b)).at(-1)!;
  rmSync(path.join(commits, last));
  rmSync(path.join(commits, `.${last}.crc`), { force: true });
  const before = { readings: await (await DeltaTable.open(path.join(lake, 'readings'))).version(), quarantine: await (await DeltaTable.open(path.join(lake, 'quarantine'))).version() };
  // This run goes through the CLI: `sensorlake spark-stream` prints each micro-batch as a JSON line.
  const cli = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'sensorlake.js'), 'spark-stream', '--master', 'local[2]', ...SPARK_CONF_FLAGS, '--landing', landing,
    '--lake', lake, '--checkpoint', checkpoint, '--format', 'csv', '--sensors', sensors, '--query-name', STREAM.queryName, '--max-files-per-trigger', '1', '--json'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  const replayed = cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as StreamBatch);
  assert.deepEqual(replayed.map((b) => [b.batch_id, b.committed, b.written]), [[Number(last), false, 0]], 'the lost batch ran again, and Delta skipped its commit');
  assert.equal(await (await DeltaTable.open(path.join(lake, 'readings'))).version(), before.readings);
  assert.equal(await (await DeltaTable.open(path.join(lake, 'quarantine'))).version(), before.quarantine);
  assert.deepEqual(await tableRows(lake, 'quarantine', Q_DROP), (await expected(landedFiles())).quarantine);
});
