// The live form: one detector per sensor that judges each reading as it arrives (range, robust z-score against a
// rolling window, rate of change), so the server can flag an anomaly within the request that delivered it. Small
// and self-contained; the batch detectors re-judge the same data with more context when `quality run` runs.
// Its alerts follow the batch rules: an incident opens at minScore and is re-alerted only when it grows.

import type { Anomaly } from '../contract.js';
import { settle } from './settings.js';
import { fmt, strengthScore } from './intervals.js';
import { RollingStats } from './rolling.js';
import type { AnomalyOptions, SensorContext, Settings } from './types.js';

export const ONLINE_WINDOW = 600;

export class OnlineDetector {
  private readonly s: Settings;
  private readonly level: RollingStats;
  private readonly steps: RollingStats;
  private prev = NaN;
  private prevTs = NaN;
  /** Readings since the last flagged one, and the open incident's start and highest score. */
  private quiet = Infinity;
  private incidentStart = 0;
  private incidentScore = 0;

  constructor(
    readonly sensorId: string,
    readonly asset: string | null = null,
    private readonly ctx: SensorContext = {},
    opts?: AnomalyOptions,
  ) {
    // A live server holds one of these per sensor: 600 readings (about 20 KB) unless the caller asks for more.
    this.s = settle({ window: ONLINE_WINDOW, ...opts });
    this.level = new RollingStats(this.s.window);
    this.steps = new RollingStats(this.s.window);
  }

  /**
   * Judges one reading (ts in µs, increasing) and learns from it. Returns an anomaly when this reading opens an
   * incident or raises its score by the escalation step; null otherwise (NaN values are ignored).
   */
  push(ts: number, value: number): Anomaly | null {
    if (Number.isNaN(value)) return null;
    const s = this.s;
    let best = 0;
    let detector = '';
    let reason = '';
    const { validMin, validMax } = this.ctx;
    if (validMin != null && value < validMin) [best, detector, reason] = [2, 'range', `value ${fmt(value)} below valid min ${fmt(validMin)} (sensors table)`];
    else if (validMax != null && value > validMax) [best, detector, reason] = [2, 'range', `value ${fmt(value)} above valid max ${fmt(validMax)} (sensors table)`];
    if (this.level.size >= s.warmup) {
      const med = this.level.median();
      const sigma = this.level.sigma(med, s.scaleQuantile);
      const z = sigma > 0 ? (value - med) / sigma : value === med ? 0 : Infinity;
      const asExtreme = value > med ? this.level.size - this.level.sorted.countBelow(value) : this.level.sorted.countAtMost(value);
      const strength = Math.abs(z) / s.zThreshold;
      if (strength > best && asExtreme < s.rare) {
        [best, detector] = [strength, 'zscore'];
        reason = `value ${fmt(value)} is ${Number.isFinite(z) ? fmt(Math.abs(z)) : 'infinitely many'} robust standard deviations ${z > 0 ? 'above' : 'below'} the median ${fmt(med)} of the last ${this.level.size} readings`;
      }
    }
    if (!Number.isNaN(this.prev) && this.steps.size >= s.warmup) {
      const d = value - this.prev;
      const med = this.steps.median();
      const sigma = this.steps.sigma(med, s.scaleQuantile);
      const z = sigma > 0 ? Math.abs(d - med) / sigma : d === med ? 0 : Infinity;
      const asBig = d > med ? this.steps.size - this.steps.sorted.countBelow(d) : this.steps.sorted.countAtMost(d);
      const strength = z / s.rateThreshold;
      if (strength > best && asBig < s.rare) {
        [best, detector] = [strength, 'spike'];
        reason = `jump from ${fmt(this.prev)} to ${fmt(value)} in ${fmt((ts - this.prevTs) / 1e6)} s, ${Number.isFinite(z) ? fmt(z) : 'infinitely many'} robust standard deviations of the recent one-reading changes`;
      }
      this.steps.push(d);
    } else if (!Number.isNaN(this.prev)) this.steps.push(value - this.prev);
    this.level.push(value);
    this.prev = value;
    this.prevTs = ts;

    const score = strengthScore(Math.min(best, 1e6));
    if (score === 0 || score < s.minScore) {
      this.quiet++;
      return null;
    }
    const open = this.quiet <= s.mergeGap;
    this.quiet = 0;
    if (!open) {
      this.incidentStart = ts;
      this.incidentScore = 0;
    } else if (score < this.incidentScore + s.escalation) {
      this.incidentScore = Math.max(this.incidentScore, score);
      return null;
    }
    this.incidentScore = Math.max(this.incidentScore, score);
    return { sensorId: this.sensorId, asset: this.asset, tsStart: this.incidentStart, tsEnd: ts, score, detector, reason };
  }
}
