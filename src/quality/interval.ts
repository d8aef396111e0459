// A sensor's expected interval between readings: the sensors table's interval_s when it has one, else inferred from
// the readings as the median step, taken again over the steps near the first median so gaps and bursts don't pull it.

import { median } from './stats.js';

/** The median positive step of `ts` (µs), ignoring steps under half or over twice the plain median; NaN if < 2 points. */
export function inferIntervalUs(ts: ArrayLike<number>): number {
  const steps: number[] = [];
  for (let i = 1; i < ts.length; i++) {
    const d = ts[i] - ts[i - 1];
    if (d > 0) steps.push(d);
  }
  if (steps.length === 0) return NaN;
  const m0 = median(steps);
  const near = steps.filter((d) => d >= m0 / 2 && d <= m0 * 2);
  return near.length > 0 ? median(near) : m0;
}

/** The interval to expect (µs): the declared one when it is a positive number of seconds, else the inferred one. */
export function expectedIntervalUs(ts: ArrayLike<number>, declaredSeconds: number | null | undefined): { intervalUs: number; inferred: boolean } {
  if (declaredSeconds !== null && declaredSeconds !== undefined && Number.isFinite(declaredSeconds) && declaredSeconds > 0) {
    return { intervalUs: Math.round(declaredSeconds * 1e6), inferred: false };
  }
  return { intervalUs: inferIntervalUs(ts), inferred: true };
}
