// The multivariate imputer: the target predicted from the other sensors of its asset at a ladder of lags both ways
// (ridge regression on standardised features, the penalty picked on a held-out tail), plus the smoothed residual so
// the fill meets the readings at both ends of the gap. The feature rows and their cross products are built once per
// series (prepareRidge); a self-masked copy drops its hidden rows from those sums instead of rebuilding them.

import type { FitContext, Imputer, Neighbour, Observed, Preparer } from './impute-types.js';
import { gridAt, toGrid, type Grid } from './grid.js';
import { residualFiller, residualModel } from './impute-smoother.js';
import { solveSymmetric } from './stats.js';
import { addRows, copySums, emptySums, standardised, subtract, type Sums } from './impute-ridge-sums.js';

/** Lags in the neighbour's own steps; negative lags look at what the neighbour did after the target. */
const LAG_STEPS = [0, 1, -1, 3, -3, 10, -10, 30, -30, 90, -90];
const MAX_NEIGHBOURS = 6;
const MAX_TRAIN_ROWS = 5_000;
const MIN_TRAIN_ROWS = 50;
const LAMBDAS = [1e-6, 1e-4, 1e-2, 1];
/** Training rows per stored prefix of the cross products: a head/tail cut costs at most this many rows to add. */
const CHUNK = 128;

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

/** The regression fitted on some training rows: its penalty and coefficients, and the baseline it gives. */
export interface RidgeFit {
  lambda: number;
  /** Per standardised feature. */
  coef: Float64Array;
  /** The prediction at each reading of the series fitted on (NaN where more than half the features are missing). */
  base: Float64Array;
  /** The prediction at other times; null when some time has too few features. */
  baselineAt: (ts: Float64Array) => Float64Array | null;
}

/** Fits on the training rows that `obs`, a subset of the prepared series, keeps; `index`: its readings' places there. */
export type RidgeDesign = (obs: Observed, index: Int32Array) => RidgeFit | null;

/**
 * The feature rows of the whole series (every stride-th reading whose features all have readings), less a reference
 * row so the sums stay well conditioned, and the prefix sums of their cross products every CHUNK rows; null when
 * there are no neighbours or too few rows. A subset's fit subtracts its hidden rows from these sums, which gives what
 * a fit from scratch on the subset would (up to rounding).
 */
