// The incident brief behind `sensorlake quality explain`: what one sensor did at a moment against its normal
// behaviour (percentile, robust z, z against the same hour of day, the last hour), its recent anomalies and gaps,
// and which sensors of its asset lead it, follow it or move with it. Deterministic; text by brief-text.ts.

import type { Anomaly, Series } from './contract.js';
import { loadWhere, loadSensors, openReadingsTable, partitionOf, readingsWhere, assetFromId, type SensorInfo } from './series.js';
import { findGaps } from './gaps.js';
import { expectedIntervalUs } from './interval.js';
import { isNumeric, sliceSeries } from './analyze.js';
import { leadLagMembers, type CausalOptions } from './causal.js';
import { member } from './causal-align.js';
import { observedOf } from './impute.js';
import { detectAsset, DETECTORS } from './detect.js';
import { meanStd, median, percentileOf, robustScale, sortedFinite } from './stats.js';
import { qualityTablePath } from './tables.js';
import { QUALITY_APP_ID } from './run.js';
import { findTable } from '../backfill/lake.js';
import { isoMicros, parseTimeBound } from '../backfill/plan.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';

export interface BriefOptions {
  sensor: string;
  /** The moment to explain: ISO text or µs since the epoch. */
  at: string | number;
  /** History that defines "normal", before `at` (seconds; default 7 days). */
  historyS?: number;
  /** How far back anomalies and gaps count as recent (seconds; default 24 hours). */
  recentS?: number;
  /** Span before `at` the lead-lag test reads (seconds; default 6 hours). */
  causalS?: number;
  causal?: CausalOptions;
}

export interface BriefReading {
  ts: string;
  value: number | null;
  quality: number;
  /** Seconds from the moment asked about to this reading (negative: before). */
  offsetS: number;
}

export interface BriefStats {
  from: string;
  to: string;
  readings: number;
  median: number;
  p5: number;
  p95: number;
  /** Where the value falls among the history's values, 0-100. */
  percentile: number | null;
  /** (value - median) / (1.4826 * MAD) of the history. */
  robustZ: number | null;
  /** The same UTC hour of day in the history: mean, std, z of the value, readings, distinct days. */
  hourOfDay: { hour: number; mean: number; std: number; z: number | null; readings: number; days: number } | null;
  /** The hour before the moment. */
  lastHour: { mean: number; std: number; min: number; max: number; readings: number } | null;
}

export interface BriefAnomaly {
  sensorId: string | null;
  tsStart: string;
  tsEnd: string;
  score: number;
  detector: string;
  reason: string;
}

export interface BriefLink {
  sensorId: string;
  /** Seconds the other sensor leads this one by (negative: it follows; 0: they move together). */
  lagS: number;
  strength: number;
  correlation: number;
  pValue: number | null;
  partialR2: number | null;
}

export interface Brief {
  sensor: { id: string; asset: string | null; unit: string | null; description: string | null; intervalS: number | null; validMin: number | null; validMax: number | null };
  at: string;
  reading: BriefReading | null;
  stats: BriefStats | null;
  /** Recent anomalies of the sensor (first) and its asset: at most 20, of anomalyCount. */
  anomalies: BriefAnomaly[];
  anomalyCount: number;
  /** Where the anomalies came from: the anomalies table (up to date), or detectors run now. */
  anomalySource: 'table' | 'computed';
  gaps: { start: string; end: string; missing: number }[];
  /** Sensors of the asset that lead this one (Granger-accepted), and that it leads. */
  leaders: BriefLink[];
  followers: BriefLink[];
  /** The asset's sensors most correlated with this one at their best lag (0 included), accepted or not. */
  correlated: BriefLink[];
  causalWindow: { from: string; to: string } | null;
}

const HOUR_US = 3_600e6;

function atMicros(at: string | number): number {
  if (typeof at === 'number') return at;
  const us = parseTimeBound(at, '--at');
  if (us === undefined) throw new InvalidArgumentError(`--at '${at}': not a time`);
  return us;
}

/** The reading nearest the moment, preferring the last one at or before it. */
function readingAt(s: Series, t: number): BriefReading | null {
  if (s.ts.length === 0) return null;
  let i = -1;
  for (let k = 0; k < s.ts.length && s.ts[k] <= t; k++) i = k;
  if (i < 0) i = 0;
  const v = s.values[i];
  return { ts: isoMicros(s.ts[i]), value: Number.isFinite(v) ? v : null, quality: s.quality[i] >>> 0, offsetS: (s.ts[i] - t) / 1e6 };
}

