// Aligning two sensors for a lead-lag test: both differenced over the same span (so slow drifts and daily cycles,
// which make every pair look related, drop out), robustly standardised and clipped (so one spike cannot make a
// correlation), and the leader looked up at any lag in O(1) on its own grid.

import type { Observed } from './impute-types.js';
import { toGrid, type Grid } from './grid.js';
import { median, robustScale } from './stats.js';

/** One sensor prepared for the tests: its grid and interval. */
export interface Member {
  sensorId: string;
  intervalUs: number;
  obs: Observed;
  grid: Grid;
}

export function member(sensorId: string, obs: Observed, intervalUs: number): Member {
  return { sensorId, intervalUs, obs, grid: toGrid(obs.ts, obs.values, intervalUs) };
}

const CLIP = 5;

/** Differences of a grid over `span` slots, standardised by median/MAD and clipped at ±5; NaN where either is missing. */
export function differenced(g: Grid, span: number): Float64Array {
  const v = g.values;
  const d = new Float64Array(v.length).fill(NaN);
  for (let i = span; i < v.length; i++) d[i] = v[i] - v[i - span];
  const finite = d.filter((x) => Number.isFinite(x));
  const c = median(finite);
  const s = robustScale(finite, c) || stdOf(finite, c);
  if (!(s > 0)) return d.fill(NaN);
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) continue;
    const z = (d[i] - c) / s;
    d[i] = z > CLIP ? CLIP : z < -CLIP ? -CLIP : z;
  }
  return d;
}

function stdOf(xs: Float64Array, c: number): number {
  let ss = 0;
  for (const x of xs) ss += (x - c) ** 2;
  return xs.length > 1 ? Math.sqrt(ss / (xs.length - 1)) : 0;
}

/**
 * The follower's differenced values at rows spaced one span apart (non-overlapping differences, so the rows are
 * close to independent), newest `maxRows` only; and for each row its time, for looking up leaders.
 */
export interface FollowerRows {
  /** Span of the differences, µs. */
  spanUs: number;
  t: Float64Array;
  dy: Float64Array;
  /** The follower's own differences on its grid, for its own past in the Granger test. */
  own: LeaderDiffs;
}

export function followerRows(y: Member, spanUs: number, maxRows: number): FollowerRows {
  const spanSlots = Math.max(1, Math.round(spanUs / y.intervalUs));
  const d = differenced(y.grid, spanSlots);
  const t: number[] = [];
  const dy: number[] = [];
  for (let i = d.length - 1; i >= spanSlots && t.length < maxRows; i -= spanSlots) {
    if (!Number.isFinite(d[i])) {
      // Step back one slot at a time through missing data so the rows re-align after a gap.
      i += spanSlots - 1;
      continue;
    }
    t.push(y.grid.t0 + i * y.grid.stepUs);
    dy.push(d[i]);
  }
  t.reverse();
  dy.reverse();
  return { spanUs: spanSlots * y.intervalUs, t: Float64Array.from(t), dy: Float64Array.from(dy), own: { grid: y.grid, d } };
}

/** A leader's differences over the follower's span, on the leader's grid. */
export interface LeaderDiffs {
  grid: Grid;
  d: Float64Array;
}

export function leaderDiffs(x: Member, spanUs: number): LeaderDiffs {
  return { grid: x.grid, d: differenced(x.grid, Math.max(1, Math.round(spanUs / x.intervalUs))) };
}

/** The leader's difference ending `lagUs` before time t (NaN when missing). */
export function leaderAt(l: LeaderDiffs, t: number, lagUs: number): number {
  const k = Math.round((t - lagUs - l.grid.t0) / l.grid.stepUs);
  return k >= 0 && k < l.d.length ? l.d[k] : NaN;
}

/** Pearson correlation of dy with the leader lagged by lagUs, over rows where both exist. */
export function laggedCorrelation(rows: FollowerRows, l: LeaderDiffs, lagUs: number): { r: number; n: number } {
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  const step = l.grid.stepUs;
  const t0 = l.grid.t0;
  const d = l.d;
  for (let i = 0; i < rows.t.length; i++) {
    const k = Math.round((rows.t[i] - lagUs - t0) / step);
    if (k < 0 || k >= d.length) continue;
    const x = d[k];
    if (Number.isNaN(x)) continue;
    const y = rows.dy[i];
    n++;
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
  }
  if (n < 3) return { r: 0, n };
  const cov = sxy - (sx * sy) / n;
  const vx = sxx - (sx * sx) / n;
  const vy = syy - (sy * sy) / n;
  return { r: vx > 0 && vy > 0 ? cov / Math.sqrt(vx * vy) : 0, n };
}
