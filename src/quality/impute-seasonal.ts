// Seasonal imputers: a daily or weekly profile (median per phase bin, interpolated between bins) as the baseline,
// plus the smoothed residual anchored to the readings either side of the gap; and `smooth`, the same with a constant
// baseline for series without a cycle.

import type { Filler, Imputer, Observed, Preparer } from './impute-types.js';
import { residualFiller, residualModel, type ArNoise } from './impute-smoother.js';
import { median } from './stats.js';

export const DAY_US = 86_400e6;
export const WEEK_US = 7 * DAY_US;

export interface Profile {
  periodUs: number;
  bins: Float64Array;
  /**
   * Linear between bin centres when bins are wider than the interval; a step function when each bin holds one
   * reading's phase (interpolating then would blur a pattern the bins already resolve).
   */
  interpolate: boolean;
}

function phase(t: number, periodUs: number): number {
  const p = t % periodUs;
  return p < 0 ? p + periodUs : p;
}

/** Median of the readings in each of `bins` phase bins; empty bins interpolated circularly; null if all are empty. */
export function fitProfile(obs: Observed, periodUs: number, bins: number, interpolate = true): Profile | null {
  const groups: number[][] = Array.from({ length: bins }, () => []);
  for (let i = 0; i < obs.ts.length; i++) groups[Math.floor((phase(obs.ts[i], periodUs) / periodUs) * bins) % bins].push(obs.values[i]);
  const out = new Float64Array(bins).fill(NaN);
  const full: number[] = [];
  for (let b = 0; b < bins; b++) {
    if (groups[b].length > 0) {
      out[b] = median(groups[b]);
      full.push(b);
    }
  }
  if (full.length === 0) return null;
  for (let b = 0; b < bins; b++) {
    if (!Number.isNaN(out[b])) continue;
    // Nearest filled bins before and after, circularly.
    let lo = b;
    while (Number.isNaN(out[lo])) lo = (lo - 1 + bins) % bins;
    let hi = b;
    while (Number.isNaN(out[hi])) hi = (hi + 1) % bins;
    const dLo = (b - lo + bins) % bins;
    const dHi = (hi - b + bins) % bins;
    out[b] = dLo + dHi === 0 ? out[lo] : out[lo] + ((out[hi] - out[lo]) * dLo) / (dLo + dHi);
  }
  return { periodUs, bins: out, interpolate };
}

/** The profile at time t: linear between bin centres, wrapping around the period. */
export function profileAt(p: Profile, t: number): number {
  const n = p.bins.length;
  if (!p.interpolate) return p.bins[Math.floor((phase(t, p.periodUs) / p.periodUs) * n) % n];
  const x = (phase(t, p.periodUs) / p.periodUs) * n - 0.5;
  const i0 = Math.floor(x);
  const f = x - i0;
  const a = p.bins[((i0 % n) + n) % n];
  const b = p.bins[(((i0 + 1) % n) + n) % n];
  return a + (b - a) * f;
}

/** The profile of `obs` and the baseline it gives at each reading; null when the cycle was not seen twice. */
function profileFit(obs: Observed, intervalUs: number, periodUs: number, maxBins: number): { profile: Profile; base: Float64Array } | null {
  const n = obs.ts.length;
  // A profile needs the cycle seen at least twice, or it only repeats the one day it saw.
  if (n < 3 || obs.ts[n - 1] - obs.ts[0] < 1.9 * periodUs) return null;
  const perPeriod = Math.round(periodUs / intervalUs);
  const bins = Math.max(1, Math.min(maxBins, perPeriod));
  const profile = fitProfile(obs, periodUs, bins, bins < perPeriod);
  if (!profile) return null;
  const base = new Float64Array(n);
  for (let i = 0; i < n; i++) base[i] = profileAt(profile, obs.ts[i]);
  return { profile, base };
}

/** The profile of `obs` plus the smoothed residual, with residual model `model` (fitted here when absent). */
function profileFiller(obs: Observed, intervalUs: number, periodUs: number, maxBins: number, model?: ArNoise): Filler | null {
  const fit = profileFit(obs, intervalUs, periodUs, maxBins);
  if (!fit) return null;
  const { profile, base } = fit;
  return residualFiller(obs.ts, obs.values, base, intervalUs, (ts) => ts.map((t) => profileAt(profile, t)), model);
}

function profileImputer(periodUs: number, maxBins: number): Imputer {
  return (obs, ctx) => profileFiller(obs, ctx.intervalUs, periodUs, maxBins);
}

/**
 * The residual model fitted once on the whole series and kept for its self-masked copies (hiding 5% of the readings
 * barely moves its three numbers); each copy still gets its own profile from what it kept.
 */
function prepareProfile(periodUs: number, maxBins: number): Preparer {
  return (full, ctx) => {
    const fit = profileFit(full, ctx.intervalUs, periodUs, maxBins);
    const model = fit ? residualModel(full.ts, full.values, fit.base, ctx.intervalUs) : undefined;
    return (obs, c) => profileFiller(obs, c.intervalUs, periodUs, maxBins, model);
  };
}

/** Daily profile in up to 288 bins (5 minutes). */
export const seasonalDailyImputer: Imputer = profileImputer(DAY_US, 288);
export const prepareSeasonalDaily: Preparer = prepareProfile(DAY_US, 288);
/** Weekly profile in up to 672 bins (15 minutes), so each bin still holds a few readings from two weeks. */
export const seasonalWeeklyImputer: Imputer = profileImputer(WEEK_US, 672);
export const prepareSeasonalWeekly: Preparer = prepareProfile(WEEK_US, 672);

/** The median as a constant baseline plus the smoothed residual, with residual model `model` (fitted when absent). */
function smoothFiller(obs: Observed, intervalUs: number, model?: ArNoise): Filler | null {
  const n = obs.ts.length;
  if (n < 3) return null;
  const m = median(obs.values);
  return residualFiller(obs.ts, obs.values, new Float64Array(n).fill(m), intervalUs, (ts) => new Float64Array(ts.length).fill(m), model);
}

/** A constant baseline (the median) and the smoothed residual: a noise-aware interpolation for series without a cycle. */
export const smoothImputer: Imputer = (obs, ctx) => smoothFiller(obs, ctx.intervalUs);

/** As prepareProfile: the residual model of the whole series, each copy's own median. */
export const prepareSmooth: Preparer = (full, ctx) => {
  const n = full.ts.length;
  const model = n < 3 ? undefined : residualModel(full.ts, full.values, new Float64Array(n).fill(median(full.values)), ctx.intervalUs);
  return (obs, c) => smoothFiller(obs, c.intervalUs, model);
};