export function briefStats(s: Series, t: number, historyUs: number, value: number | null): BriefStats | null {
  const hist = observedOf(sliceSeries(s, t - historyUs, t));
  if (hist.ts.length === 0) return null;
  const sorted = sortedFinite(hist.values);
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))];
  const med = median(sorted);
  const scale = robustScale(sorted, med);
  const hour = new Date(t / 1000).getUTCHours();
  const same: number[] = [];
  const daysSeen = new Set<number>();
  for (let i = 0; i < hist.ts.length; i++) {
    if (new Date(hist.ts[i] / 1000).getUTCHours() !== hour) continue;
    same.push(hist.values[i]);
    daysSeen.add(Math.floor(hist.ts[i] / 86_400e6));
  }
  const h = meanStd(same);
  const last = observedOf(sliceSeries(s, t - HOUR_US, t + 1)).values;
  const l = meanStd(last);
  return {
    from: isoMicros(hist.ts[0]),
    to: isoMicros(hist.ts[hist.ts.length - 1]),
    readings: hist.ts.length,
    median: med,
    p5: q(0.05),
    p95: q(0.95),
    percentile: value === null ? null : 100 * percentileOf(sorted, value),
    robustZ: value === null || !(scale > 0) ? null : (value - med) / scale,
    hourOfDay: h.n === 0 ? null : { hour, mean: h.mean, std: h.std, z: value === null || !(h.std > 0) ? null : (value - h.mean) / h.std, readings: h.n, days: daysSeen.size },
    lastHour: l.n === 0 ? null : { mean: l.mean, std: l.std, min: Math.min(...last), max: Math.max(...last), readings: l.n },
  };
}

