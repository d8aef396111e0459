// The seam to the anomaly detectors (src/quality/anomaly/): which detectors a run asks for, and running them on the
// numeric sensors of one asset with what the sensors table says about each (plus the multivariate detector across
// them, whose findings belong to the asset: sensorId null).

import type { Anomaly, Series } from './contract.js';
import { ANOMALY_DETECTORS, MULTIVARIATE_DETECTOR, detectAnomalies, detectAssetAnomalies, type AnomalyOptions, type DetectorName } from './anomaly/index.js';
import type { SensorInfo } from './series.js';
import { InvalidArgumentError } from '../errors.js';

export const DETECTORS: readonly string[] = [...ANOMALY_DETECTORS, MULTIVARIATE_DETECTOR];

export interface DetectMember {
  series: Series;
  info: SensorInfo | undefined;
  intervalUs: number;
}

/** Checks a --detectors list against the detectors that exist (default: all). */
export function parseDetectors(names: readonly string[] | undefined): string[] {
  if (!names) return [...DETECTORS];
  for (const n of names) {
    if (!DETECTORS.includes(n)) throw new InvalidArgumentError(`detector '${n}': expected one of ${DETECTORS.join(', ')}`);
  }
  return [...names];
}

function row(d: Anomaly): Anomaly {
  return { sensorId: d.sensorId, asset: d.asset, tsStart: d.tsStart, tsEnd: d.tsEnd, score: d.score, detector: d.detector, reason: d.reason };
}

/** Anomalies of an asset's numeric sensors by the chosen univariate detectors, and of the asset by the multivariate one. */
export function detectAsset(members: DetectMember[], detectors: readonly string[], opts: AnomalyOptions = {}): Anomaly[] {
  const chosen = parseDetectors(detectors);
  const uni = chosen.filter((n): n is DetectorName => (ANOMALY_DETECTORS as readonly string[]).includes(n));
  const out: Anomaly[] = [];
  const live = members.filter((m) => m.series.ts.length > 0);
  if (uni.length > 0) {
    for (const m of live) {
      const ctx = { validMin: m.info?.valid_min ?? null, validMax: m.info?.valid_max ?? null, intervalUs: m.intervalUs };
      for (const d of detectAnomalies(m.series, ctx, { ...opts, detectors: uni })) out.push(row(d));
    }
  }
  if (chosen.includes(MULTIVARIATE_DETECTOR) && live.length >= 2) {
    for (const d of detectAssetAnomalies(live.map((m) => m.series), opts)) out.push(row(d));
  }
  return out;
}
