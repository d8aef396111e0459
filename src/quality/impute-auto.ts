// `auto` imputation: what a careful user would do by hand. Hide blocks of 1 to 50 readings of the series' own
// good data at seeded random places, let each candidate method fill them from what is left, and rank the methods
// by RMSE per gap-length bucket. The real gaps are then filled by the best-ranked method for their length.
// The hidden blocks are spread evenly over the buckets (a 5% mask of 4000 readings drawn uniformly from 1 to 50 holds
// about one short block), and masking is repeated until each bucket has TARGET_BLOCKS (at most MAX_ROUNDS times); a
// bucket with fewer than MIN_BLOCKS, and ties within one, follow the ranking over all buckets pooled instead of the
// candidates' order. Each candidate's costly part (trend's likelihood fit, ridge's feature sums, the residual models)
// is prepared once on the whole series (prepareImputers) and reused by every round and then for the real gaps; the
// fills of a round still see only the readings it kept.

import type { FitContext, Imputer, ImputeMethod, Observed } from './impute-types.js';
import { prepareImputers } from './impute-registry.js';
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
  /** Methods best first; those that filled at least 90% of the bucket's hidden blocks before the rest. */
  ranking: ImputeMethod[];
  rmse: Partial<Record<ImputeMethod, number>>;
  blocks: number;
}

export interface AutoChoice {
  buckets: BucketChoice[];
  maskedReadings: number;
  /** Self-masks drawn (each refits every candidate). */
  rounds: number;
}

interface Block {
  /** Indexes into the observed readings, [from, to). */
  from: number;
  to: number;
}

const MAX_BLOCK = 50;
/** Hidden blocks a bucket needs for its own ranking; with fewer it takes the ranking over all buckets pooled. */
export const MIN_BLOCKS = 12;
/**
 * Hidden blocks per bucket that end the masking rounds. Errors of real sensors are heavy-tailed (a few blocks that
 * hide a dip hold most of the squared error), so with 40 blocks two methods 5% apart swap places on one mask in
 * three (NAB machine_temperature); 80 made the choice stable there.
 */
export const TARGET_BLOCKS = 80;
/** Self-masks at most, so a short series costs at most this many refits of each candidate. */
const MAX_ROUNDS = 4;

/** Non-overlapping blocks, each with a kept reading on both sides, covering about `share` of the readings. */
export function maskBlocks(n: number, rng: Rng, share = 0.05, maxMasked = 3000, maxBlock = MAX_BLOCK): Block[] {
  const cap = Math.min(maxBlock, Math.max(1, Math.floor(n / 20)));
  return placeBlocks(n, Math.min(maxMasked, Math.floor(n * share)), rng, () => rng.int(1, cap));
}

/**
 * Like maskBlocks, but the lengths take the buckets in turn (1-3, 4-15, 16-maxBlock, each uniform within its range),
 * so every bucket gets blocks however small the share.
 */
export function maskStratified(n: number, rng: Rng, share = 0.05, maxMasked = 3000, maxBlock = MAX_BLOCK): Block[] {
  const cap = Math.min(maxBlock, Math.max(1, Math.floor(n / 20)));
  const ranges = [
    [1, 3],
    [4, 15],
    [16, maxBlock],
  ].map(([lo, hi]) => [Math.min(lo, cap), Math.min(hi, cap)]);
  return placeBlocks(n, Math.min(maxMasked, Math.floor(n * share)), rng, (placed) => {
    const [lo, hi] = ranges[placed % ranges.length];
    return rng.int(lo, hi);
  });
}

