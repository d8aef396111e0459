// `auto` imputation: what a careful user would do by hand. Hide blocks of 1 to 50 readings of the series' own
// good data at seeded random places, let each candidate method fill them from what is left, and rank the methods
// by RMSE per gap-length bucket. The real gaps are then filled by the best-ranked method for their length.

import type { FitContext, ImputeMethod, Observed } from './impute-types.js';
import { IMPUTERS } from './impute-registry.js';
import { Rng } from '../sim/random.js';

/** Gap-length buckets (missing readings): short, medium, long. */
export const BUCKETS = [
  { name: '1-3', max: 3 },
  { name: '4-15', max: 15 },
  { name: '16+', max: Infinity },
] as const;

export function bucketOf(missing: number): number {
  return missing <= 3 ? 0 : missing <= 15 ? 1 : 2;
}

export interface BucketChoice {
  bucket: string;
  /** Methods best first; only those that filled at least 90% of the bucket's hidden blocks. */
  ranking: ImputeMethod[];
  rmse: Partial<Record<ImputeMethod, number>>;
  blocks: number;
}

export interface AutoChoice {
  buckets: BucketChoice[];
  maskedReadings: number;
}

interface Block {
  /** Indexes into the observed readings, [from, to). */
  from: number;
  to: number;
}

const MAX_BLOCK = 50;

/** Non-overlapping blocks, each with a kept reading on both sides, covering about `share` of the readings. */
export function maskBlocks(n: number, rng: Rng, share = 0.05, maxMasked = 3000, maxBlock = MAX_BLOCK): Block[] {
  const target = Math.min(maxMasked, Math.floor(n * share));
  const taken = new Uint8Array(n);
  const out: Block[] = [];
  let masked = 0;
  for (let tries = 0; masked < target && tries < 20 * (target + 10); tries++) {
    const len = rng.int(1, Math.min(maxBlock, Math.max(1, Math.floor(n / 20))));
    const from = rng.int(1, Math.max(1, n - len - 1));
    const to = from + len;
    if (to >= n) continue;
    let free = true;
    for (let i = from - 1; i <= to && free; i++) if (taken[i]) free = false;
    if (!free) continue;
    for (let i = from; i < to; i++) taken[i] = 1;
    out.push({ from, to });
    masked += len;
  }
  return out.sort((a, b) => a.from - b.from);
}

/** The observed readings without the blocks, and each block's left neighbour index in what is kept. */
export function applyMask(obs: Observed, blocks: Block[]): { kept: Observed; lefts: number[] } {
  const drop = new Uint8Array(obs.ts.length);
  for (const b of blocks) drop.fill(1, b.from, b.to);
  let n = 0;
  for (let i = 0; i < drop.length; i++) if (!drop[i]) n++;
  const ts = new Float64Array(n);
  const values = new Float64Array(n);
  const keptIndex = new Int32Array(obs.ts.length);
  for (let i = 0, k = 0; i < obs.ts.length; i++) {
    keptIndex[i] = k - 1;
    if (drop[i]) continue;
    ts[k] = obs.ts[i];
    values[k] = obs.values[i];
    keptIndex[i] = k++;
  }
  return { kept: { ts, values }, lefts: blocks.map((b) => keptIndex[b.from - 1]) };
}

export function chooseByBucket(obs: Observed, ctx: FitContext, candidates: readonly ImputeMethod[], seed: number): AutoChoice {
  const blocks = obs.ts.length >= 100 ? maskBlocks(obs.ts.length, new Rng(seed)) : [];
  const sse = BUCKETS.map(() => new Map<ImputeMethod, { sse: number; n: number; blocks: number }>());
  const count = BUCKETS.map(() => 0);
  if (blocks.length > 0) {
    const { kept, lefts } = applyMask(obs, blocks);
    for (const b of blocks) count[bucketOf(b.to - b.from)]++;
    for (const m of candidates) {
      const filler = IMPUTERS[m](kept, ctx);
      if (!filler) continue;
      blocks.forEach((b, i) => {
        const truth = obs.values.subarray(b.from, b.to);
        const got = filler({ left: lefts[i], ts: obs.ts.slice(b.from, b.to) });
        if (!got || got.some((v) => !Number.isFinite(v))) return;
        const acc = sse[bucketOf(b.to - b.from)];
        const a = acc.get(m) ?? { sse: 0, n: 0, blocks: 0 };
        for (let j = 0; j < got.length; j++) a.sse += (got[j] - truth[j]) ** 2;
        a.n += got.length;
        a.blocks++;
        acc.set(m, a);
      });
    }
  }
  const buckets = BUCKETS.map((bk, i): BucketChoice => {
    const rmse: Partial<Record<ImputeMethod, number>> = {};
    const eligible: ImputeMethod[] = [];
    for (const [m, a] of sse[i]) {
      if (a.blocks < 0.9 * count[i]) continue;
      rmse[m] = Math.sqrt(a.sse / a.n);
      eligible.push(m);
    }
    // Ties (and untested buckets) keep the candidates' order, simplest first.
    eligible.sort((a, b) => rmse[a]! - rmse[b]! || candidates.indexOf(a) - candidates.indexOf(b));
    const rest = candidates.filter((m) => !eligible.includes(m));
    return { bucket: bk.name, ranking: count[i] > 0 ? [...eligible, ...rest] : [...candidates], rmse, blocks: count[i] };
  });
  return { buckets, maskedReadings: blocks.reduce((s, b) => s + b.to - b.from, 0) };
}
