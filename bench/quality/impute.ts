// Imputation on masked NAB series: blocks of 1 to 50 intervals hidden at seeded random places, each method fills
// them from what is left, scored by MAE and RMSE against the hidden values and as a ratio to linear. `auto` picks
// its method per gap length from a self-mask of the already-masked series (it never sees the hidden values).
// One mask hides only ~20 blocks of a 4k-reading series, too few for a stable ratio (on white noise it swings by
// +-0.04 from mask to mask), so each series is masked MASKS times with different seeds and the errors are pooled.
// Reads ../shared/data/nab at run time.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { applyMask, bucketOf, chooseByBucket, maskBlocks } from '../../src/quality/impute-auto.js';
import { IMPUTE_METHODS, observedOf, type ImputeMethod, type Observed } from '../../src/quality/impute.js';
import { prepareImputers } from '../../src/quality/impute-registry.js';
import type { FitContext } from '../../src/quality/impute-types.js';
import type { Series } from '../../src/quality/contract.js';
import { robustScale } from '../../src/quality/stats.js';
import { inferIntervalUs } from '../../src/quality/interval.js';
import { Rng } from '../../src/sim/random.js';

export interface ImputeScore {
  series: string;
  points: number;
  masked: number;
  blocks: number;
  /** MAE and RMSE per method (null where the method did not apply), and auto's. */
  mae: Partial<Record<ImputeMethod | 'auto', number | null>>;
  rmse: Partial<Record<ImputeMethod | 'auto', number | null>>;
  /** What auto chose per bucket (its first choice), the most common over the masks. */
  autoChoice: string[];
  /** Masks pooled, and the lowest and highest auto / linear RMSE ratio of a single mask. */
  masks: number;
  ratioRange: [number, number] | null;
}

/** Independent masks pooled per NAB series. */
export const MASKS = 10;

/**
 * A NAB CSV (timestamp,value; naive timestamps taken as UTC), without the rows inside `exclude` windows. A reading
 * whose time is not after the previous one is dropped (machine_temperature repeats 02:00-02:55 on 2014-01-07), as
 * the backfill's dedup would, since imputers need strictly increasing times.
 */
export function readNab(file: string, exclude: [string, string][] = []): Observed {
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  const windows = exclude.map(([a, b]) => [Date.parse(`${a.replace(' ', 'T')}Z`) * 1000, Date.parse(`${b.replace(' ', 'T')}Z`) * 1000]);
  const ts: number[] = [];
  const values: number[] = [];
  for (const line of lines) {
    const [t, v] = line.split(',');
    const us = Date.parse(`${t.replace(' ', 'T')}Z`) * 1000;
    if (windows.some(([a, b]) => us >= a && us <= b)) continue;
    if (ts.length > 0 && us <= ts[ts.length - 1]) continue;
    ts.push(us);
    values.push(Number(v));
  }
  return { ts: Float64Array.from(ts), values: Float64Array.from(values) };
}

const UNIVARIATE: ImputeMethod[] = IMPUTE_METHODS.filter((m) => m !== 'ridge');

interface Accum {
  ae: number;
  se: number;
  n: number;
  failed: boolean;
}

/** Hides blocks of `obs`, fills them with each method and auto, and adds the errors to `acc`. */
function scoreInto(acc: Map<ImputeMethod | 'auto', Accum>, obs: Observed, ctx: FitContext, methods: ImputeMethod[], seed: number): { masked: number; blocks: number; choice: string[]; ratio: number } {
  const intervalUs = ctx.intervalUs;
  // Blocks may not straddle a real gap (e.g. a removed anomaly window): keep them inside regular runs.
  const blocks = maskBlocks(obs.ts.length, new Rng(seed), 0.1, 1e9).filter((b) => {
    for (let i = b.from; i <= b.to; i++) if (Math.round((obs.ts[i] - obs.ts[i - 1]) / intervalUs) !== 1) return false;
    return true;
  });
  const { kept, lefts } = applyMask(obs, blocks);
  // Each method prepared once on `kept` (as `quality run` does on a sensor's readings): its fill of the hidden blocks
  // is the same as a fit from scratch on `kept`, and auto's self-masks reuse the preparation.
  const imputers = prepareImputers(kept, ctx, methods);
  const fills = new Map<ImputeMethod, (Float64Array | null)[]>();
  for (const m of methods) {
    const f = imputers[m]!(kept, ctx);
    fills.set(m, blocks.map((b, i) => (f ? f({ left: lefts[i], ts: obs.ts.slice(b.from, b.to) }) : null)));
  }
  // auto: its choice comes from a self-mask of `kept` with another seed, as `quality run` does.
  const choice = chooseByBucket(kept, ctx, methods, seed + 1000, imputers);
  const autoFills = blocks.map((b, i) => {
    for (const m of choice.buckets[bucketOf(b.to - b.from)].ranking) {
      const v = fills.get(m)?.[i];
      if (v) return v;
    }
    return null;
  });
  const se = new Map<string, number>();
  const add = (name: ImputeMethod | 'auto', got: (Float64Array | null)[]): void => {
    const a = acc.get(name) ?? { ae: 0, se: 0, n: 0, failed: false };
    acc.set(name, a);
    const before = a.se;
    blocks.forEach((b, i) => {
      const g = got[i];
      if (!g) {
        a.failed = true;
        return;
      }
      for (let j = 0; j < g.length; j++) {
        const d = g[j] - obs.values[b.from + j];
        a.ae += Math.abs(d);
        a.se += d * d;
        a.n++;
      }
    });
    se.set(name, a.se - before);
  };
  for (const m of methods) add(m, fills.get(m)!);
  add('auto', autoFills);
  return {
    masked: blocks.reduce((s, b) => s + b.to - b.from, 0),
    blocks: blocks.length,
    choice: choice.buckets.map((b) => `${b.bucket}:${b.ranking[0]}`),
    ratio: Math.sqrt(se.get('auto')! / se.get('linear')!),
  };
}

