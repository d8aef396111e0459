// Preparing an imputer once per series (prepareImputers, PREPARERS): a self-masked copy's ridge fit from the whole
// series' sums equals a fit from scratch on the copy; a series that is no copy is fitted afresh; auto prepares each
// candidate once however many self-mask rounds it draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Observed, Neighbour } from '../../src/quality/impute-types.js';
import { ridgeDesign, ridgeImputer, prepareRidge, subsetIndex, type RidgeFit } from '../../src/quality/impute-ridge.js';
import { applyMask, maskStratified } from '../../src/quality/impute-auto.js';
import { PREPARERS } from '../../src/quality/impute-registry.js';
import { imputeSeries } from '../../src/quality/impute.js';
import { Rng } from '../../src/sim/random.js';

const S = 1e6;

/** Two noisy random-walk neighbours and a target that follows them, lagged, with noise: no fit is exact. */
function asset(n: number, seed: number): { target: Observed; neighbours: Neighbour[] } {
  const rng = new Rng(seed);
  const walk = (): number[] => {
    const w = [0];
    for (let i = 1; i < n; i++) w.push(w[i - 1] + rng.range(-1, 1));
    return w;
  };
  const a = walk();
  const b = walk().map((v) => 100 + 10 * v);
  const ts = Float64Array.from({ length: n }, (_, i) => i * 60 * S);
  const target = Float64Array.from({ length: n }, (_, i) => 2 * a[Math.max(0, i - 3)] - 0.05 * b[i] + rng.range(-0.5, 0.5));
  return {
    target: { ts, values: target },
    neighbours: [
      { sensorId: 'a', intervalUs: 60 * S, ts, values: Float64Array.from(a, (v) => v + rng.range(-0.1, 0.1)) },
      { sensorId: 'b', intervalUs: 60 * S, ts, values: Float64Array.from(b) },
    ],
  };
}

test('ridge on a self-masked copy, from the whole series sums less the hidden rows, equals a fit from scratch', () => {
  const { target, neighbours } = asset(3000, 4);
  const ctx = { intervalUs: 60 * S, neighbours };
  const full = ridgeDesign(target, ctx);
  assert.ok(full);
  for (const seed of [1, 2, 3]) {
    const { kept } = applyMask(target, maskStratified(target.ts.length, new Rng(seed), 0.1));
    const index = subsetIndex(target, kept);
    assert.ok(index);
    const fromSums: RidgeFit = full(kept, index)!;
    const scratch = ridgeDesign(kept, ctx)!(kept, Int32Array.from({ length: kept.ts.length }, (_, i) => i))!;
    assert.equal(fromSums.lambda, scratch.lambda, `seed ${seed}: penalty`);
    for (let f = 0; f < scratch.coef.length; f++) {
      assert.ok(Math.abs(fromSums.coef[f] - scratch.coef[f]) <= 1e-7 * (1 + Math.abs(scratch.coef[f])), `seed ${seed} coef ${f}: ${fromSums.coef[f]} vs ${scratch.coef[f]}`);
    }
    let worst = 0;
    for (let i = 0; i < kept.ts.length; i++) if (Number.isFinite(scratch.base[i])) worst = Math.max(worst, Math.abs(fromSums.base[i] - scratch.base[i]));
    assert.ok(worst < 1e-7, `seed ${seed}: baseline differs by ${worst}`);
  }
});

test('a prepared ridge given a series that is not a copy of its own is fitted afresh on it', () => {
  const one = asset(2000, 6);
  const other = asset(2000, 7);
  const ctx = { intervalUs: 60 * S, neighbours: one.neighbours };
  const prepared = prepareRidge(one.target, ctx)(other.target, ctx);
  const fresh = ridgeImputer(other.target, ctx);
  assert.ok(prepared && fresh);
  const gap = { left: 999, ts: Float64Array.from({ length: 5 }, (_, j) => (999 + 0.5 + j * 0.1) * 60 * S) };
  assert.deepEqual(Array.from(prepared(gap)!), Array.from(fresh(gap)!));
  assert.equal(subsetIndex(one.target, other.target), null);
});

test('auto prepares each candidate once per series, however many self-mask rounds it draws', () => {
  const { target, neighbours } = asset(3000, 8);
  const drop = new Set([500, 501, 1500, 2500, 2501, 2502, 2503]);
  const keep = Array.from({ length: 3000 }, (_, i) => i).filter((i) => !drop.has(i));
  const series = {
    sensorId: 't',
    asset: 'x',
    ts: Float64Array.from(keep, (i) => target.ts[i]),
    values: Float64Array.from(keep, (i) => target.values[i]),
    quality: new Int32Array(keep.length),
  };
  const calls = new Map<string, number>();
  const saved = { ...PREPARERS };
  try {
    for (const [m, p] of Object.entries(saved)) {
      PREPARERS[m as keyof typeof PREPARERS] = (obs, ctx) => {
        calls.set(m, (calls.get(m) ?? 0) + 1);
        return p(obs, ctx);
      };
    }
    const r = imputeSeries(series, { intervalUs: 60 * S, neighbours, seed: 3 });
    assert.ok(r.choice && r.choice.rounds >= 2, `rounds ${r.choice?.rounds}`);
    assert.equal(r.fills.length + r.unfilled.length, 3);
    for (const m of ['ridge', 'smooth', 'trend']) assert.equal(calls.get(m), 1, `${m} prepared ${calls.get(m)} times`);
  } finally {
    Object.assign(PREPARERS, saved);
  }
});
