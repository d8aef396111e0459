// The Granger-style test behind a lead: does the leader's past explain the follower's differences beyond what the
// follower's own past (and the leaders already accepted) explain? An F test on nested least-squares fits, with the
// partial R² as the effect size, since with tens of thousands of rows almost any dependence is "significant".

import { leaderAt, type FollowerRows, type LeaderDiffs } from './causal-align.js';
import { fSurvival, leastSquares } from './stats.js';

export interface LaggedBlock {
  diffs: LeaderDiffs;
  lagsUs: number[];
}

export interface GrangerResult {
  f: number;
  pValue: number;
  /** Share of the restricted model's residual variance the candidate explains. */
  partialR2: number;
  n: number;
}

/** F test of adding `candidate` to a regression of dy on an intercept, `ownLags` own lags and `given` blocks. */
export function grangerTest(rows: FollowerRows, ownLags: number, given: LaggedBlock[], candidate: LaggedBlock): GrangerResult | null {
  const blocks: LaggedBlock[] = [];
  if (ownLags > 0) blocks.push({ diffs: rows.own, lagsUs: Array.from({ length: ownLags }, (_, j) => (j + 1) * rows.spanUs) });
  blocks.push(...given);
  const kr = 1 + blocks.reduce((s, b) => s + b.lagsUs.length, 0);
  const ku = kr + candidate.lagsUs.length;
  const all = [...blocks, candidate];
  const xr: number[] = [];
  const xu: number[] = [];
  const y: number[] = [];
  const row = new Float64Array(ku);
  for (let i = 0; i < rows.t.length; i++) {
    row[0] = 1;
    let c = 1;
    let ok = true;
    for (const b of all) {
      for (const lag of b.lagsUs) {
        const v = leaderAt(b.diffs, rows.t[i], lag);
        if (Number.isNaN(v)) {
          ok = false;
          break;
        }
        row[c++] = v;
      }
      if (!ok) break;
    }
    if (!ok) continue;
    for (let j = 0; j < kr; j++) xr.push(row[j]);
    for (let j = 0; j < ku; j++) xu.push(row[j]);
    y.push(rows.dy[i]);
  }
  const n = y.length;
  if (n <= ku + 10) return null;
  const yy = Float64Array.from(y);
  const r = leastSquares(Float64Array.from(xr), yy, kr);
  const u = leastSquares(Float64Array.from(xu), yy, ku);
  if (!r || !u) return null;
  const q = ku - kr;
  const gain = Math.max(0, r.rss - u.rss);
  const f = u.rss > 0 ? gain / q / (u.rss / (n - ku)) : Infinity;
  return { f, pValue: fSurvival(f, q, n - ku), partialR2: r.rss > 0 ? gain / r.rss : 0, n };
}
