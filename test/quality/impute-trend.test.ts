// The `trend` imputer's parts on cases with exact answers: the k-interval transition against k unit steps, the
// smoother against the Brownian bridge and least squares, the minimiser on a quadratic; then the fit and the filler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterTrend, smoothTrend, step, type Step, type TrendModel } from '../../src/quality/impute-trend-model.js';
import { fitTrend, trendImputer } from '../../src/quality/impute-trend.js';
import { nelderMead } from '../../src/quality/impute-minimize.js';
import { IMPUTERS } from '../../src/quality/impute.js';
import { Rng, GAUSS } from '../../src/sim/random.js';

const I = 60e6;

function near(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

/** One step after another: F = F2 F1, Q = F2 Q1 F2' + Q2. */
function compose(a: Step, b: Step): Step {
  // F1 = [[1, a.c], [0, a.g]], F2 = [[1, b.c], [0, b.g]]: F2 F1 = [[1, a.c + b.c a.g], [0, b.g a.g]].
  const qLL = a.qLL + 2 * b.c * a.qLS + b.c * b.c * a.qSS + b.qLL;
  const qLS = b.g * (a.qLS + b.c * a.qSS) + b.qLS;
  const qSS = b.g * b.g * a.qSS + b.qSS;
  return { c: a.c + b.c * a.g, g: b.g * a.g, qLL, qLS, qSS };
}

test('the closed-form transition over k intervals equals k unit steps, damped or not', () => {
  for (const rho of [1, 0.8, 0.3]) {
    const m: TrendModel = { qLevel: 0.7, qSlope: 0.2, r: 1, rho, intervalUs: I };
    let acc = step(m, 1);
    for (let k = 2; k <= 5; k++) {
      acc = compose(acc, step(m, 1));
      const got = step(m, k);
      for (const key of ['c', 'g', 'qLL', 'qLS', 'qSS'] as const) near(got[key], acc[key], 1e-9, `rho ${rho} k ${k} ${key}`);
    }
  }
  // Undamped: F^3 = [[1, 3], [0, 1]], Q = qLevel 3 + qSlope (0 + 1 + 4) on the level.
  const s3 = step({ qLevel: 1, qSlope: 1, r: 1, rho: 1, intervalUs: I }, 3);
  assert.deepEqual([s3.c, s3.g, s3.qLL, s3.qLS, s3.qSS], [3, 1, 8, 3, 3]);
});

test('a reading two intervals on is filtered the same as with an empty time between', () => {
  const m: TrendModel = { qLevel: 0.5, qSlope: 0.1, r: 0.3, rho: 0.9, intervalUs: I };
  const a = filterTrend([0, I, 3 * I, 4 * I], [1, 2, 5, 4], m);
  const b = filterTrend([0, I, 2 * I, 3 * I, 4 * I], [1, 2, NaN, 5, 4], m);
  near(a.nll, b.nll, 1e-12, 'likelihood');
  for (let j = 0; j < 2; j++) near(a.mf[2 * 3 + j], b.mf[2 * 4 + j], 1e-9, `state ${j}`);
});

test('random walk without noise: the smoothed gap is the straight line (the Brownian bridge)', () => {
  const m: TrendModel = { qLevel: 1, qSlope: 0, r: 1e-12, rho: 1, intervalUs: I };
  const y = [5, 3, 4, 0, NaN, NaN, NaN, 8, 7, 9];
  const out = smoothTrend(y.map((_, i) => i * I), y, m);
  [2, 4, 6].forEach((v, j) => near(out[4 + j], v, 1e-6, `fill ${j}`));
});

test('white noise around a line: with no level or slope noise the smoother is the least-squares line', () => {
  const m: TrendModel = { qLevel: 0, qSlope: 0, r: 1, rho: 1, intervalUs: I };
  const e = [0.3, -1.2, 0.8, 0.1, -0.4, NaN, NaN, 1.1, -0.6, 0.2, -0.9, 0.5];
  const y = e.map((v, i) => 2 + 0.5 * i + v);
  const out = smoothTrend(y.map((_, i) => i * I), y, m);
  // Least squares on the observed points.
  const xs = y.map((_, i) => i).filter((i) => !Number.isNaN(y[i]));
  const mx = xs.reduce((a, i) => a + i, 0) / xs.length;
  const my = xs.reduce((a, i) => a + y[i], 0) / xs.length;
  const b = xs.reduce((a, i) => a + (i - mx) * (y[i] - my), 0) / xs.reduce((a, i) => a + (i - mx) ** 2, 0);
  for (const i of [5, 6]) near(out[i], my + b * (i - mx), 1e-6, `fill at ${i}`);
});

test('nelderMead finds the minimum of a stretched quadratic', () => {
  const r = nelderMead((x) => (x[0] - 1) ** 2 + 10 * (x[1] + 2) ** 2 + 3, [0, 0], [1, 1], 500, 1e-14);
  near(r.x[0], 1, 1e-4, 'x');
  near(r.x[1], -2, 1e-4, 'y');
  near(r.value, 3, 1e-8, 'value');
});

/** A local level (random walk, step variance q) seen through white noise of variance r. */
function localLevel(n: number, q: number, r: number, seed: number): { ts: Float64Array; values: Float64Array; level: Float64Array } {
  const rng = new Rng(seed);
  const g = (): number => GAUSS[rng.u32() & 4095];
  const ts = new Float64Array(n);
  const values = new Float64Array(n);
  const level = new Float64Array(n);
  let l = 50;
  for (let i = 0; i < n; i++) {
    ts[i] = i * I;
    level[i] = l;
    values[i] = l + Math.sqrt(r) * g();
    l += Math.sqrt(q) * g();
  }
  return { ts, values, level };
}

test('fitTrend recovers the variances of a local level from its readings', () => {
  const s = localLevel(6000, 0.25, 1, 11);
  const m = fitTrend(s, I);
  assert.ok(m);
  assert.ok(Math.abs(m.r - 1) < 0.15, `noise variance ${m.r} vs 1`);
  // The level's movement over one interval: the random step plus what a slope adds.
  assert.ok(Math.abs(m.qLevel + m.qSlope - 0.25) < 0.08, `step variance ${m.qLevel} + ${m.qSlope} vs 0.25`);
  assert.equal(fitTrend({ ts: s.ts, values: new Float64Array(6000).fill(3) }, I), null, 'a constant needs no model');
});

/** Squared errors of trend and linear against the hidden level, over blocks of 10 hidden every 200 readings. */
function blockErrors(s: ReturnType<typeof localLevel>): { trend: number; linear: number } {
  const n = s.ts.length;
  const keep = new Uint8Array(n).fill(1);
  const blocks: number[] = [];
  for (let b = 100; b + 10 < n - 100; b += 200) {
    keep.fill(0, b, b + 10);
    blocks.push(b);
  }
  const idx = Array.from({ length: n }, (_, i) => i).filter((i) => keep[i]);
  const obs = { ts: Float64Array.from(idx, (i) => s.ts[i]), values: Float64Array.from(idx, (i) => s.values[i]) };
  const ctx = { intervalUs: I, neighbours: [] };
  const trend = trendImputer(obs, ctx)!;
  const linear = IMPUTERS.linear(obs, ctx)!;
  const se = { trend: 0, linear: 0 };
  for (const b of blocks) {
    const left = idx.indexOf(b - 1);
    const ts = s.ts.slice(b, b + 10);
    const ft = trend({ left, ts })!;
    const fl = linear({ left, ts })!;
    for (let j = 0; j < 10; j++) {
      se.trend += (ft[j] - s.level[b + j]) ** 2;
      se.linear += (fl[j] - s.level[b + j]) ** 2;
    }
  }
  return se;
}

test('trend recovers the hidden level of a noisy random walk better than the line between two noisy neighbours', () => {
  const se = blockErrors(localLevel(5000, 0.1, 1, 5));
  assert.ok(se.trend < 0.7 * se.linear, `trend SSE ${se.trend} vs linear ${se.linear}`);
});

test('on a random walk without noise trend gives the line back', () => {
  const se = blockErrors(localLevel(5000, 0.1, 1e-8, 5));
  assert.ok(Math.abs(se.trend - se.linear) < 0.005 * se.linear, `trend SSE ${se.trend} vs linear ${se.linear}`);
});