function finish(name: string, points: number, acc: Map<ImputeMethod | 'auto', Accum>, masked: number, blocks: number, choice: string[], masks = 1, ratios: number[] = []): ImputeScore {
  const mae: ImputeScore['mae'] = {};
  const rmse: ImputeScore['rmse'] = {};
  for (const [m, a] of acc) {
    // A method that could not fill every block is not comparable (it would be scored on easier blocks).
    mae[m] = a.failed || a.n === 0 ? null : a.ae / a.n;
    rmse[m] = a.failed || a.n === 0 ? null : Math.sqrt(a.se / a.n);
  }
  const finite = ratios.filter((r) => Number.isFinite(r));
  const ratioRange: [number, number] | null = finite.length > 0 ? [Math.min(...finite), Math.max(...finite)] : null;
  return { series: name, points, masked, blocks, mae, rmse, autoChoice: choice, masks, ratioRange };
}

/** The `top` most common entries, most common first, as 'entry xN'. */
function mostCommon(counts: Map<string, number>, top: number): string[] {
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, top).map(([c, n]) => `${c} x${n}`);
}

/** Scores every univariate method and auto on one series masked `masks` times, with seeds from `seed` on, pooled. */
export function scoreSeries(name: string, obs: Observed, seed: number, masks = MASKS): ImputeScore {
  const acc = new Map<ImputeMethod | 'auto', Accum>();
  const ctx: FitContext = { intervalUs: inferIntervalUs(obs.ts), neighbours: [] };
  let masked = 0;
  let blocks = 0;
  const ratios: number[] = [];
  const choices = new Map<string, number>();
  for (let k = 0; k < masks; k++) {
    const r = scoreInto(acc, obs, ctx, UNIVARIATE, seed + k);
    masked += r.masked;
    blocks += r.blocks;
    ratios.push(r.ratio);
    for (const c of r.choice) choices.set(c, (choices.get(c) ?? 0) + 1);
  }
  return finish(name, obs.ts.length, acc, masked, blocks, mostCommon(choices, 6), masks, ratios);
}

/**
 * Scores the methods on the numeric sensors of simulated assets, each sensor masked in turn with its asset's other
 * sensors (unmasked) as ridge's neighbours; errors pooled per asset after scaling each sensor by its own spread, so
 * a 400 A motor current does not outweigh a 12 bar pressure.
 */
export function scoreAssets(name: string, assets: Series[][], intervals: ReadonlyMap<string, number>, seed: number): ImputeScore {
  const acc = new Map<ImputeMethod | 'auto', Accum>();
  let masked = 0;
  let blocks = 0;
  let points = 0;
  const choices = new Map<string, number>();
  for (const members of assets) {
    const obs = new Map(members.map((s) => [s.sensorId, observedOf(s)]));
    for (const s of members) {
      const o = obs.get(s.sensorId)!;
      const intervalUs = intervals.get(s.sensorId)!;
      if (o.ts.length < 500) continue;
      const scale = robustScale(o.values) || 1;
      const scaled: Observed = { ts: o.ts, values: o.values.map((v) => v / scale) };
      const neighbours = members.filter((m) => m !== s).map((m) => ({ sensorId: m.sensorId, intervalUs: intervals.get(m.sensorId)!, ...obs.get(m.sensorId)! }));
      const r = scoreInto(acc, scaled, { intervalUs, neighbours }, [...UNIVARIATE, 'ridge'], seed + points);
      masked += r.masked;
      blocks += r.blocks;
      points += o.ts.length;
      for (const c of r.choice) choices.set(c, (choices.get(c) ?? 0) + 1);
    }
  }
  return finish(name, points, acc, masked, blocks, mostCommon(choices, 3));
}

/** Every artificialNoAnomaly series and machine_temperature_system_failure outside its labelled windows. */
export function imputeBench(shared: string, seed = 7): ImputeScore[] {
  const nab = path.join(shared, 'data', 'nab');
  const out: ImputeScore[] = [];
  const art = ['art_daily_no_noise', 'art_daily_perfect_square_wave', 'art_daily_small_noise', 'art_flatline', 'art_noisy'];
  for (const a of art) out.push(scoreSeries(a, readNab(path.join(nab, 'artificialNoAnomaly', `${a}.csv`)), seed));
  const key = 'realKnownCause/machine_temperature_system_failure.csv';
  const windows = (JSON.parse(readFileSync(path.join(nab, 'labels', 'combined_windows.json'), 'utf8')) as Record<string, [string, string][]>)[key];
  out.push(scoreSeries('machine_temperature', readNab(path.join(nab, key), windows), seed));
  return out;
}
