// Level shift: the median of the last few readings has moved far from the trailing window before them, and few of
// that window's readings ever went so far. Slower than a point outlier but blind to single spikes, so it catches
// a sensor drifting or dropping to a level it never held, which a spike-tuned z-score lets through.

import type { Series } from '../contract.js';
import { fmt, RunBuilder } from './intervals.js';
import { RollingStats, SortedWindow } from './rolling.js';
import type { Detection, Settings } from './types.js';

/** `explained` marks readings the seasonal profile finds normal: a level reached every day at this hour is no shift. */
export function detectShifts(series: Series, s: Settings, explained?: Uint8Array): Detection[] {
  const runs = new RunBuilder(series, { detector: 'shift', mergeGap: s.mergeGap, minScore: s.minScore, escalation: s.escalation });
  const k = s.shiftReadings;
  const recent: number[] = [];
  const recentIdx: number[] = [];
  const short = new SortedWindow(k);
  const long = new RollingStats(s.window);
  const { values } = series;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isNaN(x)) continue;
    recent.push(x);
    recentIdx.push(i);
    short.add(x);
    if (recent.length > k) {
      // The oldest recent reading leaves the short window and joins the long one.
      const old = recent.shift() as number;
      recentIdx.shift();
      short.remove(old);
      long.push(old);
    }
    if (recent.length < k || long.size < s.warmup) continue;
    const level = short.median();
    const med = long.median();
    const sigma = long.sigma(med, s.scaleQuantile);
    const z = sigma > 0 ? (level - med) / sigma : level === med ? 0 : Infinity * Math.sign(level - med);
    const strength = Math.abs(z) / s.shiftThreshold;
    if (strength < 1) continue;
    const beyond = level > med ? long.size - long.sorted.countBelow(level) : long.sorted.countAtMost(level);
    if (beyond / long.size >= s.shiftRare || explained?.[i]) continue;
    const size = long.size;
    // The shift began at the first recent reading nearer the new level than the old one.
    const mid = (level + med) / 2;
    let from = recentIdx[recentIdx.length - 1];
    for (let k = 0; k < recent.length; k++) {
      if (level > med ? recent[k] > mid : recent[k] < mid) {
        from = recentIdx[k];
        break;
      }
    }
    runs.flag(
      i,
      Math.min(strength, 1e6),
      () =>
        `the median of the last ${k} readings, ${fmt(level)}, is ${Number.isFinite(z) ? fmt(Math.abs(z)) : 'infinitely many'} robust standard deviations ${z > 0 ? 'above' : 'below'} the median ${fmt(med)} of the ${size} readings before; ${fmt((100 * beyond) / size)}% of those went as far`,
      from,
    );
  }
  return runs.finish();
}
