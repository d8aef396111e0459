// What every anomaly detector shares: the context the sensors table gives, the options, and the Detection a detector
// returns (an Anomaly row plus the reading at which a causal detector could first have raised it).

import type { Anomaly } from '../contract.js';

export const ANOMALY_DETECTORS = ['range', 'flatline', 'spike', 'zscore', 'shift', 'seasonal'] as const;
/** The univariate detectors; the multivariate one runs per asset through detectAssetAnomalies. */
export type DetectorName = (typeof ANOMALY_DETECTORS)[number];
export const MULTIVARIATE_DETECTOR = 'multivariate';

/** What the `sensors` table says about one sensor. */
export interface SensorContext {
  validMin?: number | null;
  validMax?: number | null;
  /** Nominal reading interval, µs; inferred from the timestamps when absent. */
  intervalUs?: number | null;
}

export interface Detection extends Anomaly {
  /**
   * The first reading at which the detector, seeing only readings up to it, raises this anomaly (µs). Every
   * detector is causal, so an online scorer (NAB) credits the detection here, not at tsStart.
   */
  tsDetected: number;
  /**
   * When the detector raised the anomaly and each time it escalated (its score grew by the escalation step while
   * the interval was open), with the score it had then: what an online alerter would have said, and when.
   */
  alerts: { ts: number; score: number }[];
}

/** Every option of the detectors; anything left out takes DEFAULT_SETTINGS. Counts are in readings. */
export interface AnomalyOptions {
  /** Which univariate detectors run (default: all). */
  detectors?: readonly DetectorName[];
  /**
   * Scores are in [0.5, 1) from each detector's own threshold up (1 - 0.5 / strength); alerts below minScore are
   * not sent and intervals that never reach it are dropped (default 0.6).
   */
  minScore?: number;
  /** Trailing readings the rolling detectors learn "normal" from (default 3000). */
  window?: number;
  /** Readings a detector sees before it judges anything (default 100). */
  warmup?: number;
  /** Robust z of a reading from which zscore and seasonal flag it (default 3). */
  zThreshold?: number;
  /**
   * Quantile q of |x - median| that sets the robust scale, divided by the normal quantile so that it estimates a
   * standard deviation (default 0.9; 0.5 is the MAD). Above the MAD so heavy-tailed sensors get a wider yardstick.
   */
  scaleQuantile?: number;
  /** A reading (or step) is only an outlier when fewer than this many of the window were as extreme (default 3). */
  rare?: number;
  /** Robust z of a spike's smaller side (up and back) from which spike flags it (default 4). */
  spikeThreshold?: number;
  /** Robust z of a one-reading step that stays (rate of change) from which spike flags it (default 32). */
  rateThreshold?: number;
  /** Identical readings in a row that always make a flatline, unless the window has longer normal runs (default 30). */
  flatlineReadings?: number;
  /** Readings whose median the shift detector compares with the window before them (default 24). */
  shiftReadings?: number;
  /** Robust z of that median from which a shift is flagged (default 2). */
  shiftThreshold?: number;
  /** A shift is flagged only when under this fraction of the window before it went as far (default 0.01). */
  shiftRare?: number;
  /** Past cycles (days, weeks) the seasonal profile remembers per phase (default 7). */
  cycles?: number;
  /** Full past cycles a phase needs before the seasonal profile judges it (default 2). */
  minCycles?: number;
  /** The seasonal profile is used when its residual spread is at most this fraction of the level's (default 0.5). */
  explains?: number;
  /** One-sided normal z whose chi-square quantile bounds the multivariate Mahalanobis distance (default 5). */
  mvThreshold?: number;
  /** Flagged readings at most this many readings apart are one interval (default 50). */
  mergeGap?: number;
  /** Score growth of an open interval (or of a sensor's open incident) that is alerted again (default 0.1). */
  escalation?: number;
}

export type Settings = Required<AnomalyOptions>;

export const DEFAULT_SETTINGS: Settings = {
  detectors: ANOMALY_DETECTORS,
  minScore: 0.6,
  window: 3000,
  warmup: 100,
  zThreshold: 3,
  scaleQuantile: 0.9,
  rare: 3,
  spikeThreshold: 4,
  rateThreshold: 32,
  flatlineReadings: 30,
  shiftReadings: 24,
  shiftThreshold: 2,
  shiftRare: 0.01,
  cycles: 7,
  minCycles: 2,
  explains: 0.5,
  mvThreshold: 5,
  mergeGap: 50,
  escalation: 0.1,
};
