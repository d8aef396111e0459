// Turns a detector's per-reading verdicts into Detection intervals: flagged readings closer than the merge gap form
// one interval, scored by its strongest reading and explained by a reason the detector writes for that reading.

import type { Series } from '../contract.js';
import type { Detection } from './types.js';

/**
 * Maps a detector's strength (how far past its own threshold a reading is; 1 = at the threshold) onto [0.5, 1):
 * one scale for every detector, so a single cut-off means the same everywhere.
 */
export function strengthScore(strength: number): number {
  if (!(strength >= 1)) return 0;
  return 1 - 0.5 / strength;
}

export interface RunBuilderOptions {
  detector: string;
  /** Readings between two flagged ones (exclusive) up to which they stay one interval. */
  mergeGap: number;
  /** Alerts below this are not sent, and intervals that never reach it are dropped. */
  minScore: number;
  /** How much an open interval's score must grow before the growth is alerted again. */
  escalation: number;
}

/** Collects flagged readings in order and closes intervals as the gap after the last one exceeds the merge gap. */
export class RunBuilder {
  readonly out: Detection[] = [];
  private start = -1;
  private last = -1;
  private end = -1;
  private detected = -1;
  private bestStrength = 0;
  private bestReason: () => string = () => '';
  private alerts: { ts: number; score: number }[] = [];

  constructor(
    private readonly series: Series,
    private readonly opts: RunBuilderOptions,
  ) {}

  /**
   * Flags at reading i (increasing) with a strength >= 1, and how to explain it should it be the interval's strongest.
   * The anomalous readings are [from, to]: a flatline is flagged long after it began, a spike one reading after it;
   * detection (and the merge gap) stay at i.
   */
  flag(i: number, strength: number, reason: () => string, from = i, to = i): void {
    if (this.start >= 0 && i - this.last > this.opts.mergeGap + 1) this.close();
    if (this.start < 0) {
      this.start = from;
      this.end = to;
      this.detected = -1;
      this.bestStrength = 0;
      this.alerts = [];
    }
    if (strength > this.bestStrength) {
      this.bestStrength = strength;
      this.bestReason = reason;
    }
    // An alert is what an online alerter would send at i: the first score at or above minScore in the interval,
    // then each growth by the escalation step. Decided here, from readings up to i only.
    const score = strengthScore(strength);
    const lastAlert = this.alerts[this.alerts.length - 1];
    if (score >= this.opts.minScore && (!lastAlert || score >= lastAlert.score + this.opts.escalation)) {
      this.alerts.push({ ts: this.series.ts[i], score });
      if (this.detected < 0) this.detected = i;
    }
    this.start = Math.min(this.start, from);
    this.end = Math.max(this.end, to);
    this.last = i;
  }

  /** Ends the open interval now (the detector knows it is over); it is kept if it ever reached minScore. */
  close(): void {
    if (this.start < 0) return;
    if (this.detected >= 0) {
      const s = this.series;
      this.out.push({
        sensorId: s.sensorId,
        asset: s.asset,
        tsStart: s.ts[this.start],
        tsEnd: s.ts[this.end],
        tsDetected: s.ts[this.detected],
        score: strengthScore(this.bestStrength),
        detector: this.opts.detector,
        reason: this.bestReason(),
        alerts: this.alerts,
      });
    }
    this.start = -1;
    this.last = -1;
    this.end = -1;
  }

  finish(): Detection[] {
    this.close();
    return this.out;
  }
}

/** A number for a reason: up to 4 significant digits, without exponent noise for ordinary magnitudes. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(3);
  return String(Number(x.toPrecision(4)));
}

/** A timestamp (µs) for a reason. */
export function isoUs(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}
