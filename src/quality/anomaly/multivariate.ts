// Multivariate: the sensors of one asset move together (flow and pump current, inlet and outlet temperature), so a
// reading can be normal for each sensor and still impossible for the set. Values are aligned on a common grid,
// standardised robustly per sensor, and each row's Mahalanobis distance is taken against the covariance of the
// trailing rows that were themselves normal. Causal, like the univariate detectors.

import type { Series } from '../contract.js';
import { fmt, RunBuilder } from './intervals.js';
import { typicalInterval } from './profile.js';
import { RollingStats } from './rolling.js';
import type { Detection, Settings } from './types.js';

export interface Grid {
  ts: Float64Array;
  /** values[j][r]: sensor j's last reading at or before grid row r (carried at most two steps), NaN if none. */
  values: Float64Array[];
}

/** Aligns members on a grid of the slowest member's interval: per cell, the sensor's latest reading in the cell. */
export function alignMembers(members: Series[]): Grid {
  const step = Math.max(...members.map((m) => typicalInterval(m.ts)));
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of members) {
    if (m.ts.length === 0) continue;
    lo = Math.min(lo, m.ts[0]);
    hi = Math.max(hi, m.ts[m.ts.length - 1]);
  }
  if (!(step > 0) || !(hi >= lo)) return { ts: new Float64Array(0), values: members.map(() => new Float64Array(0)) };
  const rows = Math.floor((hi - lo) / step) + 1;
  const ts = new Float64Array(rows);
  for (let r = 0; r < rows; r++) ts[r] = lo + r * step; // a row is named by its cell's start
  const values = members.map((m) => {
    const v = new Float64Array(rows).fill(NaN);
    for (let i = 0; i < m.ts.length; i++) if (!Number.isNaN(m.values[i])) v[Math.min(rows - 1, Math.floor((m.ts[i] - lo) / step))] = m.values[i];
    // Carry a value over up to two empty cells: members rarely tick in the same cell.
    for (let r = 1, age = 0; r < rows; r++) {
      if (Number.isNaN(v[r]) && !Number.isNaN(v[r - 1]) && age < 2) {
        v[r] = v[r - 1];
        age++;
      } else age = 0;
    }
    return v;
  });
  return { ts, values };
}

/** Solves (A + ridge I) x = b by Cholesky; A symmetric positive semi-definite (p x p, row-major). */
function solve(a: Float64Array, b: Float64Array, p: number, ridge: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * p + j] + (i === j ? ridge : 0);
      for (let k = 0; k < j; k++) sum -= l[i * p + k] * l[j * p + k];
      l[i * p + j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / l[j * p + j];
    }
  }
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i * p + k] * y[k];
    y[i] = sum / l[i * p + i];
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < p; k++) sum -= l[k * p + i] * x[k];
    x[i] = sum / l[i * p + i];
  }
  return x;
}

/** The chi-square quantile by Wilson-Hilferty: accurate to a few percent for p >= 2, enough for a threshold. */
function chiSquareQuantile(p: number, z: number): number {
  const a = 2 / (9 * p);
  return p * (1 - a + z * Math.sqrt(a)) ** 3;
}

/**
 * Flags grid rows whose squared Mahalanobis distance exceeds the chi-square quantile at `mvThreshold` (as a
 * one-sided normal z: 5 ~ 3e-7). The covariance is refitted every 25 rows from the trailing `window` normal rows.
 */
export function detectMultivariate(members: Series[], s: Settings): Detection[] {
  const p = members.length;
  if (p < 2) return [];
  const asset = members.find((m) => m.asset !== null)?.asset ?? null;
  const grid = alignMembers(members);
  const rows = grid.ts.length;
  const gridSeries: Series = { sensorId: null as unknown as string, asset, ts: grid.ts, values: new Float64Array(rows), quality: new Int32Array(rows) };
  const runs = new RunBuilder(gridSeries, { detector: 'multivariate', mergeGap: s.mergeGap, minScore: s.minScore, escalation: s.escalation });
  const level = members.map(() => new RollingStats(s.window));
  const limit = chiSquareQuantile(p, s.mvThreshold);
  // Standardised normal rows kept for the covariance (ring of `window` rows).
  const kept: Float64Array[] = [];
  let fit: { mean: Float64Array; cov: Float64Array } | null = null;
  let sinceFit = Infinity;
  const z = new Float64Array(p);
  const center = new Float64Array(p);
  const scale = new Float64Array(p);
  for (let r = 0; r < rows; r++) {
    let complete = true;
    for (let j = 0; j < p; j++) if (Number.isNaN(grid.values[j][r])) complete = false;
    if (!complete) continue;
    const ready = level[0].size >= s.warmup;
    for (let j = 0; j < p; j++) {
      center[j] = level[j].median();
      scale[j] = level[j].sigma(center[j]) || 1;
      z[j] = (grid.values[j][r] - center[j]) / scale[j];
    }
    if (ready && sinceFit >= 25 && kept.length >= s.warmup) {
      fit = covariance(kept, p);
      sinceFit = 0;
    }
    let normal = true;
    if (ready && fit) {
      const dz = z.map((zj, j) => zj - (fit as { mean: Float64Array }).mean[j]);
      const w = solve(fit.cov, dz, p, 1e-3);
      let d2 = 0;
      for (let j = 0; j < p; j++) d2 += dz[j] * w[j];
      const strength = d2 / limit;
      if (strength >= 1) {
        normal = false;
        const row = r;
        const parts = Array.from(dz, (zj, j) => ({ j, c: zj * w[j] })).sort((a, b) => b.c - a.c).slice(0, Math.min(3, p));
        const vals = parts.map(({ j }) => ({ id: members[j].sensorId, v: grid.values[j][row], m: center[j], zj: z[j] }));
        runs.flag(r, Math.min(strength, 1e6), () => {
          const what = vals.map((x) => `${x.id} ${fmt(x.v)} (median ${fmt(x.m)}, ${x.zj >= 0 ? '+' : ''}${fmt(x.zj)} robust sd)`).join(', ');
          return `the ${p} sensors of ${asset ?? 'the asset'} together are ${fmt(Math.sqrt(d2))} Mahalanobis units from their joint normal (limit ${fmt(Math.sqrt(limit))}); most unusual: ${what}`;
        });
      }
    }
    sinceFit++;
    for (let j = 0; j < p; j++) level[j].push(grid.values[j][r]);
    // Rows standardised against a warmed-up window only: before that z is meaningless.
    if (normal && ready) {
      kept.push(Float64Array.from(z));
      if (kept.length > s.window) kept.shift();
    }
  }
  return runs.finish().map((d) => ({ ...d, sensorId: null }));
}

function covariance(rows: Float64Array[], p: number): { mean: Float64Array; cov: Float64Array } {
  const n = rows.length;
  const mean = new Float64Array(p);
  for (const x of rows) for (let j = 0; j < p; j++) mean[j] += x[j] / n;
  const c = new Float64Array(p * p);
  for (const x of rows) {
    for (let i = 0; i < p; i++) {
      const di = x[i] - mean[i];
      for (let j = 0; j <= i; j++) c[i * p + j] += (di * (x[j] - mean[j])) / (n - 1);
    }
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) c[j * p + i] = c[i * p + j];
  return { mean, cov: c };
}
