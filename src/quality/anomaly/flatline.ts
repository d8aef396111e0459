// Flatline (stuck value): the same reading repeated for longer than this sensor repeats itself. A stuck transmitter
// keeps reporting good quality, so only the run length gives it away. The habit a run is held against is the longest
// repeat of the same value in the trailing window, or of any other value except the sensor's resting one (the 0 a
// stopped pump's flow reads for hours must not excuse a flow frozen at 55.3). The bar is twice that, and at least
// the option. A run only grows, so it alerts once, when its score first reaches minScore.

import type { Series } from '../contract.js';
import { fmt, isoUs, RunBuilder } from './intervals.js';
import type { Detection, Settings } from './types.js';

/** Two readings are "the same" to within a relative 1e-9: float noise in a stored value is not movement. */
function same(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

interface Run {
  end: number;
  length: number;
  value: number;
}

/** The longest past run this run's value may be compared with (1 when the window has no repeats). */
function habit(past: readonly Run[], value: number): number {
  let rest: Run | null = null;
  for (const r of past) if (!rest || r.length > rest.length) rest = r;
  let longest = 1;
  for (const r of past) {
    if (same(r.value, value) || (rest && !same(r.value, rest.value))) longest = Math.max(longest, r.length);
  }
  return longest;
}

export function detectFlatlines(series: Series, s: Settings): Detection[] {
  const runs = new RunBuilder(series, { detector: 'flatline', mergeGap: 0, minScore: s.minScore, escalation: Infinity });
  const { values, ts } = series;
  // Completed runs of two or more readings that ended within the trailing window.
  const past: Run[] = [];
  let start = -1;
  let length = 0;
  let last = -1;
  let normal = 1;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isNaN(x)) continue;
    if (last >= 0 && same(x, values[last])) length++;
    else {
      if (last >= 0) {
        if (length > 1) past.push({ end: last, length, value: values[last] });
        while (past.length > 0 && past[0].end < i - s.window) past.shift();
        runs.close();
      }
      start = i;
      length = 1;
    }
    last = i;
    // The habit is read once per run, when it becomes long enough to matter.
    if (length === s.flatlineReadings) normal = habit(past, x);
    if (length < s.flatlineReadings) continue;
    const needed = Math.max(s.flatlineReadings, 2 * normal);
    if (length < needed) continue;
    // How far past the sensor's habit: 30 repeats of a sensor that never repeats is beyond doubt.
    const strength = Math.max(1, length / (2 * normal));
    const [from, n, value, habitual] = [start, length, x, normal];
    runs.flag(
      i,
      Math.min(strength, 1e6),
      () => `value ${fmt(value)} repeated ${n} times since ${isoUs(ts[from])} (${fmt((ts[i] - ts[from]) / 3.6e9)} h); the longest comparable repeat in the ${s.window} readings before was ${habitual}`,
      from,
    );
  }
  runs.close();
  return runs.finish();
}
