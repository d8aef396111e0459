// `quality run` end to end on a small simulated lake: the first run reads everything and writes the four tables,
// a second run finds nothing new and commits nothing, a third after more data reads only the new rows and leaves the
// tables as a full recompute would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { DeltaTable } from '../../src/delta/table.js';
import { runQuality } from '../../src/quality/run.js';
import { qualityTablePath, QUALITY_TABLES } from '../../src/quality/tables.js';
import { tempDir } from '../helpers.js';
import { simulatedLake } from './helpers.js';

const us = (iso: string): number => Date.parse(iso) * 1000;

async function rows(lake: string, name: string, columns?: string[]): Promise<Record<string, unknown>[]> {
  const t = await (await DeltaTable.open(path.join(lake, name))).read(columns ? { columns } : {});
  return t.toArray().map((r) => r.toJSON() as Record<string, unknown>);
}

const ts = (v: unknown): number => Math.round(Number(v) * 1000);

test('quality run: full, then nothing new, then only the new data', async (t) => {
  const tmp = tempDir('sensorlake-quality-');
  t.after(tmp.cleanup);
  const lake = path.join(tmp.dir, 'lake');
  const first = await simulatedLake(tmp.dir, lake, '2024-01-01T00:00:00Z', '2024-01-01T06:00:00Z');

  const r1 = await runQuality(lake);
  assert.equal(r1.mode, 'full');
  assert.equal(r1.previousVersion, null);
  assert.equal(r1.newRows, first.report.written);
  assert.equal(r1.sensors, 12);
  for (const name of QUALITY_TABLES) assert.equal(r1.versions[name], 1, `${name} created at 0, written at 1`);

  // Every gap the simulator cut into a numeric sensor is in the gaps table, spanning it.
  const gaps = await rows(lake, 'gaps');
  assert.equal(gaps.length, r1.gaps);
  const cut = first.truth.faults.filter((f) => f.kind === 'gap');
  assert.ok(cut.length > 0);
  for (const f of cut) {
    if (f.kind !== 'gap') continue;
    const hit = gaps.find((g) => g.sensor_id === f.sensor_id && ts(g.start) < us(f.from) && ts(g.end) >= us(f.to));
    assert.ok(hit, `gap ${f.sensor_id} ${f.from}..${f.to} found`);
    assert.ok(Number(hit.missing) >= f.readings, `${hit.missing} >= ${f.readings}`);
  }

  // readings_imputed: every reading once (imputed=false), plus fills strictly inside gaps of the gaps table.
  const readings = await rows(lake, 'readings', ['sensor_id', 'ts']);
  const imputed = await rows(lake, 'readings_imputed', ['sensor_id', 'ts', 'imputed', 'method', 'value']);
  const originals = imputed.filter((r) => r.imputed === false);
  const fills = imputed.filter((r) => r.imputed === true);
  assert.equal(originals.length, readings.length);
  assert.equal(fills.length, r1.filledRows);
  assert.ok(fills.length > 0);
  assert.equal(new Set(imputed.map((r) => `${String(r.sensor_id)}|${ts(r.ts)}`)).size, imputed.length, 'one row per (sensor_id, ts)');
  for (const f of fills) {
    assert.ok(typeof f.method === 'string' && Number.isFinite(f.value as number));
    assert.ok(gaps.some((g) => g.sensor_id === f.sensor_id && ts(g.start) < ts(f.ts) && ts(f.ts) < ts(g.end)), `fill ${String(f.sensor_id)} ${ts(f.ts)} inside a gap`);
  }
  assert.ok(originals.every((r) => r.method === null));

  // The lead-lag table holds the simulator's couplings it found, with their exact lags.
  const pairs = await rows(lake, 'causal_pairs');
  assert.equal(pairs.length, r1.causalPairs);
  const truth = first.truth.couplings;
  const found = truth.filter((c) => pairs.some((p) => p.leader === c.cause && p.follower === c.effect && p.lag_s === c.lagSeconds));
  assert.ok(found.length >= Math.ceil(0.8 * truth.length), `found ${found.length} of ${truth.length} couplings`);
  assert.equal((await rows(lake, 'anomalies')).length, r1.anomalies);

  // Second run: nothing new, nothing committed.
  const before = await Promise.all(QUALITY_TABLES.map(async (n) => (await DeltaTable.open(qualityTablePath(lake, n))).version()));
  const r2 = await runQuality(lake);
  assert.equal(r2.mode, 'up-to-date');
  assert.equal(r2.newRows, 0);
  assert.deepEqual(await Promise.all(QUALITY_TABLES.map(async (n) => (await DeltaTable.open(qualityTablePath(lake, n))).version())), before);

  // Third run after two more hours were backfilled: only those rows are new.
  const second = await simulatedLake(tmp.dir, lake, '2024-01-01T06:00:00Z', '2024-01-01T08:00:00Z', 4);
  const r3 = await runQuality(lake);
  assert.equal(r3.mode, 'incremental');
  assert.equal(r3.previousVersion, r1.readingsVersion);
  assert.equal(r3.newRows, second.report.written);
  assert.ok(r3.contextRows > r3.newRows, 'look-back context was read too');
  assert.equal(r3.from, '2024-01-01T06:00:00.000Z');
  for (const name of QUALITY_TABLES) assert.equal(r3.versions[name], 2);
  const after = await rows(lake, 'readings_imputed', ['sensor_id', 'ts', 'imputed']);
  assert.equal(after.filter((r) => r.imputed === false).length, (await rows(lake, 'readings', ['ts'])).length);
  const keys = (rs: Record<string, unknown>[]): string[] => rs.map((r) => `${String(r.sensor_id)}|${ts(r.ts)}`).sort();
  const gapKeys = (rs: Record<string, unknown>[]): string[] => rs.map((g) => `${String(g.sensor_id)}|${ts(g.start)}|${ts(g.end)}|${String(g.missing)}`).sort();
  const incGaps = gapKeys(await rows(lake, 'gaps'));
  const incRows = keys(after);

  // A full recompute finds the same gaps and fills the same timestamps.
  const full = await runQuality(lake, { full: true });
  assert.equal(full.mode, 'full');
  assert.deepEqual(gapKeys(await rows(lake, 'gaps')), incGaps);
  assert.deepEqual(keys(await rows(lake, 'readings_imputed', ['sensor_id', 'ts'])), incRows);
});
