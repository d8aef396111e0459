// Cause and lead between the sensors of one asset. For each ordered pair: the cross-correlation of their differenced,
// standardised series over lags 0..maxLag (leader's steps), its best positive lag and strength. A pair leads when
// that lag beats lag 0 and, per follower, a Granger-style F test says the leader adds to the follower's own past and
// to the stronger leaders already accepted (forward selection), by a partial R² worth reporting. Common drivers
// (two sensors both following the load) thus don't each count as a cause.

import type { Series } from './contract.js';
import { followerRows, laggedCorrelation, leaderDiffs, member, type FollowerRows, type LeaderDiffs, type Member } from './causal-align.js';
import { grangerTest, type GrangerResult, type LaggedBlock } from './causal-granger.js';
import { observedOf } from './impute.js';
import { normalTwoSided } from './stats.js';

export interface CausalOptions {
  /** Longest lag searched, seconds (default 300). */
  maxLagS?: number;
  /** Newest rows (non-overlapping differences) used per pair (default 20,000). */
  maxRows?: number;
  /** Weakest |correlation| at the best lag worth testing (default 0.1). */
  minStrength?: number;
  /** Significance level of the F test (default 0.001). */
  alpha?: number;
  /**
   * Smallest share of the follower's remaining variance the leader must explain (default 0.2). Two sensors that both
   * measure one hidden driver (a motor's current and its flow) each add a little to the other's noisy view of it, which
   * a large sample calls significant; a real coupling explains far more than that little (on the simulator, direct
   * couplings explain 40-98% of what is left, proxies 5-13%).
   */
  minPartialR2?: number;
  /** Own past differences of the follower in the test (default 3). */
  ownLags?: number;
}

/** The best lag of one ordered pair, whether or not it was accepted as a lead. */
export interface LagCorrelation {
  leader: string;
  follower: string;
  /** Best lag >= one leader step, µs, and the correlation there. */
  lagUs: number;
  r: number;
  /** Correlation at lag 0 (moving together). */
  r0: number;
  n: number;
  /** Two-sided p-value of r at the best lag (Fisher z; not corrected for the lags searched). */
  pValue: number;
}

export interface CausalPair {
  asset: string | null;
  leader: string;
  follower: string;
  lagS: number;
  /** |correlation| of the differenced series at the lag. */
  strength: number;
  correlation: number;
  /** Granger F test p-value and partial R², given the follower's past and stronger leaders. */
  pValue: number;
  partialR2: number;
  f: number;
  n: number;
}

export interface CausalResult {
  asset: string | null;
  /** Accepted leads, strongest first. */
  pairs: CausalPair[];
  /** Every ordered pair's best lag, strongest first. */
  correlations: LagCorrelation[];
}

const MAX_LAG_STEPS = 600;

interface Defaults {
  maxLagS: number;
  maxRows: number;
  minStrength: number;
  alpha: number;
  minPartialR2: number;
  ownLags: number;
}

function withDefaults(o: CausalOptions): Defaults {
  return {
    maxLagS: o.maxLagS ?? 300,
    maxRows: o.maxRows ?? 20_000,
    minStrength: o.minStrength ?? 0.1,
    alpha: o.alpha ?? 1e-3,
    minPartialR2: o.minPartialR2 ?? 0.2,
    ownLags: o.ownLags ?? 3,
  };
}

/** Lags searched for a leader: its steps from 1 up to maxLag, thinned to at most 600. */
function lagGrid(x: Member, maxLagUs: number): number[] {
  const step = Math.max(x.intervalUs, Math.ceil(maxLagUs / MAX_LAG_STEPS / x.intervalUs) * x.intervalUs);
  const out: number[] = [];
  for (let l = step; l <= maxLagUs; l += step) out.push(l);
  return out;
}

class Cache {
  private rows = new Map<string, FollowerRows>();
  private diffs = new Map<string, LeaderDiffs>();
  constructor(private readonly maxRows: number) {}
  follower(y: Member, spanUs: number): FollowerRows {
    const k = `${y.sensorId}\u0000${spanUs}`;
    let r = this.rows.get(k);
    if (!r) this.rows.set(k, (r = followerRows(y, spanUs, this.maxRows)));
    return r;
  }
  leader(x: Member, spanUs: number): LeaderDiffs {
    const k = `${x.sensorId}\u0000${spanUs}`;
    let d = this.diffs.get(k);
    if (!d) this.diffs.set(k, (d = leaderDiffs(x, spanUs)));
    return d;
  }
}

