// Seasonal residual: a reading far from what the same time of day (or week) read in past cycles, measured in robust
// standard deviations of the profile's residuals. Catches the missing evening peak that no flat threshold sees.

import type { Series } from '../contract.js';
import { fmt, RunBuilder } from './intervals.js';
import { PERIODS, type SeasonalFit } from './profile.js';
import type { Detection, Settings } from './types.js';

export function detectSeasonal(series: Series, s: Settings, fit: SeasonalFit): Detection[] {
  const runs = new RunBuilder(series, { detector: 'seasonal', mergeGap: s.mergeGap, minScore: s.minScore, escalation: s.escalation });
  const { values, ts } = series;
  for (let i = 0; i < values.length; i++) {
    const z = fit.z[i];
    if (Number.isNaN(z)) continue;
    const strength = Math.abs(z) / s.zThreshold;
    if (strength >= 1) {
      runs.flag(i, Math.min(strength, 1e6), () => {
        const p = PERIODS[fit.period[i]];
        const at = new Date(Math.floor(ts[i] / 1000)).toISOString();
        const when = p.name === 'daily' ? `at ${at.slice(11, 16)} UTC` : `on ${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][new Date(Math.floor(ts[i] / 1000)).getUTCDay()]} ${at.slice(11, 16)} UTC`;
        const dev = Number.isFinite(z) ? `${fmt(Math.abs(z))} robust standard deviations of the profile's residuals` : 'where the profile never varies';
        return `value ${fmt(values[i])} ${when} is ${z > 0 ? 'above' : 'below'} the ${p.name} profile's ${fmt(fit.expected[i])} by ${dev}`;
      });
    }
  }
  return runs.finish();
}

/** Readings the active profile finds normal: a flat z-score must not flag what happens every day at this hour. */
export function explainedBy(fit: SeasonalFit, zThreshold: number): Uint8Array {
  const out = new Uint8Array(fit.z.length);
  for (let i = 0; i < out.length; i++) if (fit.period[i] >= 0 && Math.abs(fit.z[i]) < zThreshold) out[i] = 1;
  return out;
}
