// Imputation of one sensor's gaps: finds the gaps, fits the chosen method (or every candidate, for `auto`) on the
// good numeric readings, and fills each gap no longer than that method's limit; longer gaps stay unfilled. Text
// sensors and bad-quality readings are never filled from or over.

import type { Series } from './contract.js';
import { findGaps, type Gap } from './gaps.js';
import { IMPUTE_METHODS, type Filler, type FitContext, type ImputeMethod, type Neighbour, type Observed } from './impute-types.js';
import { IMPUTERS, prepareImputers } from './impute-registry.js';
import { chooseByBucket, bucketOf, type AutoChoice } from './impute-auto.js';
import { lastAtOrBefore } from './impute-smoother.js';
import { InvalidArgumentError } from '../errors.js';

export { IMPUTE_METHODS, IMPUTERS, type ImputeMethod, type Neighbour, type Observed };

/** A gap limit: missing readings (a number), or a duration in seconds. */
export type GapLimit = number | { seconds: number };

/** Defaults, in missing readings: a line or a carried value is trusted over short spans only; models further. */
export const DEFAULT_MAX_GAP: Record<ImputeMethod, GapLimit> = {
  linear: 60,
  locf: 10,
  'seasonal-daily': 2880,
  'seasonal-weekly': 2880,
  ridge: 2880,
  smooth: 360,
  trend: 360,
};

export interface ImputeOptions {
  intervalUs: number;
  /** A method, or 'auto' (default): per gap length, the best on a self-masked copy of the series. */
  method?: ImputeMethod | 'auto';
  /** Candidates for auto (default all). */
  methods?: readonly ImputeMethod[];
  maxGap?: Partial<Record<ImputeMethod, GapLimit>>;
  neighbours?: Neighbour[];
  /** Seed of auto's self-mask. */
  seed?: number;
  /** Fill only gaps lying within [from, to] (µs): an incremental run's region. */
  region?: { from: number; to: number };
}

export interface Fill {
  sensorId: string;
  gap: Gap;
  method: ImputeMethod;
  ts: Float64Array;
  values: Float64Array;
}

export interface ImputeResult {
  fills: Fill[];
  /** Gaps no method was allowed or able to fill. */
  unfilled: Gap[];
  /** What auto chose, per gap-length bucket. */
  choice: AutoChoice | null;
}

const BAD_BIT = 0x80000000;

/** The readings an imputer may learn from: numeric, and not of bad quality. */
export function observedOf(s: Pick<Series, 'ts' | 'values' | 'quality'>): Observed {
  let n = 0;
  for (let i = 0; i < s.ts.length; i++) if (Number.isFinite(s.values[i]) && ((s.quality[i] >>> 0) & BAD_BIT) === 0) n++;
  const ts = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0, k = 0; i < s.ts.length; i++) {
    if (!Number.isFinite(s.values[i]) || ((s.quality[i] >>> 0) & BAD_BIT) !== 0) continue;
    ts[k] = s.ts[i];
    values[k++] = s.values[i];
  }
  return { ts, values };
}

/** The timestamps a gap's missing readings would have had: evenly spaced between its bounds. */
export function fillTimes(gap: Gap): Float64Array {
  const step = (gap.end - gap.start) / (gap.missing + 1);
  const out = new Float64Array(gap.missing);
  for (let j = 0; j < gap.missing; j++) out[j] = gap.start + Math.round((j + 1) * step);
  return out;
}

export function limitPoints(limit: GapLimit, intervalUs: number): number {
  if (typeof limit === 'number') return limit;
  return Math.floor((limit.seconds * 1e6) / intervalUs);
}

/** Fits one method; null when it does not apply to this series. */
export function fitMethod(method: ImputeMethod, obs: Observed, ctx: FitContext): Filler | null {
  return IMPUTERS[method](obs, ctx);
}

export function imputeSeries(series: Series, opts: ImputeOptions): ImputeResult {
  if (!(opts.intervalUs > 0)) throw new InvalidArgumentError(`impute ${series.sensorId}: interval ${opts.intervalUs} µs is not positive`);
  const method = opts.method ?? 'auto';
  if (method !== 'auto' && !IMPUTE_METHODS.includes(method)) throw new InvalidArgumentError(`impute: unknown method '${String(method)}' (one of auto, ${IMPUTE_METHODS.join(', ')})`);
  const region = opts.region;
  const gaps = findGaps(series, opts.intervalUs).filter((g) => !region || (g.start >= region.from && g.end <= region.to));
  const result: ImputeResult = { fills: [], unfilled: [], choice: null };
  if (gaps.length === 0) return result;
  const obs = observedOf(series);
  const ctx: FitContext = { intervalUs: opts.intervalUs, neighbours: opts.neighbours ?? [] };
  const limits = { ...DEFAULT_MAX_GAP, ...opts.maxGap };
  const candidates = method === 'auto' ? (opts.methods ?? IMPUTE_METHODS) : [method];
  let ranking: (missing: number) => readonly ImputeMethod[] = () => candidates;
  // Auto prepares every candidate once on the whole series, for its self-masks and then for the real gaps.
  const imputers = method === 'auto' ? prepareImputers(obs, ctx, candidates) : {};
  if (method === 'auto') {
    result.choice = chooseByBucket(obs, ctx, candidates, opts.seed ?? 1, imputers);
    const choice = result.choice;
    ranking = (missing) => choice.buckets[bucketOf(missing)].ranking;
  }
  const fitted = new Map<ImputeMethod, Filler | null>();
  const filler = (m: ImputeMethod): Filler | null => {
    if (!fitted.has(m)) fitted.set(m, imputers[m] ? imputers[m](obs, ctx) : fitMethod(m, obs, ctx));
    return fitted.get(m) ?? null;
  };
  for (const gap of gaps) {
    const left = lastAtOrBefore(obs.ts, gap.start);
    // A gap with no good reading on one side (the series' ends, or only bad readings there) is not filled.
    if (left < 0 || left + 1 >= obs.ts.length) {
      result.unfilled.push(gap);
      continue;
    }
    const ts = fillTimes(gap);
    let done = false;
    for (const m of ranking(gap.missing)) {
      if (gap.missing > limitPoints(limits[m], opts.intervalUs)) continue;
      const values = filler(m)?.({ left, ts });
      if (!values || values.some((v) => !Number.isFinite(v))) continue;
      result.fills.push({ sensorId: series.sensorId, gap, method: m, ts, values });
      done = true;
      break;
    }
    if (!done) result.unfilled.push(gap);
  }
  return result;
}
