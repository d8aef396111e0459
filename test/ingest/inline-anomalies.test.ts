// Inline anomaly flagging beside the real ingestor: a spike submitted live becomes exactly one row of `anomalies`
// once its commit is judged; restarts neither duplicate it nor miss commits made while the component was down.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { DeltaTable } from '../../src/delta/table.js';
import { openIngestor, type Ingestor } from '../../src/ingest/ingestor.js';
import { INLINE_ANOMALIES_METRIC, startInlineAnomalies, type InlineAnomaliesOptions } from '../../src/ingest/inline-anomalies.js';
import { qualityTablePath } from '../../src/quality/tables.js';
import { clean, MINUTE_US, T0 } from '../quality/anomaly-helpers.js';
import { tempDir } from '../helpers.js';
import { request, type TestReading } from './chunks.js';

const SERVER = 'inline-test';
const APP_ID = `${SERVER}:anomalies`;
const scratch = tempDir('inline-anomalies-');
after(() => scratch.cleanup());
let lakes = 0;
const newLake = (): string => path.join(scratch.dir, `lake-${++lakes}`);

const ts = (i: number): number => T0 + i * MINUTE_US;

/** Readings i in [from, to) of two steady sensors (the second offset by 10); `spikes` replaces the first's value. */
function readings(from: number, to: number, spikes: Record<number, number> = {}): TestReading[] {
  const v = clean(to);
  const out: TestReading[] = [];
  for (let i = from; i < to; i++) {
    out.push({ sensor: 'line1/press/temp', ts: ts(i), value: spikes[i] ?? v[i] });
    out.push({ sensor: 'line1/press/flow', ts: ts(i), value: v[i] + 10 });
  }
  return out;
}

/** Fails the test instead of hanging it: a bound on waiting, not an assertion on speed. */
async function bounded<T>(p: Promise<T>, what: string, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

interface Row {
  sensor_id: string | null;
  ts_start: number;
  ts_end: number;
  detector: string;
  readings_version: number;
  score: number;
}

async function anomalies(lake: string): Promise<{ rows: Row[]; txn: number | undefined }> {
  const t = await DeltaTable.open(qualityTablePath(lake, 'anomalies'));
  const table = await t.read();
  // Timestamps from the raw column (µs): Arrow's row view turns them into milliseconds.
  const us = (name: string, i: number): number => Number((table.getChild(name)!.toArray() as BigInt64Array)[i]);
  const rows = table.toArray().map((r, i) => {
    const o = r.toJSON() as Record<string, unknown>;
    return {
      sensor_id: o.sensor_id as string | null,
      ts_start: us('ts_start', i),
      ts_end: us('ts_end', i),
      detector: String(o.detector),
      readings_version: Number(o.readings_version),
      score: Number(o.score),
    };
  });
  return { rows, txn: await t.txnVersion(APP_ID) };
}

/** Submits, flushes, and returns the readings version of the commit. */
async function commit(ing: Ingestor, rows: TestReading[]): Promise<number> {
  let version = -1;
  ing.onCommit((c) => (version = Math.max(version, c.version)));
  await ing.submit(request(rows));
  await ing.flush();
  assert.ok(version >= 0, 'the flush committed readings');
  return version;
}

const open = (lake: string): Promise<Ingestor> => openIngestor({ lake, serverId: SERVER, commitMs: 60_000 });
const inline = (lake: string, ing: Ingestor, extra: Partial<InlineAnomaliesOptions> = {}) => startInlineAnomalies({ lake, ingest: ing, ...extra });

test('a live spike becomes exactly one finding at its ts, counted; a restart does not write it again', async () => {
  const lake = newLake();
  const registry = new Registry();
  let ing = await open(lake);
  let det = await inline(lake, ing, { registry });
  let version: number;
  try {
    version = await commit(ing, readings(0, 300, { 250: 54 }));
    const committedAt = Date.now();
    await bounded(det.whenJudged(version), `judging readings version ${version}`);
    // Measured for the record (printed, not asserted): how long after the commit the finding was in the lake.
    process.stdout.write(`# inline anomalies: finding written ${Date.now() - committedAt} ms after the commit\n`);
    const { rows, txn } = await anomalies(lake);
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.deepEqual(
      [rows[0].sensor_id, rows[0].ts_start, rows[0].ts_end, rows[0].detector, rows[0].readings_version],
      ['line1/press/temp', ts(250), ts(250), 'zscore', version],
    );
    assert.ok(rows[0].score >= 0.6 && rows[0].score < 1);
    assert.equal(txn, version);
    assert.deepEqual([det.stats.commits, det.stats.readings, det.stats.findings, det.stats.late], [1, 600, 1, 0]);
    const metric = (await registry.getSingleMetric(INLINE_ANOMALIES_METRIC)!.get()).values;
    assert.deepEqual(metric.map((m) => [m.labels.detector, m.value]), [['zscore', 1]]);
  } finally {
    await det.stop();
    await ing.close();
  }

  ing = await open(lake);
  det = await inline(lake, ing, { registry });
  try {
    await bounded(det.whenJudged(version), 'judging after the restart');
    assert.equal(det.stats.recordedVersion, version);
    assert.equal(det.stats.commits, 0, 'nothing after the recorded version to judge again');
    const { rows, txn } = await anomalies(lake);
    assert.equal(rows.length, 1);
    assert.equal(txn, version);
  } finally {
    await det.stop();
    await ing.close();
  }
});

test('commits made while it was stopped are judged at the next start, with detectors warmed on the ones before', async () => {
  const lake = newLake();
  const ing = await open(lake);
  try {
    // markEveryMs 0: every round records its txn, so the restart knows v1 was judged (it had no findings).
    let det = await inline(lake, ing, { markEveryMs: 0 });
    const v1 = await commit(ing, readings(0, 300));
    await bounded(det.whenJudged(v1), `judging version ${v1}`);
    await det.stop();
    let state = await anomalies(lake);
    assert.deepEqual([state.rows.length, state.txn], [0, v1]);

    // Fewer readings than the detectors' warm-up: only the warm-up on v1 lets this spike be seen.
    const v2 = await commit(ing, readings(300, 340, { 320: 54 }));
    det = await inline(lake, ing, { markEveryMs: 0 });
    await bounded(det.whenJudged(v2), `catching up to version ${v2}`);
    assert.equal(det.stats.commits, 1, 'v2 judged, v1 only fed as warm-up');
    await det.stop();
    state = await anomalies(lake);
    assert.deepEqual(
      state.rows.map((r) => [r.sensor_id, r.ts_start, r.readings_version]),
      [['line1/press/temp', ts(320), v2]],
    );
    assert.equal(state.txn, v2);

    det = await inline(lake, ing, { markEveryMs: 0 });
    const v3 = await commit(ing, readings(340, 360));
    await bounded(det.whenJudged(v3), `judging version ${v3}`);
    await det.stop();
    state = await anomalies(lake);
    assert.equal(state.rows.length, 1, 'the v2 finding is not written again');
    assert.equal(state.txn, v3);
  } finally {
    await ing.close();
  }
});

test('without warm-up history, a short live series raises nothing (the detectors need their warm-up)', async () => {
  const lake = newLake();
  const ing = await open(lake);
  const det = await inline(lake, ing, { markEveryMs: 0 });
  try {
    const v = await commit(ing, readings(0, 40, { 20: 54 }));
    await bounded(det.whenJudged(v), `judging version ${v}`);
    assert.equal((await anomalies(lake)).rows.length, 0);
    assert.equal(det.stats.readings, 80);
  } finally {
    await det.stop();
    await ing.close();
  }
});