function bestLag(cache: Cache, x: Member, y: Member, maxLagUs: number): LagCorrelation {
  const span = Math.max(x.intervalUs, y.intervalUs);
  const rows = cache.follower(y, span);
  const d = cache.leader(x, span);
  const zero = laggedCorrelation(rows, d, 0);
  let best = { lagUs: x.intervalUs, r: 0, n: 0 };
  for (const lag of lagGrid(x, maxLagUs)) {
    const c = laggedCorrelation(rows, d, lag);
    if (Math.abs(c.r) > Math.abs(best.r)) best = { lagUs: lag, r: c.r, n: c.n };
  }
  const z = best.n > 3 ? Math.atanh(Math.min(0.999999, Math.abs(best.r))) * Math.sqrt(best.n - 3) : 0;
  return { leader: x.sensorId, follower: y.sensorId, lagUs: best.lagUs, r: best.r, r0: zero.r, n: best.n, pValue: normalTwoSided(z) };
}

/** The lags around a best lag that a test includes, to absorb a lag that falls between two steps. */
function blockLags(lagUs: number, stepUs: number): number[] {
  return [...new Set([Math.max(stepUs, lagUs - stepUs), lagUs, lagUs + stepUs])];
}

/** Lead-lag analysis of the members of one asset (sensors with their expected intervals). */
export function leadLagMembers(asset: string | null, members: Member[], opts: CausalOptions = {}): CausalResult {
  const o = withDefaults(opts);
  const cache = new Cache(o.maxRows);
  const usable = members.filter((m) => m.obs.ts.length >= 50 && m.intervalUs > 0);
  const correlations: LagCorrelation[] = [];
  for (const x of usable) for (const y of usable) if (x !== y) correlations.push(bestLag(cache, x, y, o.maxLagS * 1e6));
  const byPair = new Map(correlations.map((c) => [`${c.leader}\u0000${c.follower}`, c]));
  const pairs: CausalPair[] = [];
  for (const y of usable) {
    const cands = correlations
      .filter((c) => c.follower === y.sensorId && Math.abs(c.r) >= o.minStrength && Math.abs(c.r) > Math.abs(c.r0))
      // The other direction must not lead more strongly: then this one is its echo.
      .filter((c) => Math.abs(byPair.get(`${c.follower}\u0000${c.leader}`)?.r ?? 0) < Math.abs(c.r))
      .sort((a, b) => Math.abs(b.r) - Math.abs(a.r));
    if (cands.length === 0) continue;
    const leaders = cands.map((c) => usable.find((m) => m.sensorId === c.leader)!);
    const span = Math.max(y.intervalUs, ...leaders.map((m) => m.intervalUs));
    const rows = cache.follower(y, span);
    const blocks: LaggedBlock[] = cands.map((c, i) => ({ diffs: cache.leader(leaders[i], span), lagsUs: blockLags(c.lagUs, leaders[i].intervalUs) }));
    // Forward selection: each round adds the candidate that explains the most of what the accepted ones leave.
    const given: LaggedBlock[] = [];
    const open = new Set(cands.map((_, i) => i));
    while (open.size > 0) {
      let best: { i: number; g: GrangerResult } | null = null;
      for (const i of open) {
        const g = grangerTest(rows, o.ownLags, given, blocks[i]);
        if (g && (!best || g.partialR2 > best.g.partialR2)) best = { i, g };
      }
      if (!best || best.g.pValue >= o.alpha || best.g.partialR2 < o.minPartialR2) break;
      const { i, g } = best;
      const c = cands[i];
      open.delete(i);
      given.push(blocks[i]);
      pairs.push({
        asset,
        leader: c.leader,
        follower: c.follower,
        lagS: c.lagUs / 1e6,
        strength: Math.abs(c.r),
        correlation: c.r,
        pValue: g.pValue,
        partialR2: g.partialR2,
        f: g.f,
        n: g.n,
      });
    }
  }
  pairs.sort((a, b) => b.strength - a.strength || b.partialR2 - a.partialR2);
  correlations.sort((a, b) => Math.abs(b.r) - Math.abs(a.r));
  return { asset, pairs, correlations };
}

/** Lead-lag analysis of series (one asset's), each with its expected interval in µs. */
export function leadLag(series: Series[], intervalUs: ReadonlyMap<string, number>, opts: CausalOptions = {}): CausalResult {
  const members = series
    .filter((s) => intervalUs.has(s.sensorId))
    .map((s) => member(s.sensorId, observedOf(s), intervalUs.get(s.sensorId)!));
  return leadLagMembers(series[0]?.asset ?? null, members, opts);
}
