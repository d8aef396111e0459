// Checkpoints of live ingest on the ingestor's schedule: micro-batch commits never write one (not even on
// delta.checkpointInterval), the schedule writes one after N commits, after a time, within its share of a core, and at
// close; the tables stay readable by us and by delta-rs from those checkpoints.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeltaTable } from '../../src/delta/table.js';
import { openIngestor, type Ingestor } from '../../src/ingest/ingestor.js';
import { CheckpointScheduler, type CheckpointSchedule } from '../../src/ingest/checkpoints.js';
import { lakePaths } from '../../src/backfill/lake.js';
import { canonicalRows } from '../interop/canonical.js';
import { startPeers, type Peers } from '../interop/peers.js';
import { tempDir } from '../helpers.js';
import { request, series } from './chunks.js';

const T0 = Date.UTC(2025, 2, 1, 12, 0, 0) * 1000;
const TYPES = { ts: 'timestamp', sensor_id: 'string', value: 'double', value_text: 'string', quality: 'long', source: 'string', date: 'date' };
const scratch = tempDir('ingest-checkpoints-');
after(() => scratch.cleanup());

/** Versions of the checkpoints in a table's log. */
function checkpointVersions(table: string): number[] {
  return readdirSync(path.join(table, '_delta_log'))
    .filter((f) => f.endsWith('.checkpoint.parquet'))
    .map((f) => Number(f.slice(0, 20)))
    .sort((a, b) => a - b);
}

let step = 0;
/** One micro-batch commit per step, of new readings: submit, then flush. */
async function commitSteps(ing: Ingestor, steps: number): Promise<void> {
  for (let k = 0; k < steps; k++) {
    await ing.submit(request(series(T0 + ++step * 60_000_000, 50, 5)));
    await ing.flush();
  }
}

test('micro-batch commits write no checkpoint, not even at delta.checkpointInterval; close leaves one at the last version', async () => {
  const lake = path.join(scratch.dir, 'quiet');
  const ing = await openIngestor({ lake, serverId: 'cp', commitMs: 60_000, checkpoints: { commits: 1_000_000, ms: 1e12 } });
  try {
    await commitSteps(ing, 12);
    assert.equal(ing.stats.commits, 12);
    assert.deepEqual(checkpointVersions(lakePaths(lake).readings), [], 'the engine checkpoint at version 10 was skipped');
  } finally {
    await ing.close();
  }
  const readings = lakePaths(lake).readings;
  const t = await DeltaTable.open(readings);
  const version = await t.version();
  assert.equal(version, 12);
  assert.deepEqual(checkpointVersions(readings), [12]);
  assert.equal(JSON.parse(readFileSync(path.join(readings, '_delta_log', '_last_checkpoint'), 'utf8')).version, 12);
  assert.equal(ing.stats.checkpoints, 1);
  assert.equal((await t.read()).numRows, 12 * 50);
});

test('every N commits a checkpoint on the checkpoint thread; we and delta-rs read the table from it', async () => {
  const lake = path.join(scratch.dir, 'busy');
  const readings = lakePaths(lake).readings;
  const ing = await openIngestor({ lake, serverId: 'cp', commitMs: 60_000, checkpoints: { commits: 3, maxShare: 1 } });
  try {
    await commitSteps(ing, 2);
    assert.equal(ing.stats.checkpoints, 0);
    await commitSteps(ing, 1);
    // Due at the third commit; it runs on its own thread, so the commit did not wait for it.
    await until(() => ing.stats.checkpoints === 1, 'the first scheduled checkpoint');
    assert.deepEqual(checkpointVersions(readings), [3]);
    await commitSteps(ing, 7);
  } finally {
    await ing.close();
  }
  // Later ones are of whatever version is latest when they start (one at a time); the last is written at close.
  const versions = checkpointVersions(readings);
  assert.equal(versions[0], 3);
  assert.equal(versions[versions.length - 1], 10);
  assert.ok(ing.stats.checkpoints >= versions.length && versions.length >= 2, `checkpoints at ${versions.join(', ')}`);
  const t = await DeltaTable.open(readings);
  const ours = canonicalRows(await t.read(), TYPES);
  assert.equal(ours.length, 10 * 50);
  let peers: Peers | null = null;
  try {
    peers = await startPeers();
    const rs = await peers.deltaRsRead(readings);
    assert.deepEqual(rs.rows, ours, 'delta-rs rows = our rows');
  } finally {
    await peers?.close();
  }
});

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`waited 30 s for ${what}`);
}

/** A scheduler on a clock the test moves, whose checkpoints take `took` ms of that clock and can be made to fail. */
function harness(schedule: Partial<CheckpointSchedule>) {
  const h = { clock: 0, took: 10, fail: false, runs: [] as { table: string; at: number }[] };
  const scheduler = new CheckpointScheduler(
    { commits: 3, ms: 1000, maxShare: 0.5, ...schedule },
    async (table) => {
      h.runs.push({ table, at: h.clock });
      await new Promise((r) => setImmediate(r));
      h.clock += h.took;
      if (h.fail) throw new Error('disk full');
      return h.runs.length;
    },
    () => h.clock,
  );
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 5));
  return { h, scheduler, settle };
}

test('the schedule: N commits or a time since the last checkpoint, one at a time per table, within its share of a core, failures retried', async () => {
  const { h, scheduler, settle } = harness({});
  scheduler.committed('r');
  scheduler.committed('r');
  scheduler.committed('q');
  assert.equal(h.runs.length, 0);
  scheduler.committed('r'); // third commit of r
  assert.deepEqual(h.runs, [{ table: 'r', at: 0 }]);
  scheduler.committed('r'); // counted while running, starts nothing
  await settle();
  assert.equal(h.runs.length, 1);
  // Two more make three since the last start; the last took 10 ms, so at a half share the next may start at 20 ms.
  h.clock = 15;
  scheduler.committed('r');
  scheduler.committed('r');
  assert.equal(h.runs.length, 1, 'not rested yet');
  h.clock = 20;
  scheduler.committed('r');
  assert.deepEqual(h.runs[1], { table: 'r', at: 20 });
  await settle();
  // A single commit long after the last checkpoint is enough.
  h.clock = 2000;
  scheduler.committed('r');
  assert.deepEqual(h.runs[2], { table: 'r', at: 2000 });
  await settle();
  // q has had one commit, 2000 ms ago: its next commit is due by time.
  scheduler.committed('q');
  assert.deepEqual(h.runs[3], { table: 'q', at: h.clock });
  await settle();
  // A failure keeps the commits pending: the next commit retries.
  h.fail = true;
  h.clock = 5000;
  scheduler.committed('r');
  await settle();
  assert.equal(h.runs.length, 5);
  assert.equal(scheduler.written, 4);
  h.fail = false;
  h.clock = 5100;
  scheduler.committed('r');
  assert.equal(h.runs.length, 6);
  await settle();
  assert.equal(scheduler.written, 5);
  // Close: a checkpoint for each table with commits since its last (r has one, not due yet; q none), then nothing starts.
  scheduler.committed('r');
  assert.equal(h.runs.length, 6);
  await scheduler.close();
  assert.deepEqual(h.runs.slice(6).map((r) => r.table), ['r']);
  for (let k = 0; k < 5; k++) scheduler.committed('r');
  await settle();
  assert.equal(h.runs.length, 7);
});
