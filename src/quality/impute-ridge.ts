// The multivariate imputer: the target predicted from the other sensors of its asset at a ladder of lags both ways
// (ridge regression on standardised features, the penalty picked on a held-out tail), plus the smoothed residual so
// the fill meets the readings at both ends of the gap.

import type { Imputer, Neighbour } from './impute-types.js';
import { gridAt, toGrid, type Grid } from './grid.js';
import { residualFiller } from './impute-smoother.js';
import { gram, solveSymmetric } from './stats.js';

/** Lags in the neighbour's own steps; negative lags look at what the neighbour did after the target. */
const LAG_STEPS = [0, 1, -1, 3, -3, 10, -10, 30, -30, 90, -90];
const MAX_NEIGHBOURS = 6;
const MAX_TRAIN_ROWS = 5_000;
const MIN_TRAIN_ROWS = 50;
const LAMBDAS = [1e-6, 1e-4, 1e-2, 1];

interface Feature {
  grid: Grid;
  lagUs: number;
}

function features(neighbours: Neighbour[]): Feature[] {
  const out: Feature[] = [];
  for (const nb of neighbours.slice(0, MAX_NEIGHBOURS)) {
    if (nb.ts.length < MIN_TRAIN_ROWS || !(nb.intervalUs > 0)) continue;
    const grid = toGrid(nb.ts, nb.values, nb.intervalUs);
    for (const l of LAG_STEPS) out.push({ grid, lagUs: l * nb.intervalUs });
  }
  return out;
}

/** Raw feature row at time t into `row`; false when some feature has no reading there. */
function fillRow(fs: Feature[], t: number, row: Float64Array, off: number): boolean {
  for (let f = 0; f < fs.length; f++) {
    const v = gridAt(fs[f].grid, t - fs[f].lagUs);
    if (Number.isNaN(v)) return false;
    row[off + f] = v;
  }
  return true;
}

export const ridgeImputer: Imputer = (obs, ctx) => {
  const fs = features(ctx.neighbours);
  const k = fs.length;
  if (k === 0) return null;
  const n = obs.ts.length;
  const stride = Math.max(1, Math.floor(n / MAX_TRAIN_ROWS));
  const rows: number[] = [];
  const scratch = new Float64Array(k);
  for (let i = 0; i < n; i += stride) if (fillRow(fs, obs.ts[i], scratch, 0)) rows.push(i);

  if (rows.length < Math.max(MIN_TRAIN_ROWS, 2 * k)) return null;
  const m = rows.length;
  const x = new Float64Array(m * k);
  const y = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    fillRow(fs, obs.ts[rows[r]], x, r * k);
    y[r] = obs.values[rows[r]];
  }
  // Standardise so one penalty fits features of any unit; centre y so the intercept is not penalised.
  const mu = new Float64Array(k);
  const sd = new Float64Array(k);
  for (let f = 0; f < k; f++) {
    let s = 0;
    for (let r = 0; r < m; r++) s += x[r * k + f];
    mu[f] = s / m;
    let ss = 0;
    for (let r = 0; r < m; r++) ss += (x[r * k + f] - mu[f]) ** 2;
    sd[f] = Math.sqrt(ss / m) || 1;
    for (let r = 0; r < m; r++) x[r * k + f] = (x[r * k + f] - mu[f]) / sd[f];
  }
  let ymu = 0;
  for (let r = 0; r < m; r++) ymu += y[r];
  ymu /= m;
  for (let r = 0; r < m; r++) y[r] -= ymu;
  // The penalty that predicts the last fifth best when fitted on the first four fifths; then refit on all rows.
  const cut = Math.floor(m * 0.8);
  const head = gram(x, y, k, 0, cut);
  const tail = gram(x, y, k, cut, m);
  let lambda = LAMBDAS[1];
  let bestErr = Infinity;
  for (const l of LAMBDAS) {
    const coef = solveSymmetric(head.xtx, head.xty, k, l * cut);
    if (!coef) continue;
    let err = 0;
    for (let r = cut; r < m; r++) {
      let p = 0;
      for (let f = 0; f < k; f++) p += coef[f] * x[r * k + f];
      err += (y[r] - p) ** 2;
    }
    if (err < bestErr) {
      bestErr = err;
      lambda = l;
    }
  }
  const xtx = head.xtx.map((v, i) => v + tail.xtx[i]);
  const xty = head.xty.map((v, i) => v + tail.xty[i]);
  const coef = solveSymmetric(xtx, xty, k, lambda * m);
  if (!coef) return null;
  const fit = { coef };
  // At prediction a feature without a reading (a neighbour's own gap) takes its mean, i.e. adds nothing; with more
  // than half of them missing there is too little to go on.
  const predict = (t: number): number => {
    let p = ymu;
    let missing = 0;
    for (let f = 0; f < k; f++) {
      const v = gridAt(fs[f].grid, t - fs[f].lagUs);
      if (Number.isNaN(v)) missing++;
      else p += (fit.coef[f] * (v - mu[f])) / sd[f];
    }
    return missing * 2 > k ? NaN : p;
  };
  const base = new Float64Array(n);
  for (let i = 0; i < n; i++) base[i] = predict(obs.ts[i]);
  return residualFiller(obs.ts, obs.values, base, ctx.intervalUs, (ts) => {
    const out = new Float64Array(ts.length);
    for (let j = 0; j < ts.length; j++) {
      out[j] = predict(ts[j]);
      if (Number.isNaN(out[j])) return null;
    }
    return out;
  });
};
