// Anomaly detection for issue 6. detectAnomalies runs the univariate detectors on one sensor's Series and merges
// their findings; detectAssetAnomalies runs the multivariate one across the sensors of an asset; OnlineDetector is
// the per-reading form for live ingest. Every detector is causal (reading i is judged on readings up to i) and pure.

import type { Series } from '../contract.js';
import { consolidateAlerts } from './alerts.js';
import { detectFlatlines } from './flatline.js';
import { detectMultivariate } from './multivariate.js';
import { fitSeasonal, typicalInterval } from './profile.js';
import { detectRange } from './range.js';
import { detectSeasonal, explainedBy } from './seasonal.js';
import { settle } from './settings.js';
import { detectShifts } from './shift.js';
import { detectSpikes } from './spike.js';
import type { AnomalyOptions, Detection, SensorContext } from './types.js';
import { detectZscore } from './zscore.js';

export { ANOMALY_DETECTORS, DEFAULT_SETTINGS, MULTIVARIATE_DETECTOR } from './types.js';
export type { AnomalyOptions, Detection, DetectorName, SensorContext, Settings } from './types.js';
export { OnlineDetector } from './online.js';
export { settle } from './settings.js';

function byStart(a: Detection, b: Detection): number {
  return a.tsStart - b.tsStart || a.tsEnd - b.tsEnd || (a.detector < b.detector ? -1 : a.detector > b.detector ? 1 : 0);
}

/**
 * Every chosen univariate detector on one sensor's series, merged and sorted by tsStart. Each detection's `alerts`
 * are those a single alerter for this sensor would send across all detectors (see alerts.ts).
 */
export function detectAnomalies(series: Series, ctx: SensorContext = {}, opts?: AnomalyOptions): Detection[] {
  const s = settle(opts);
  const on = new Set(s.detectors);
  const out: Detection[] = [];
  const intervalUs = ctx.intervalUs && ctx.intervalUs > 0 ? ctx.intervalUs : typicalInterval(series.ts);
  // The seasonal profile serves three detectors: its own residuals, and vetoing z-scores and shifts for what happens
  // every day at this hour.
  const fit =
    on.has('seasonal') || on.has('zscore') || on.has('shift')
      ? fitSeasonal(series, { window: s.window, cycles: s.cycles, explains: s.explains, scaleQuantile: s.scaleQuantile, minCycles: s.minCycles }, intervalUs)
      : null;
  if (on.has('range')) out.push(...detectRange(series, s, ctx));
  if (on.has('flatline')) out.push(...detectFlatlines(series, s));
  if (on.has('spike')) out.push(...detectSpikes(series, s));
  const explained = fit ? explainedBy(fit, s.zThreshold) : undefined;
  if (on.has('zscore')) out.push(...detectZscore(series, s, explained));
  if (on.has('shift')) out.push(...detectShifts(series, s, explained));
  if (on.has('seasonal') && fit) out.push(...detectSeasonal(series, s, fit));
  consolidateAlerts(series.ts, out, s.mergeGap, s.escalation);
  return out.sort(byStart);
}

/** The multivariate detector across the sensors of one asset (at least two): findings with sensorId null. */
export function detectAssetAnomalies(members: Series[], opts?: AnomalyOptions): Detection[] {
  const s = settle(opts);
  return detectMultivariate(members, s).sort(byStart);
}