/** Anomalies of the asset's sensors from the anomalies table, when a quality run has processed the latest readings. */
async function tableAnomalies(lake: string, ids: string[], asset: string | null, from: number, to: number): Promise<Anomaly[] | null> {
  const table = await findTable(qualityTablePath(lake, 'anomalies'));
  if (!table) return null;
  const readingsVersion = await (await openReadingsTable(lake)).version();
  if ((await table.txnVersion(QUALITY_APP_ID)) !== readingsVersion) return null;
  const idList = ids.map((i) => `'${i.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ');
  const assetClause = asset === null ? '' : ` OR (sensor_id IS NULL AND asset = '${asset.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}')`;
  const where = `(sensor_id IN (${idList})${assetClause}) AND ts_end >= TIMESTAMP '${isoMicros(from)}' AND ts_start <= TIMESTAMP '${isoMicros(to)}'`;
  const t = await table.read({ where });
  const out: Anomaly[] = [];
  for (const row of t) {
    const r = row.toJSON() as Record<string, unknown>;
    out.push({
      sensorId: (r.sensor_id as string | null) ?? null,
      asset: (r.asset as string | null) ?? null,
      // Arrow gives timestamps as fractional milliseconds.
      tsStart: Math.round(Number(r.ts_start) * 1000),
      tsEnd: Math.round(Number(r.ts_end) * 1000),
      score: r.score as number,
      detector: r.detector as string,
      reason: r.reason as string,
    });
  }
  return out;
}

export async function buildBrief(lake: string, opts: BriefOptions): Promise<Brief> {
  const t = atMicros(opts.at);
  const historyUs = (opts.historyS ?? 7 * 86_400) * 1e6;
  const recentUs = (opts.recentS ?? 86_400) * 1e6;
  const causalUs = (opts.causalS ?? 6 * 3_600) * 1e6;
  const sensors = await loadSensors(lake);
  const info: SensorInfo | undefined = sensors.get(opts.sensor);
  const asset = info?.asset ?? assetFromId(opts.sensor);
  const ids = [...new Set([opts.sensor, ...[...sensors.values()].filter((s) => asset !== null && (s.asset ?? assetFromId(s.sensor_id)) === asset).map((s) => s.sensor_id)])].sort();
  const readings = await openReadingsTable(lake);
  const snap = await readings.snapshot();
  const from = t - Math.max(historyUs, recentUs, causalUs);
  const to = t + HOUR_US;
  const loaded = await loadWhere(lake, readingsWhere(partitionOf(snap.partitionColumns), { sensorIds: ids, from, to }), snap.version);
  const self = loaded.series.find((s) => s.sensorId === opts.sensor);
  if (!self) throw new NotFoundError(`${lake}: sensor '${opts.sensor}' has no readings between ${isoMicros(from)} and ${isoMicros(to)}`);
  const interval = new Map(loaded.series.map((s) => [s.sensorId, expectedIntervalUs(s.ts, sensors.get(s.sensorId)?.interval_s)]));
  const reading = readingAt(self, t);
  const numeric = loaded.series.filter((s) => isNumeric(s, sensors.get(s.sensorId)));

  let anomalies = await tableAnomalies(lake, ids, asset, t - recentUs, to);
  const anomalySource: Brief['anomalySource'] = anomalies ? 'table' : 'computed';
  if (!anomalies) {
    anomalies = detectAsset(
      numeric.map((s) => ({ series: s, info: sensors.get(s.sensorId), intervalUs: interval.get(s.sensorId)!.intervalUs })),
      DETECTORS,
    ).filter((a) => a.tsEnd >= t - recentUs && a.tsStart <= to);
  }
  // The sensor's own anomalies first, then the asset's, each by time.
  anomalies.sort((a, b) => Number(b.sensorId === opts.sensor) - Number(a.sensorId === opts.sensor) || a.tsStart - b.tsStart);

  const gaps = findGaps(sliceSeries(self, t - recentUs, to), interval.get(self.sensorId)!.intervalUs).map((g) => ({ start: isoMicros(g.start), end: isoMicros(g.end), missing: g.missing }));

  const leaders: BriefLink[] = [];
  const followers: BriefLink[] = [];
  const correlated: BriefLink[] = [];
  let causalWindow: Brief['causalWindow'] = null;
  if (numeric.includes(self) && numeric.length >= 2) {
    const cFrom = t - causalUs;
    const members = numeric.map((s) => member(s.sensorId, observedOf(sliceSeries(s, cFrom, t + 1)), interval.get(s.sensorId)!.intervalUs));
    const r = leadLagMembers(asset, members, opts.causal);
    causalWindow = { from: isoMicros(cFrom), to: isoMicros(t) };
    for (const p of r.pairs) {
      const link = { lagS: p.lagS, strength: p.strength, correlation: p.correlation, pValue: p.pValue, partialR2: p.partialR2 };
      if (p.follower === opts.sensor) leaders.push({ sensorId: p.leader, ...link });
      if (p.leader === opts.sensor) followers.push({ sensorId: p.follower, ...link, lagS: -p.lagS });
    }
    const best = new Map<string, BriefLink>();
    for (const c of r.correlations) {
      const other = c.leader === opts.sensor ? c.follower : c.follower === opts.sensor ? c.leader : null;
      if (!other) continue;
      // Lead at the best lag, or moving together at lag 0, whichever is stronger; negative lag: the other follows.
      const atZero = Math.abs(c.r0) >= Math.abs(c.r);
      const cand: BriefLink = {
        sensorId: other,
        lagS: atZero ? 0 : c.leader === opts.sensor ? -c.lagUs / 1e6 : c.lagUs / 1e6,
        strength: Math.abs(atZero ? c.r0 : c.r),
        correlation: atZero ? c.r0 : c.r,
        pValue: atZero ? null : c.pValue,
        partialR2: null,
      };
      const prev = best.get(other);
      if (!prev || cand.strength > prev.strength) best.set(other, cand);
    }
    correlated.push(...[...best.values()].sort((a, b) => b.strength - a.strength).slice(0, 5));
  }
  return {
    sensor: {
      id: opts.sensor,
      asset,
      unit: info?.unit ?? null,
      description: info?.description ?? null,
      intervalS: interval.get(self.sensorId)!.intervalUs / 1e6,
      validMin: info?.valid_min ?? null,
      validMax: info?.valid_max ?? null,
    },
    at: isoMicros(t),
    reading,
    stats: briefStats(self, t, historyUs, reading?.value ?? null),
    anomalies: anomalies.slice(0, 20).map((a) => ({ sensorId: a.sensorId, tsStart: isoMicros(a.tsStart), tsEnd: isoMicros(a.tsEnd), score: a.score, detector: a.detector, reason: a.reason })),
    anomalyCount: anomalies.length,
    anomalySource,
    gaps,
    leaders,
    followers,
    correlated,
    causalWindow,
  };
}
