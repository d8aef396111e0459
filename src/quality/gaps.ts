// Gaps in one sensor's history: wherever two consecutive readings are further apart than the expected interval allows,
// a row of the `gaps` table with the readings either side and how many readings the interval says are missing.

import type { Series } from './contract.js';

export interface Gap {
  sensorId: string;
  /** The last reading before the gap and the first after it (µs since the epoch): exclusive bounds. */
  start: number;
  end: number;
  /** Readings the expected interval puts strictly between start and end: round((end - start) / interval) - 1. */
  missing: number;
  intervalUs: number;
}

export interface GapOptions {
  /** Report gaps of at least this many missing readings (default 1). */
  minMissing?: number;
}

/** Missing readings between two readings `stepUs` apart; a jittered step (under 1.5 intervals) misses none. */
export function missingBetween(stepUs: number, intervalUs: number): number {
  if (!(intervalUs > 0)) return 0;
  return Math.max(0, Math.round(stepUs / intervalUs) - 1);
}

/** The gaps of a series, in time order. */
export function findGaps(series: Pick<Series, 'sensorId' | 'ts'>, intervalUs: number, opts: GapOptions = {}): Gap[] {
  const min = Math.max(1, opts.minMissing ?? 1);
  const out: Gap[] = [];
  const ts = series.ts;
  for (let i = 1; i < ts.length; i++) {
    const missing = missingBetween(ts[i] - ts[i - 1], intervalUs);
    if (missing >= min) out.push({ sensorId: series.sensorId, start: ts[i - 1], end: ts[i], missing, intervalUs });
  }
  return out;
}