/** Blocks of `lengthOf(blocks placed so far)` readings at random free places until `target` readings are hidden. */
function placeBlocks(n: number, target: number, rng: Rng, lengthOf: (placed: number) => number): Block[] {
  const taken = new Uint8Array(n);
  const out: Block[] = [];
  let masked = 0;
  for (let tries = 0; masked < target && tries < 20 * (target + 10); tries++) {
    const len = lengthOf(out.length);
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

interface Tally {
  sse: number;
  n: number;
  blocks: number;
}

/** One self-mask: each candidate fitted on what is left, its squared errors added per bucket. */
function selfMaskRound(
  obs: Observed,
  ctx: FitContext,
  imputers: Partial<Record<ImputeMethod, Imputer>>,
  candidates: readonly ImputeMethod[],
  rng: Rng,
  sse: Map<ImputeMethod, Tally>[],
  count: number[],
): number {
  const blocks = maskStratified(obs.ts.length, rng);
  if (blocks.length === 0) return 0;
  const { kept, lefts } = applyMask(obs, blocks);
  for (const b of blocks) count[bucketOf(b.to - b.from)]++;
  for (const m of candidates) {
    const filler = imputers[m]?.(kept, ctx);
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
  return blocks.reduce((s, b) => s + b.to - b.from, 0);
}

/** Methods that filled at least 90% of `blocks`, by RMSE, ties by `tieBreak` then the candidates' order. */
function rank(tally: Map<ImputeMethod, Tally>, blocks: number, candidates: readonly ImputeMethod[], tieBreak: readonly ImputeMethod[]): { ranking: ImputeMethod[]; rmse: Partial<Record<ImputeMethod, number>> } {
  const rmse: Partial<Record<ImputeMethod, number>> = {};
  const eligible: ImputeMethod[] = [];
  for (const [m, a] of tally) {
    if (a.blocks < 0.9 * blocks || a.n === 0) continue;
    rmse[m] = Math.sqrt(a.sse / a.n);
    eligible.push(m);
  }
  const order = (m: ImputeMethod): number => (tieBreak.includes(m) ? tieBreak.indexOf(m) : tieBreak.length + candidates.indexOf(m));
  // Equal within rounding (e.g. two methods exact on a noiseless pattern): the tie-break decides.
  eligible.sort((a, b) => {
    const ra = rmse[a]!;
    const rb = rmse[b]!;
    return Math.abs(ra - rb) > 1e-9 * Math.max(ra, rb, 1e-300) ? ra - rb : order(a) - order(b);
  });
  return { ranking: [...eligible, ...candidates.filter((m) => !eligible.includes(m))], rmse };
}

/**
 * Ranks `candidates` per gap-length bucket on self-masks of `obs`. `imputers` are the candidates prepared on `obs`
 * (prepareImputers; pass them to reuse them for the real gaps), so a method's costly fit is done once, not per round.
 */
export function chooseByBucket(
  obs: Observed,
  ctx: FitContext,
  candidates: readonly ImputeMethod[],
  seed: number,
  imputers: Partial<Record<ImputeMethod, Imputer>> = prepareImputers(obs, ctx, candidates),
): AutoChoice {
  const sse = BUCKETS.map(() => new Map<ImputeMethod, Tally>());
  const count = BUCKETS.map(() => 0);
  let masked = 0;
  let rounds = 0;
  if (obs.ts.length >= 100) {
    const rng = new Rng(seed);
    while (rounds < MAX_ROUNDS && (rounds === 0 || count.some((c) => c < TARGET_BLOCKS))) {
      masked += selfMaskRound(obs, ctx, imputers, candidates, rng, sse, count);
      rounds++;
    }
  }
  // Every bucket's hidden readings together: the fallback for a thin bucket and the tie-break for all.
  const pooled = new Map<ImputeMethod, Tally>();
  for (const acc of sse) {
    for (const [m, a] of acc) {
      const p = pooled.get(m) ?? { sse: 0, n: 0, blocks: 0 };
      p.sse += a.sse;
      p.n += a.n;
      p.blocks += a.blocks;
      pooled.set(m, p);
    }
  }
  const total = count.reduce((a, b) => a + b, 0);
  const overall = total > 0 ? rank(pooled, total, candidates, candidates).ranking : [...candidates];
  const buckets = BUCKETS.map((bk, i): BucketChoice => {
    if (count[i] < MIN_BLOCKS) {
      const own = rank(sse[i], count[i], candidates, candidates).rmse;
      return { bucket: bk.name, ranking: overall, rmse: own, blocks: count[i] };
    }
    const r = rank(sse[i], count[i], candidates, overall);
    return { bucket: bk.name, ranking: r.ranking, rmse: r.rmse, blocks: count[i] };
  });
  return { buckets, maskedReadings: masked, rounds };
}
