// A series laid on its own regular time grid (NaN where a step has no reading), so looking a value up at any time
// is O(1): what the ridge imputer and the lead-lag search do millions of times.

export interface Grid {
  t0: number;
  stepUs: number;
  values: Float64Array;
}

/**
 * Each reading goes to its nearest grid slot; a later reading in the same slot wins. A step so small that the grid
 * would hold over 20 slots per reading (a mis-inferred interval) is widened, to keep memory bounded.
 */
export function toGrid(ts: ArrayLike<number>, values: ArrayLike<number>, step: number): Grid {
  const n = ts.length;
  if (n === 0 || !(step > 0)) return { t0: 0, stepUs: step > 0 ? step : 1, values: new Float64Array(0) };
  const t0 = ts[0];
  const stepUs = Math.max(step, (ts[n - 1] - t0) / (20 * n));
  const size = Math.round((ts[n - 1] - t0) / stepUs) + 1;
  const out = new Float64Array(size).fill(NaN);
  for (let i = 0; i < n; i++) out[Math.round((ts[i] - t0) / stepUs)] = values[i];
  return { t0, stepUs, values: out };
}

/** The value in the slot nearest t, NaN when that slot is empty or t is off the grid. */
export function gridAt(g: Grid, t: number): number {
  const k = Math.round((t - g.t0) / g.stepUs);
  return k >= 0 && k < g.values.length ? g.values[k] : NaN;
}
