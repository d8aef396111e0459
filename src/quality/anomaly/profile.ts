// The seasonal profile: what a sensor normally reads at this time of day (or of week), learnt causally from the
// same phase of the previous cycles. Per reading it gives the expected value and the residual's robust z, and
// whether the profile explains the series better than a flat level does (then it is "active").

import type { Series } from '../contract.js';
import { RollingStats, SortedWindow } from './rolling.js';

const DAY_US = 86_400_000_000;
export const PERIODS = [
  { name: 'daily', us: DAY_US },
  { name: 'weekly', us: 7 * DAY_US },
] as const;

export interface SeasonalFit {
  /** Robust z of the residual against the chosen profile; NaN where no profile is active. */
  z: Float64Array;
  /** The profile's expected value (median of the same phase in past cycles); NaN where inactive. */
  expected: Float64Array;
  /** Index into PERIODS of the profile used, -1 where none is active. */
  period: Int8Array;
}

export interface ProfileSettings {
  /** Trailing readings over which residual and level spreads are compared. */
  window: number;
  /** Past cycles a phase bin remembers. */
  cycles: number;
  /** The profile is active when its residual spread is at most this fraction of the flat level's spread. */
  explains: number;
  /** Quantile of |residual| the spread is read from (0.5: MAD). */
  scaleQuantile: number;
  /** Full past cycles a phase needs before the profile judges it. */
  minCycles: number;
}

/** Median reading interval, µs (0 for fewer than two readings). */
export function typicalInterval(ts: Float64Array): number {
  if (ts.length < 2) return 0;
  const step = Math.max(1, Math.floor(ts.length / 2000));
  const d: number[] = [];
  for (let i = step; i < ts.length; i += step) d.push((ts[i] - ts[i - step]) / step);
  d.sort((a, b) => a - b);
  return d[d.length >> 1];
}

/** One period's phase bins: each bin keeps its readings of the last `cycles` cycles, sorted. */
class PhaseBins {
  readonly bins: SortedWindow[];
  /** Per bin, (cycle, value) of what it holds, oldest first, to expire whole cycles. */
  private readonly held: { cycle: number; value: number }[][];
  readonly binUs: number;
  readonly resid: RollingStats;

  constructor(
    readonly periodUs: number,
    intervalUs: number,
    private readonly cycles: number,
    window: number,
  ) {
    // At least one reading per bin per cycle, at most 288 bins a day (5 minutes).
    const perDay = Math.max(1, Math.min(288, Math.floor(DAY_US / Math.max(intervalUs, 1))));
    this.binUs = DAY_US / perDay;
    const n = Math.round(periodUs / this.binUs);
    this.bins = Array.from({ length: n }, () => new SortedWindow(8));
    this.held = Array.from({ length: n }, () => []);
    this.resid = new RollingStats(window);
  }

  bin(ts: number): number {
    const phase = ((ts % this.periodUs) + this.periodUs) % this.periodUs;
    return Math.min(this.bins.length - 1, Math.floor(phase / this.binUs));
  }

  cycle(ts: number): number {
    return Math.floor(ts / this.periodUs);
  }

  /** Cycles of history the bin of ts holds before ts's own cycle. */
  depth(ts: number): number {
    const h = this.held[this.bin(ts)];
    if (h.length === 0) return 0;
    return this.cycle(ts) - h[0].cycle;
  }

  expected(ts: number): number {
    const b = this.bins[this.bin(ts)];
    return b.size > 0 ? b.median() : NaN;
  }

  add(ts: number, x: number): void {
    const k = this.bin(ts);
    const c = this.cycle(ts);
    const h = this.held[k];
    while (h.length > 0 && h[0].cycle <= c - this.cycles) this.bins[k].remove((h.shift() as { value: number }).value);
    h.push({ cycle: c, value: x });
    this.bins[k].add(x);
  }
}

/**
 * Fits daily and weekly profiles causally: reading i is compared with the profiles built from readings before it.
 * A profile takes part once its bin has `minCycles` full cycles of history; the one with the smaller residual spread wins,
 * and only if that spread is at most `explains` times the spread of the values around their median.
 */
export function fitSeasonal(series: Series, s: ProfileSettings, intervalUs = typicalInterval(series.ts)): SeasonalFit {
  const n = series.values.length;
  const out: SeasonalFit = { z: new Float64Array(n).fill(NaN), expected: new Float64Array(n).fill(NaN), period: new Int8Array(n).fill(-1) };
  const { ts, values } = series;
  // Only periods holding a few readings per cycle; whether a profile is used at all is decided reading by reading.
  const profiles = intervalUs > 0 ? PERIODS.filter((p) => p.us / intervalUs >= 4).map((p) => new PhaseBins(p.us, intervalUs, s.cycles, s.window)) : [];
  if (profiles.length === 0) return out;
  const level = new RollingStats(s.window);
  for (let i = 0; i < n; i++) {
    const x = values[i];
    if (Number.isNaN(x)) continue;
    let best = -1;
    let bestSigma = Infinity;
    const exp: number[] = [];
    for (let p = 0; p < profiles.length; p++) {
      const pr = profiles[p];
      exp[p] = pr.depth(ts[i]) >= s.minCycles ? pr.expected(ts[i]) : NaN;
      if (Number.isNaN(exp[p]) || pr.resid.size < Math.min(s.window / 4, pr.periodUs / intervalUs)) continue;
      const sigma = pr.resid.sigma(0, s.scaleQuantile);
      if (sigma < bestSigma) {
        bestSigma = sigma;
        best = p;
      }
    }
    if (best >= 0 && level.size >= s.window / 4) {
      const flat = level.sigma(level.median(), s.scaleQuantile);
      if (bestSigma <= s.explains * flat) {
        const idx = PERIODS.findIndex((q) => q.us === profiles[best].periodUs);
        const r = x - exp[best];
        out.period[i] = idx;
        out.expected[i] = exp[best];
        out.z[i] = bestSigma > 0 ? r / bestSigma : r === 0 ? 0 : Infinity * Math.sign(r);
      }
    }
    for (let p = 0; p < profiles.length; p++) {
      if (!Number.isNaN(exp[p])) profiles[p].resid.push(x - exp[p]);
      profiles[p].add(ts[i], x);
    }
    level.push(x);
  }
  return out;
}
