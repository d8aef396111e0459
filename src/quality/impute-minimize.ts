// Nelder-Mead minimisation for the imputers' maximum-likelihood fits: a handful of parameters, a smooth objective
// that is cheap enough to call a few hundred times, and no gradient at hand.

export interface Minimum {
  x: number[];
  value: number;
  evaluations: number;
}

/**
 * Minimises `f` from `start` with initial steps `step` (one per coordinate). Stops when the simplex's values differ
 * by less than `tol` or after `maxEval` calls. A non-finite value counts as +Infinity, so a bad region is left.
 */
export function nelderMead(f: (x: number[]) => number, start: number[], step: number[], maxEval = 400, tol = 1e-7): Minimum {
  const d = start.length;
  let evaluations = 0;
  const call = (x: number[]): number => {
    evaluations++;
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
  const pts: number[][] = [start.slice()];
  for (let i = 0; i < d; i++) {
    const p = start.slice();
    p[i] += step[i];
    pts.push(p);
  }
  const vals = pts.map(call);
  const along = (from: number[], to: number[], t: number): number[] => from.map((v, i) => v + t * (to[i] - v));
  while (evaluations < maxEval) {
    const order = vals.map((_, i) => i).sort((a, b) => vals[a] - vals[b]);
    const sortedPts = order.map((i) => pts[i]);
    const sortedVals = order.map((i) => vals[i]);
    pts.splice(0, pts.length, ...sortedPts);
    vals.splice(0, vals.length, ...sortedVals);
    if (Math.abs(vals[d] - vals[0]) <= tol * (Math.abs(vals[0]) + tol)) break;
    const centroid = new Array<number>(d).fill(0);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) centroid[j] += pts[i][j] / d;
    const worst = pts[d];
    const reflected = along(centroid, worst, -1);
    const fr = call(reflected);
    if (fr < vals[0]) {
      const expanded = along(centroid, worst, -2);
      const fe = call(expanded);
      if (fe < fr) {
        pts[d] = expanded;
        vals[d] = fe;
      } else {
        pts[d] = reflected;
        vals[d] = fr;
      }
      continue;
    }
    if (fr < vals[d - 1]) {
      pts[d] = reflected;
      vals[d] = fr;
      continue;
    }
    const contracted = fr < vals[d] ? along(centroid, worst, -0.5) : along(centroid, worst, 0.5);
    const fc = call(contracted);
    if (fc < Math.min(fr, vals[d])) {
      pts[d] = contracted;
      vals[d] = fc;
      continue;
    }
    // Shrink toward the best point.
    for (let i = 1; i <= d; i++) {
      pts[i] = along(pts[0], pts[i], 0.5);
      vals[i] = call(pts[i]);
    }
  }
  let best = 0;
  for (let i = 1; i < vals.length; i++) if (vals[i] < vals[best]) best = i;
  return { x: pts[best], value: vals[best], evaluations };
}
