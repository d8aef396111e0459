// Structured Streaming mode: files landing in a folder are backfilled micro-batch by micro-batch (one file per batch)
// with the batch rules, and each batch commits under txn(query name, batch id). A batch replayed after a crash that
// lost its checkpoint commit changes nothing; and while the stream takes more files, our live HTTP ingest writes other
// sensors into the same lake: every row of both lands exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { backfill } from '../../src/backfill/run.js';
import { DeltaTable, shutdownWorkers } from '../../src/delta/table.js';
import { simulate } from '../../src/sim/simulate.js';
import { runSparkJob } from '../../src/spark/launcher.js';
import { tempDir } from '../helpers.js';
import { post, startServer, type Running } from '../ingest/http-helpers.js';
import { sparkReady, tableRows } from './helpers.js';

const scratch = tempDir('sensorlake-spark-stream-');
const landing = path.join(scratch.dir, 'landing');
const staged = path.join(scratch.dir, 'staged');
const lake = path.join(scratch.dir, 'lake'); // startServer(scratch.dir) serves <dir>/lake: the same lake
const checkpoint = path.join(scratch.dir, 'checkpoint');
const skip = sparkReady() ? false : 'Spark peers not installed (scripts/setup-peers.sh)';
let sensors: string;
const batches: Record<string, unknown>[] = [];

/** One simulated day of narrow CSV cut into `parts` files by line, each with the header. */
function cut(file: string, parts: number, prefix: string): string[] {
  const [header, ...rows] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const size = Math.ceil(rows.length / parts);
  const out: string[] = [];
  for (let p = 0; p < parts; p++) {
    const f = path.join(staged, `${prefix}-${p}.csv`);
    writeFileSync(f, [header, ...rows.slice(p * size, (p + 1) * size)].join('\n') + '\n');
    out.push(f);
  }
  return out;
}

/** Moves files into the landing folder whole (a rename), as writers must. */
function land(files: string[]): void {
  for (const f of files) writeFileSync(path.join(landing, path.basename(f)), readFileSync(f));
}

async function stream(): Promise<void> {
  const r = await runSparkJob(['--stream', '--landing', landing, '--lake', lake, '--checkpoint', checkpoint, '--format', 'csv', '--sensors', sensors, '--query-name', 'plant-a', '--max-files-per-trigger', '1'], {
    master: 'local[2]',
    onStreamBatch: (b) => batches.push(b),
  });
  assert.equal(r.code, 0, `the streaming job exits 0 (log: ${r.logFile})`);
  rmSync(r.workDir, { recursive: true, force: true });
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
  mkdirSync(staged, { recursive: true });
  const sim = await simulate({ out: path.join(scratch.dir, 'sim'), format: 'csv', sensors: 6, interval: '2m', from: '2024-06-01T00:00:00Z', to: '2024-06-03T00:00:00Z', seed: 91, faults: 'default', split: 'day' });
  sensors = sim.sensorsFile;
  const [day1, day2] = sim.files.map((f) => path.join(sim.dir, f.path));
  cut(day1, 2, 'a');
  cut(day2, 2, 'b');
});

after(async () => {
  await shutdownWorkers();
  scratch.cleanup();
});

const stagedFiles = (prefix: string): string[] => readdirSync(staged).filter((f) => f.startsWith(prefix)).sort().map((f) => path.join(staged, f));
const landedFiles = (): string[] => readdirSync(landing).sort().map((f) => path.join(landing, f));

test('files landing in the folder are backfilled one micro-batch each, as the batch engine backfills them', { skip }, async () => {
  land(stagedFiles('a-'));
  await stream();
  assert.deepEqual(batches.map((b) => [b.batch_id, b.files, b.committed]), [[0, 1, true], [1, 1, true]]);
  const want = await expected(landedFiles());
  assert.deepEqual(await tableRows(lake, 'readings'), want.readings);
  assert.deepEqual(await tableRows(lake, 'quarantine', ['quarantined_at', 'job_id']), want.quarantine);
});

test('a micro-batch replayed after its checkpoint commit was lost writes nothing twice (txn per batch id)', { skip }, async () => {
  const commits = path.join(checkpoint, 'commits');
  const last = readdirSync(commits).filter((f) => /^\d+$/.test(f)).sort((a, b) => Number(a) - Number(b)).at(-1)!;
  rmSync(path.join(commits, last));
  rmSync(path.join(commits, `.${last}.crc`), { force: true });
  const readings = await (await DeltaTable.open(path.join(lake, 'readings'))).version();
  const quarantine = await (await DeltaTable.open(path.join(lake, 'quarantine'))).version();
  batches.length = 0;
  await stream();
  assert.deepEqual(batches.map((b) => [b.batch_id, b.committed]), [[Number(last), false]], 'the lost batch ran again, and Delta skipped its commit');
  assert.equal(await (await DeltaTable.open(path.join(lake, 'readings'))).version(), readings);
  assert.equal(await (await DeltaTable.open(path.join(lake, 'quarantine'))).version(), quarantine);
  assert.deepEqual(await tableRows(lake, 'quarantine', ['quarantined_at', 'job_id']), (await expected(landedFiles())).quarantine);
});

test('the stream and our HTTP ingest write one lake at the same time: every row lands exactly once', { skip }, async () => {
  const server: Running = await startServer(scratch.dir, { commitMs: 50 });
  const sent: string[] = [];
  let stop = false;
  // Other sensors over HTTP, a batch every 100 ms while the stream takes the second day's files (at least 3 batches;
  // at most 1,200 or 10 minutes, so a stuck stream cannot leave this loop committing forever).
  const deadline = Date.now() + 600_000;
  const writer = (async () => {
    for (let k = 0; (!stop || k < 3) && k < 1200 && Date.now() < deadline; k++) {
      const items = Array.from({ length: 50 }, (_, i) => ({ ts: new Date(Date.UTC(2024, 5, 1) + (k * 50 + i) * 1000).toISOString(), sensor_id: `http/s${i % 5}`, value: k + i / 100 }));
      const r = await post(server, JSON.stringify(items), 'application/json');
      assert.ok(r.status < 300, `HTTP ${r.status}: ${r.text}`);
      for (const it of items) sent.push(`${it.sensor_id}@${it.ts}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    batches.length = 0;
    land(stagedFiles('b-'));
    await stream();
  } finally {
    stop = true;
    await writer;
    await server.ingest.flush();
    await server.close();
  }
  assert.equal(batches.length, 2);
  const rows = await tableRows(lake, 'readings');
  const keys = rows.map((r) => `${String(r.sensor_id)}@${String(r.ts)}`);
  assert.equal(new Set(keys).size, keys.length, 'no key twice');
  const http = rows.filter((r) => String(r.sensor_id).startsWith('http/'));
  assert.equal(http.length, sent.length, 'every HTTP reading once');
  const want = await expected(landedFiles());
  assert.deepEqual(rows.filter((r) => !String(r.sensor_id).startsWith('http/')), want.readings, 'every streamed reading once');
});
