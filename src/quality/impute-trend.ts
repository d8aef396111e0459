// The `trend` imputer: a damped local linear trend plus measurement noise (impute-trend-model.ts), its three
// variances and the slope's damping estimated by maximum likelihood on the sensor's own readings, and each gap filled
// with the smoothed level from the readings on either side. Unlike a line between the two neighbours, it averages
// their noise away and carries the slope into the gap; unlike a constant it follows a level that drifts; on a clean
// random walk it gives the line back.

import type { Filler, Imputer, Observed, Preparer } from './impute-types.js';
import { filterTrend, smoothTrend, type TrendModel } from './impute-trend-model.js';
import { nelderMead } from './impute-minimize.js';
import { lastAtOrBefore } from './impute-smoother.js';

/**
 * Readings the likelihood is computed on: the latest ones. 8000 pin the four parameters about as well as 20000 on
 * NAB's machine_temperature (same fills to 0.002 of linear's RMSE); 4000 cost it 0.003 of linear's RMSE.
 */
const FIT_READINGS = 8_000;
/**
 * The search stops when the simplex's log-likelihoods agree to this share (about 0.1 in 10^4, far below what moves
 * a fill): 1e-7 took 1.5x the evaluations and moved no NAB bench ratio by more than 0.0005.
 */
const FIT_TOL = 1e-5;
/** Readings on each side of a gap the smoother uses; far readings add nothing once the gains have settled. */
const WINDOW = 300;

/** Half the mean squared step between readings one interval apart: a scale to start the search from. */
function stepScale(obs: Observed, intervalUs: number, from: number): number {
  let s = 0;
  let n = 0;
  for (let i = from + 1; i < obs.ts.length; i++) {
    if (Math.round((obs.ts[i] - obs.ts[i - 1]) / intervalUs) !== 1) continue;
    s += (obs.values[i] - obs.values[i - 1]) ** 2;
    n++;
  }
  return n > 0 ? s / n / 2 : 0;
}

/**
 * The maximum-likelihood model of the latest FIT_READINGS readings; null when there are too few readings or they
 * never move (a constant needs no model: any line between equal neighbours is exact).
 */
export function fitTrend(obs: Observed, intervalUs: number): TrendModel | null {
  const n = obs.ts.length;
  if (n < 10) return null;
  const from = Math.max(0, n - FIT_READINGS);
  const scale = stepScale(obs, intervalUs, from);
  if (!(scale > 0)) return null;
  const t = obs.ts.subarray(from);
  const y = obs.values.subarray(from);
  // Log variances relative to the step scale; floors keep a variance from vanishing into a singular filter.
  const model = (x: number[]): TrendModel => ({
    qLevel: scale * Math.exp(Math.max(x[0], -30)),
    qSlope: scale * Math.exp(Math.max(x[1], -30)),
    r: scale * Math.exp(Math.max(x[2], -30)),
    // 1 - rho on a log scale, at most 1 (rho >= 0); very small means the undamped trend.
    rho: 1 - Math.exp(Math.min(x[3], 0)),
    intervalUs,
  });
  const nll = (x: number[]): number => {
    const p = filterTrend(t, y, model(x), false);
    return p.used > 0 ? p.nll : Infinity;
  };
  const best = nelderMead(nll, [Math.log(0.5), Math.log(0.01), Math.log(0.5), Math.log(0.1)], [2, 3, 2, 2], 600, FIT_TOL);
  return model(best.x);
}

/** Fills the gaps of `obs` with the smoothed level of model `m` (null: readings that never move). */
function trendFiller(obs: Observed, m: TrendModel | null): Filler | null {
  const n = obs.ts.length;
  if (n < 2) return null;
  return (gap) => {
    const left = gap.left >= 0 ? gap.left : lastAtOrBefore(obs.ts, gap.ts[0]);
    if (left < 0 || left + 1 >= n) return null;
    if (!m) {
      // Readings that never move: the value either side.
      const out = new Float64Array(gap.ts.length);
      const y0 = obs.values[left];
      const y1 = obs.values[left + 1];
      const t0 = obs.ts[left];
      const t1 = obs.ts[left + 1];
      for (let j = 0; j < out.length; j++) out[j] = y0 + ((y1 - y0) * (gap.ts[j] - t0)) / (t1 - t0);
      return out;
    }
    const lo = Math.max(0, left - WINDOW + 1);
    const hi = Math.min(n - 1, left + WINDOW);
    const size = hi - lo + 1 + gap.ts.length;
    const t = new Float64Array(size);
    const y = new Float64Array(size);
    let k = 0;
    for (let i = lo; i <= left; i++, k++) {
      t[k] = obs.ts[i];
      y[k] = obs.values[i];
    }
    const at = k;
    for (let j = 0; j < gap.ts.length; j++, k++) {
      t[k] = gap.ts[j];
      y[k] = NaN;
    }
    for (let i = left + 1; i <= hi; i++, k++) {
      t[k] = obs.ts[i];
      y[k] = obs.values[i];
    }
    return smoothTrend(t, y, m).slice(at, at + gap.ts.length);
  };
}

export const trendImputer: Imputer = (obs, ctx) => (obs.ts.length < 2 ? null : trendFiller(obs, fitTrend(obs, ctx.intervalUs)));

/**
 * The model fitted once on the whole series, then used on it and on every self-masked copy: hiding 5% of the
 * readings barely moves four parameters, and the likelihood search is the costly part (the fills still see only
 * what each copy kept).
 */
export const prepareTrend: Preparer = (full, ctx) => {
  const m = full.ts.length < 2 ? null : fitTrend(full, ctx.intervalUs);
  return (obs) => trendFiller(obs, m);
};
