// The couplings truth.json records are in the data: the cross-correlation of the changes of cause and effect peaks at
// the recorded lag, within one interval of the effect sensor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { simulate } from '../../src/sim/simulate.js';
import type { Truth } from '../../src/sim/truth.js';
import { tempDir } from '../helpers.js';

function pearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** The lag (s) in 0..maxLag at which the effect's changes correlate best with the cause's changes that long before. */
export function bestLag(cause: Map<number, number>, effect: Map<number, number>, effectStep: number, maxLag: number, step: number): { lag: number; r: number } {
  const ts = [...effect.keys()].sort((a, b) => a - b);
  let best = { lag: -1, r: -Infinity };
  for (let lag = 0; lag <= maxLag; lag += step) {
    const x: number[] = [];
    const y: number[] = [];
    for (const t of ts) {
      const e0 = effect.get(t - effectStep);
      const c1 = cause.get(t - lag * 1000);
      const c0 = cause.get(t - effectStep - lag * 1000);
      if (e0 === undefined || c1 === undefined || c0 === undefined) continue;
      y.push((effect.get(t) as number) - e0);
      x.push(c1 - c0);
    }
    const r = pearson(x, y);
    if (r > best.r) best = { lag, r };
  }
  return best;
}

test('cross-correlation recovers every coupling lag recorded in truth.json', async () => {
  const { dir, cleanup } = tempDir('sim-lag-');
  try {
    await simulate({ out: dir, format: 'csv', sensors: 16, assets: ['pump', 'compressor', 'boiler'], from: '2024-04-02T06:00:00Z', to: '2024-04-02T12:00:00Z', seed: 17, faults: 'none' });
    const truth = JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8')) as Truth;
    const series = new Map<string, Map<number, number>>();
    for (const line of readFileSync(path.join(dir, 'readings.csv'), 'utf8').trimEnd().split('\n').slice(1)) {
      const [ts, id, v] = line.split(',');
      if (!series.has(id)) series.set(id, new Map());
      (series.get(id) as Map<number, number>).set(Date.parse(ts), Number(v));
    }
    assert.ok(truth.couplings.length >= 4, `couplings: ${truth.couplings.length}`);
    const interval = new Map(truth.sensors.map((s) => [s.sensor_id, s.interval_s]));
    const lags = new Set<number>();
    for (const c of truth.couplings) {
      const effectStep = (interval.get(c.effect) as number) * 1000;
      const found = bestLag(series.get(c.cause) as Map<number, number>, series.get(c.effect) as Map<number, number>, effectStep, 150, truth.intervalSeconds);
      assert.ok(Math.abs(found.lag - c.lagSeconds) <= effectStep / 1000, `${c.cause} -> ${c.effect}: recorded ${c.lagSeconds} s, found ${found.lag} s (r=${found.r.toFixed(2)})`);
      assert.ok(found.r > 0.3, `${c.effect}: correlation ${found.r}`);
      lags.add(c.lagSeconds);
    }
    assert.ok(lags.size > 1, 'lags differ between assets');
  } finally {
    cleanup();
  }
});
