// Spikes and rate of change, against the one-reading changes the sensor normally makes (robust z of the first
// difference, trailing window). A spike jumps and comes straight back: judged when the reading after it arrives.
// A jump that stays is a rate-of-change fault only when far bigger still (a step is mostly the shift detector's).

import type { Series } from '../contract.js';
import { fmt, RunBuilder } from './intervals.js';
import { RollingStats } from './rolling.js';
import type { Detection, Settings } from './types.js';

/** How a step of this size compares with the window's steps: robust z, and how many were at least as big. */
function judge(diffs: RollingStats, d: number, q: number): { z: number; asBig: number } {
  const med = diffs.median();
  const sigma = diffs.sigma(med, q);
  const z = sigma > 0 ? Math.abs(d - med) / sigma : d === med ? 0 : Infinity;
  const asBig = d > med ? diffs.size - diffs.sorted.countBelow(d) : diffs.sorted.countAtMost(d);
  return { z, asBig };
}

export function detectSpikes(series: Series, s: Settings): Detection[] {
  const runs = new RunBuilder(series, { detector: 'spike', mergeGap: s.mergeGap, minScore: s.minScore, escalation: s.escalation });
  const diffs = new RollingStats(s.window);
  const { values, ts } = series;
  // The last two readings with values: b before a (a is the newest).
  let a = -1;
  let b = -1;
  // The step into `a` joins the window only after `a` is judged as a spike, so a spike never vouches for itself.
  let pending = NaN;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isNaN(x)) continue;
    if (a >= 0 && diffs.size >= s.warmup) {
      // Spike: reading a stood out from both neighbours, in the same direction. Its way back is no jump of its own.
      let spiked = false;
      const seen = diffs.size;
      if (b >= 0) {
        const into = values[a] - values[b];
        const back = values[a] - x;
        if (Math.sign(into) === Math.sign(back) && into !== 0) {
          const small = Math.abs(into) < Math.abs(back) ? into : back;
          const spike = judge(diffs, small, s.scaleQuantile);
          const strength = spike.z / s.spikeThreshold;
          if (strength >= 1 && spike.asBig < s.rare) {
            spiked = true;
            const [before, peak, after] = [values[b], values[a], x];
            runs.flag(
              i,
              Math.min(strength, 1e6),
              () => `spike from ${fmt(before)} to ${fmt(peak)} and back to ${fmt(after)}: ${fmt(spike.z)} robust standard deviations of the one-reading changes of the last ${seen} readings`,
              a,
              a,
            );
          }
        }
      }
      // Rate of change: the step into reading i.
      const up = x - values[a];
      const jump = judge(diffs, up, s.scaleQuantile);
      const jumpStrength = jump.z / s.rateThreshold;
      if (!spiked && jumpStrength >= 1 && jump.asBig < s.rare) {
        const from = values[a];
        const dt = (ts[i] - ts[a]) / 1e6;
        runs.flag(i, Math.min(jumpStrength, 1e6), () => `jump from ${fmt(from)} to ${fmt(x)} in ${fmt(dt)} s, ${fmt(jump.z)} robust standard deviations of the one-reading changes of the last ${seen} readings`);
      }
    }
    if (!Number.isNaN(pending)) diffs.push(pending);
    pending = a >= 0 ? x - values[a] : NaN;
    b = a;
    a = i;
  }
  return runs.finish();
}
