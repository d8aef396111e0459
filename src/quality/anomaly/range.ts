// Range: a reading outside the valid_min/valid_max the sensors table gives. The only detector that needs no
// history: the limit is physical (a transmitter's span), so one reading past it is already an anomaly.

import type { Series } from '../contract.js';
import { fmt, RunBuilder } from './intervals.js';
import type { Detection, SensorContext, Settings } from './types.js';

export function detectRange(series: Series, s: Settings, ctx: SensorContext): Detection[] {
  const lo = ctx.validMin ?? null;
  const hi = ctx.validMax ?? null;
  if (lo === null && hi === null) return [];
  // Excess is measured against the valid span, or against the limit's own size when only one limit is known.
  const span = lo !== null && hi !== null && hi > lo ? hi - lo : Math.max(Math.abs(lo ?? 0), Math.abs(hi ?? 0), 1);
  const runs = new RunBuilder(series, { detector: 'range', mergeGap: s.mergeGap, minScore: s.minScore, escalation: s.escalation });
  const { values } = series;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isNaN(x)) continue;
    const below = lo !== null && x < lo;
    const above = hi !== null && x > hi;
    if (!below && !above) continue;
    const excess = below ? (lo as number) - x : x - (hi as number);
    // Strength 2 (score 0.75) at the limit, growing with the excess: out of range is never a borderline call.
    const strength = 2 + (10 * excess) / span;
    runs.flag(i, Math.min(strength, 1e6), () => (below ? `value ${fmt(x)} below valid min ${fmt(lo as number)} (sensors table)` : `value ${fmt(x)} above valid max ${fmt(hi as number)} (sensors table)`));
  }
  return runs.finish();
}
