// Small deterministic series for the anomaly detector tests: readings one minute apart, noise from a fixed-seed
// generator, so every expected interval can be stated exactly.

import type { Series } from '../../src/quality/contract.js';

export const MINUTE_US = 60_000_000;
export const T0 = Date.UTC(2024, 0, 1) * 1000;

/** Uniform noise in [-1, 1) from a 32-bit LCG: the same sequence on every run and platform. */
export function noise(n: number, seed = 1): Float64Array {
  let x = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x / 2 ** 31 - 1;
  }
  return out;
}

/** A series of `values` at T0 + i * step. */
export function series(values: ArrayLike<number>, opts: { step?: number; sensorId?: string; asset?: string | null } = {}): Series {
  const step = opts.step ?? MINUTE_US;
  const n = values.length;
  return {
    sensorId: opts.sensorId ?? 'line1/press/temp',
    asset: opts.asset === undefined ? 'line1/press' : opts.asset,
    ts: Float64Array.from({ length: n }, (_, i) => T0 + i * step),
    values: Float64Array.from(values),
    quality: new Int32Array(n),
  };
}

/** 50 + uniform noise of +-1: clean data no detector should flag. */
export function clean(n: number, seed = 1): Float64Array {
  return noise(n, seed).map((e) => 50 + e);
}

/** Detection intervals as [first index, last index] of the series, for exact assertions. */
export function spans(s: Series, dets: readonly { tsStart: number; tsEnd: number }[]): [number, number][] {
  const at = (t: number): number => s.ts.indexOf(t);
  return dets.map((d) => [at(d.tsStart), at(d.tsEnd)]);
}
