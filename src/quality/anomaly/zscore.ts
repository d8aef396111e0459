// Robust rolling z-score: each reading against the median of the readings before it (a trailing window) in units of
// a robust spread (by default the 90th percentile of |x - median| scaled to a normal sigma; the MAD with
// scaleQuantile 0.5), so one outlier cannot inflate the yardstick that judges it; and rare: fewer than `rare` readings
// of the window were as extreme. Causal: reading i is judged on readings before it.

import type { Series } from '../contract.js';
import { fmt, RunBuilder } from './intervals.js';
import { RollingStats } from './rolling.js';
import type { Detection, Settings } from './types.js';

/** `explained` marks readings another model (the seasonal profile) finds normal: they teach the window but are not flagged. */
export function detectZscore(series: Series, s: Settings, explained?: Uint8Array): Detection[] {
  const runs = new RunBuilder(series, { detector: 'zscore', mergeGap: s.mergeGap, minScore: s.minScore, escalation: s.escalation });
  const win = new RollingStats(s.window);
  const { values } = series;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isNaN(x)) continue;
    if (win.size >= s.warmup) {
      const med = win.median();
      const sigma = win.sigma(med, s.scaleQuantile);
      const z = sigma > 0 ? (x - med) / sigma : x === med ? 0 : Infinity * Math.sign(x - med);
      const strength = Math.abs(z) / s.zThreshold;
      // As extreme as `rare` or more of the window's readings: it happens here, however far from the median.
      const asExtreme = x > med ? win.size - win.sorted.countBelow(x) : win.sorted.countAtMost(x);
      if (strength >= 1 && !explained?.[i] && asExtreme < s.rare) {
        const lo = win.sorted.quantile(0.01);
        const hi = win.sorted.quantile(0.99);
        const size = win.size;
        runs.flag(i, Math.min(strength, 1e6), () =>
          `value ${fmt(x)} is ${Number.isFinite(z) ? fmt(Math.abs(z)) : 'infinitely many'} robust standard deviations ${z > 0 ? 'above' : 'below'} the median ${fmt(med)} of the last ${size} readings (1st-99th percentile ${fmt(lo)} to ${fmt(hi)})`,
        );
      }
    }
    win.push(x);
  }
  return runs.finish();
}
