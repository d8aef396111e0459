// Cause and lead against the simulator's ground truth: simulate a plant (truth.json lists each coupling with its
// lag), backfill it, run the lead-lag test per asset exactly as `quality causal` does, and score the recovered
// (leader, follower, lag) triples by precision, recall and F1. A lag matches within one base interval.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { simulate } from '../../src/sim/simulate.js';
import { backfill } from '../../src/backfill/run.js';
import type { Truth } from '../../src/sim/truth.js';
import { assetCausal } from '../../src/quality/causal-lake.js';
import type { CausalPair } from '../../src/quality/causal.js';
import { loadWhere } from '../../src/quality/series.js';
import type { Series } from '../../src/quality/contract.js';

export interface CausalScenario {
  name: string;
  sensors: number;
  interval: string;
  hours: number;
  seed: number;
  faults: 'none' | 'default' | 'heavy';
}

export const SCENARIOS: CausalScenario[] = [
  { name: '40 sensors, 1 s, 6 h, default faults', sensors: 40, interval: '1s', hours: 6, seed: 21, faults: 'default' },
  { name: '60 sensors, 10 s, 1 day, default faults', sensors: 60, interval: '10s', hours: 24, seed: 22, faults: 'default' },
  { name: '40 sensors, 1 s, 4 h, heavy faults', sensors: 40, interval: '1s', hours: 4, seed: 23, faults: 'heavy' },
];

export interface CausalScore {
  scenario: string;
  couplings: number;
  found: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
  /** Pairs reported that truth.json does not list, as leader -> follower @ lag. */
  extra: string[];
  missed: string[];
  seconds: { simulate: number; backfill: number; causal: number };
}

export interface SimulatedLake {
  lake: string;
  truth: Truth;
  seconds: { simulate: number; backfill: number };
}

export async function simulatedLake(work: string, s: CausalScenario): Promise<SimulatedLake> {
  const dir = path.join(work, `sim-${s.seed}`);
  const lake = path.join(work, `lake-${s.seed}`);
  const from = new Date(Date.UTC(2024, 0, 8));
  const t0 = performance.now();
  const sim = await simulate({ out: dir, format: 'csv', sensors: s.sensors, interval: s.interval, seed: s.seed, faults: s.faults, from, to: new Date(from.getTime() + s.hours * 3_600_000), force: true });
  const t1 = performance.now();
  await backfill({ source: dir, lake, sensors: sim.sensorsFile, window: '6h' });
  const t2 = performance.now();
  return { lake, truth: JSON.parse(readFileSync(sim.truthFile, 'utf8')) as Truth, seconds: { simulate: (t1 - t0) / 1000, backfill: (t2 - t1) / 1000 } };
}

export async function scoreCausal(s: CausalScenario, sim: SimulatedLake): Promise<CausalScore> {
  const t0 = performance.now();
  const found: CausalPair[] = [];
  for (const a of sim.truth.assets) found.push(...(await assetCausal(sim.lake, a.path, { windowS: s.hours * 3600 })).pairs);
  const causalS = (performance.now() - t0) / 1000;
  const base = sim.truth.intervalSeconds;
  const key = (l: string, f: string, lag: number): string => `${l} -> ${f} @ ${lag} s`;
  const matched = new Set<CausalPair>();
  const missed: string[] = [];
  for (const c of sim.truth.couplings) {
    const hit = found.find((p) => !matched.has(p) && p.leader === c.cause && p.follower === c.effect && Math.abs(p.lagS - c.lagSeconds) <= base + 1e-9);
    if (hit) matched.add(hit);
    else missed.push(key(c.cause, c.effect, c.lagSeconds));
  }
  const tp = matched.size;
  const fp = found.length - tp;
  const fn = missed.length;
  const precision = found.length ? tp / found.length : 0;
  const recall = sim.truth.couplings.length ? tp / sim.truth.couplings.length : 0;
  return {
    scenario: s.name,
    couplings: sim.truth.couplings.length,
    found: found.length,
    tp,
    fp,
    fn,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    extra: found.filter((p) => !matched.has(p)).map((p) => key(p.leader, p.follower, p.lagS)),
    missed,
    seconds: { ...sim.seconds, causal: causalS },
  };
}

/** The numeric series of the first `assets` assets of a simulated lake, for the multivariate imputation row. */
export async function assetSeries(sim: SimulatedLake, assets: number): Promise<Series[][]> {
  const out: Series[][] = [];
  for (const a of sim.truth.assets.slice(0, assets)) {
    const ids = a.sensors.filter((id) => !id.endsWith('/state'));
    out.push((await loadWhere(sim.lake, `sensor_id IN (${ids.map((i) => `'${i}'`).join(', ')})`)).series);
  }
  return out;
}
