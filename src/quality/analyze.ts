// One asset's share of a quality run, pure: for each sensor whose region changed, its gaps, the fills of those gaps,
// and its anomalies; for the asset, its lead-lag pairs. The caller (run.ts) loads the series and writes the rows.

import type { Anomaly, Series } from './contract.js';
import type { SensorInfo } from './series.js';
import { findGaps, type Gap } from './gaps.js';
import { imputeSeries, observedOf, type Fill, type GapLimit, type ImputeMethod, type Neighbour } from './impute.js';
import { expectedIntervalUs } from './interval.js';
import { leadLagMembers, type CausalOptions, type CausalPair } from './causal.js';
import { member as causalMember } from './causal-align.js';
import { detectAsset, type DetectMember } from './detect.js';
import { MULTIVARIATE_DETECTOR } from './anomaly/index.js';
import type { AnomalyOptions } from './anomaly/index.js';

/** The span of one sensor this run rewrites (inclusive, µs); everything for a full run. */
export interface Region {
  from: number;
  to: number;
}

export const EVERYTHING: Region = { from: -Infinity, to: Infinity };

export interface AnalyzeOptions {
  detectors: readonly string[];
  anomaly?: AnomalyOptions;
  impute?: { method?: ImputeMethod | 'auto'; methods?: readonly ImputeMethod[]; maxGap?: Partial<Record<ImputeMethod, GapLimit>> };
  causal?: CausalOptions;
  /** Newest span of each asset the lead-lag test reads (µs; default one day). */
  causalWindowUs?: number;
  /** Skip the lead-lag test. */
  noCausal?: boolean;
}

export interface GapRow extends Gap {
  asset: string | null;
  intervalInferred: boolean;
}

export interface AssetAnalysis {
  asset: string | null;
  gaps: GapRow[];
  fills: Fill[];
  unfilled: Gap[];
  anomalies: Anomaly[];
  /** Where the asset's own findings were recomputed from (null: no member changed). */
  assetFrom: number | null;
  causal: { pairs: CausalPair[]; from: number; to: number } | null;
}

export function isNumeric(s: Series, info: SensorInfo | undefined): boolean {
  if (info?.kind === 'state') return false;
  for (let i = 0; i < s.values.length; i++) if (Number.isFinite(s.values[i])) return true;
  return false;
}

/** Readings of a series inside [from, to) as a new Series. */
export function sliceSeries(s: Series, from: number, to: number): Series {
  let a = 0;
  while (a < s.ts.length && s.ts[a] < from) a++;
  let b = a;
  while (b < s.ts.length && s.ts[b] < to) b++;
  return { sensorId: s.sensorId, asset: s.asset, ts: s.ts.subarray(a, b), values: s.values.subarray(a, b), quality: s.quality.subarray(a, b) };
}

/** Where an asset's own (multivariate) findings are recomputed from: its earliest member region; null if none. */
export function assetRegionFrom(members: Series[], regions: ReadonlyMap<string, Region>): number | null {
  let from: number | null = null;
  for (const s of members) {
    const r = regions.get(s.sensorId);
    if (r && (from === null || r.from < from)) from = r.from;
  }
  return from;
}

/**
 * Analyses one asset's series. `regions` names the sensors this run rewrites and their spans; sensors absent from it
 * still inform neighbours (ridge) and the lead-lag test.
 */
export function analyzeAsset(
  asset: string | null,
  members: Series[],
  regions: ReadonlyMap<string, Region>,
  sensors: ReadonlyMap<string, SensorInfo>,
  opts: AnalyzeOptions,
): AssetAnalysis {
  const out: AssetAnalysis = { asset, gaps: [], fills: [], unfilled: [], anomalies: [], assetFrom: assetRegionFrom(members, regions), causal: null };
  const interval = new Map<string, { intervalUs: number; inferred: boolean }>();
  for (const s of members) interval.set(s.sensorId, expectedIntervalUs(s.ts, sensors.get(s.sensorId)?.interval_s));
  const numeric = members.filter((s) => isNumeric(s, sensors.get(s.sensorId)) && interval.get(s.sensorId)!.intervalUs > 0);
  const neighbours: Neighbour[] = numeric.map((s) => ({ sensorId: s.sensorId, intervalUs: interval.get(s.sensorId)!.intervalUs, ...observedOf(s) }));
  for (const s of members) {
    const region = regions.get(s.sensorId);
    const iv = interval.get(s.sensorId)!;
    if (!region || !(iv.intervalUs > 0)) continue;
    const inRegion = (g: Gap): boolean => g.start >= region.from && g.end <= region.to;
    const gaps = findGaps(s, iv.intervalUs).filter(inRegion);
    for (const g of gaps) out.gaps.push({ ...g, asset: s.asset, intervalInferred: iv.inferred });
    if (!numeric.includes(s)) {
      // Text (state) sensors are never filled: a guessed state would read as a fact.
      out.unfilled.push(...gaps);
      continue;
    }
    const r = imputeSeries(s, {
      intervalUs: iv.intervalUs,
      method: opts.impute?.method,
      methods: opts.impute?.methods,
      maxGap: opts.impute?.maxGap,
      neighbours: neighbours.filter((n) => n.sensorId !== s.sensorId),
      region,
    });
    out.fills.push(...r.fills);
    out.unfilled.push(...r.unfilled);
  }
  // Univariate detectors on the sensors whose region changed; the multivariate one needs every numeric member.
  const member = (s: Series): DetectMember => ({ series: s, info: sensors.get(s.sensorId), intervalUs: interval.get(s.sensorId)!.intervalUs });
  const uni = opts.detectors.filter((d) => d !== MULTIVARIATE_DETECTOR);
  out.anomalies = detectAsset(numeric.filter((s) => regions.has(s.sensorId)).map(member), uni, opts.anomaly).filter((a) => a.tsEnd >= regions.get(a.sensorId!)!.from);
  const assetFrom = out.assetFrom;
  if (opts.detectors.includes(MULTIVARIATE_DETECTOR) && assetFrom !== null) {
    out.anomalies.push(...detectAsset(numeric.map(member), [MULTIVARIATE_DETECTOR], opts.anomaly).filter((a) => a.tsEnd >= assetFrom));
  }
  if (!opts.noCausal && numeric.length >= 2 && members.some((s) => regions.has(s.sensorId))) {
    const to = Math.max(...numeric.map((s) => s.ts[s.ts.length - 1] ?? -Infinity)) + 1;
    const from = to - (opts.causalWindowUs ?? 86_400e6);
    const ms = numeric.map((s) => causalMember(s.sensorId, observedOf(sliceSeries(s, from, to)), interval.get(s.sensorId)!.intervalUs));
    const first = Math.min(...ms.map((m) => m.obs.ts[0] ?? Infinity));
    out.causal = { pairs: leadLagMembers(asset, ms, opts.causal).pairs, from: Math.max(from, first), to: to - 1 };
  }
  return out;
}