export function ridgeDesign(full: Observed, ctx: FitContext): RidgeDesign | null {
  const fs = features(ctx.neighbours);
  const k = fs.length;
  if (k === 0) return null;
  const d = k + 1;
  const n = full.ts.length;
  const stride = Math.max(1, Math.floor(n / MAX_TRAIN_ROWS));
  const rowOf = new Int32Array(n).fill(-1);
  const grown = new Float64Array(Math.ceil(n / stride) * d);
  let rows = 0;
  // A reading with some feature missing is overwritten by the next one.
  for (let i = 0; i < n; i += stride) {
    if (!fillRow(fs, full.ts[i], grown, rows * d)) continue;
    grown[rows * d + k] = full.values[i];
    rowOf[i] = rows++;
  }
  if (rows < Math.max(MIN_TRAIN_ROWS, 2 * k)) return null;
  const z = grown.subarray(0, rows * d);
  // The first row as reference: a constant feature becomes exactly zero (spread 0), others stay near their scale.
  const ref = z.slice(0, d);
  for (let r = 0; r < rows; r++) for (let i = 0; i < d; i++) z[r * d + i] -= ref[i];
  const prefix: Sums[] = [emptySums(d)];
  for (let from = 0; from < rows; from += CHUNK) {
    const acc = copySums(prefix[prefix.length - 1]);
    addRows(acc, z, from, Math.min(rows, from + CHUNK), d);
    prefix.push(acc);
  }
  const total = prefix[prefix.length - 1];

  return (obs, index) => {
    // The training rows this copy keeps, in order; the rest are subtracted from the prefix sums.
    const kept = new Uint8Array(rows);
    for (let i = 0; i < index.length; i++) {
      const r = rowOf[index[i]];
      if (r >= 0) kept[r] = 1;
    }
    const keptRows: number[] = [];
    for (let r = 0; r < rows; r++) if (kept[r]) keptRows.push(r);
    const m = keptRows.length;
    if (m < Math.max(MIN_TRAIN_ROWS, 2 * k)) return null;
    // The penalty that predicts the last fifth best when fitted on the first four fifths; then refit on all rows.
    const cut = Math.floor(m * 0.8);
    const cutRow = keptRows[cut];
    const chunk = Math.floor(cutRow / CHUNK);
    const head = copySums(prefix[chunk]);
    addRows(head, z, chunk * CHUNK, cutRow, d);
    // The hidden rows, gathered so their sums take the four-row loop: those before the cut, then the rest.
    const hidden = new Float64Array((rows - m) * d);
    let h0 = 0;
    let h1 = 0;
    for (let r = 0; r < rows; r++) {
      if (kept[r]) continue;
      hidden.set(z.subarray(r * d, (r + 1) * d), h1++ * d);
      if (r < cutRow) h0 = h1;
    }
    const before = emptySums(d);
    addRows(before, hidden, 0, h0, d);
    const after = emptySums(d);
    addRows(after, hidden, h0, h1, d);
    subtract(head, before);
    const all = copySums(total);
    subtract(all, before);
    subtract(all, after);
    const tail: Sums = { n: all.n - head.n, s: all.s.map((v, i) => v - head.s[i]), zz: all.zz.map((v, i) => v - head.zz[i]) };
    // Standardise so one penalty fits features of any unit; centre y so the intercept is not penalised.
    const a = all.s.map((v) => v / m);
    const sd = new Float64Array(k);
    for (let f = 0; f < k; f++) {
      // A feature constant on the kept rows has spread 0 (1 then, as it adds nothing); one that is not constant on
      // the whole series is taken for constant when its spread is lost in the subtraction's rounding.
      const v = all.zz[f * d + f] / m - a[f] * a[f];
      sd[f] = v > 1e-12 * (total.zz[f * d + f] / rows) ? Math.sqrt(v) : 1;
    }
    const h = standardised(head, a, sd, k);
    const t = standardised(tail, a, sd, k);
    let lambda = LAMBDAS[1];
    let bestErr = Infinity;
    for (const l of LAMBDAS) {
      const coef = solveSymmetric(h.xtx, h.xty, k, l * cut);
      if (!coef) continue;
      // Squared error on the tail: y'y - 2 c'x'y + c'x'x c.
      let err = t.yy;
      for (let i = 0; i < k; i++) {
        let xc = 0;
        for (let j = 0; j < k; j++) xc += t.xtx[i * k + j] * coef[j];
        err += coef[i] * (xc - 2 * t.xty[i]);
      }
      if (err < bestErr) {
        bestErr = err;
        lambda = l;
      }
    }
    const coef = solveSymmetric(
      h.xtx.map((v, i) => v + t.xtx[i]),
      h.xty.map((v, i) => v + t.xty[i]),
      k,
      lambda * m,
    );
    if (!coef) return null;
    const mu = Float64Array.from({ length: k }, (_, f) => ref[f] + a[f]);
    const ymu = ref[k] + a[k];
    // At prediction a feature without a reading (a neighbour's own gap) takes its mean, i.e. adds nothing; with more
    // than half of them missing there is too little to go on.
    const predict = (time: number): number => {
      let p = ymu;
      let missing = 0;
      for (let f = 0; f < k; f++) {
        const v = gridAt(fs[f].grid, time - fs[f].lagUs);
        if (Number.isNaN(v)) missing++;
        else p += (coef[f] * (v - mu[f])) / sd[f];
      }
      return missing * 2 > k ? NaN : p;
    };
    // At a training row every feature is at hand in z (less the reference): a dot product, no grid look-ups.
    const w = Float64Array.from(coef, (c, f) => c / sd[f]);
    let c0 = ymu;
    for (let f = 0; f < k; f++) c0 -= w[f] * a[f];
    const base = new Float64Array(obs.ts.length);
    for (let i = 0; i < obs.ts.length; i++) {
      const r = rowOf[index[i]];
      if (r < 0) {
        base[i] = predict(obs.ts[i]);
        continue;
      }
      let p = c0;
      for (let f = 0, off = r * d; f < k; f++) p += w[f] * z[off + f];
      base[i] = p;
    }
    const baselineAt = (ts: Float64Array): Float64Array | null => {
      const out = new Float64Array(ts.length);
      for (let j = 0; j < ts.length; j++) {
        out[j] = predict(ts[j]);
        if (Number.isNaN(out[j])) return null;
      }
      return out;
    };
    return { lambda, coef, base, baselineAt };
  };
}

/**
 * The design and the fit on the whole series, and its residual model: a self-masked copy refits the coefficients
 * (cheap from the sums) but keeps this residual model, as hiding 5% of the readings barely moves its three numbers.
 */
export const prepareRidge: Preparer = (full, ctx) => {
  const design = ridgeDesign(full, ctx);
  const fullFit = design?.(full, Int32Array.from({ length: full.ts.length }, (_, i) => i)) ?? null;
  const model = fullFit ? residualModel(full.ts, full.values, fullFit.base, ctx.intervalUs) : undefined;
  return (obs, octx) => {
    // A series that is not a subset of the prepared one (or other neighbours): prepared afresh.
    const index = obs === full ? null : subsetIndex(full, obs);
    if (octx.neighbours !== ctx.neighbours || (obs !== full && !index)) return prepareRidge(obs, octx)(obs, octx);
    const fit = index ? (design?.(obs, index) ?? null) : fullFit;
    return fit ? residualFiller(obs.ts, obs.values, fit.base, octx.intervalUs, fit.baselineAt, model) : null;
  };
};

/** Index in `full` of each reading of `obs` (same time and value), or null when `obs` is not a subset of `full`. */
export function subsetIndex(full: Observed, obs: Observed): Int32Array | null {
  const out = new Int32Array(obs.ts.length);
  let j = 0;
  for (let i = 0; i < obs.ts.length; i++) {
    while (j < full.ts.length && full.ts[j] < obs.ts[i]) j++;
    if (j === full.ts.length || full.ts[j] !== obs.ts[i] || full.values[j] !== obs.values[i]) return null;
    out[i] = j++;
  }
  return out;
}

export const ridgeImputer: Imputer = (obs, ctx) => prepareRidge(obs, ctx)(obs, ctx);
