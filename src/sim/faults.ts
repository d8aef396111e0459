// The fault plan: where gaps, stuck values, spikes, duplicates, late blocks and malformed records go, decided up
// front from the seed so the streaming run (run.ts) only looks them up. Faults on one sensor never overlap.

import type { RejectReason } from '../sources/batch.js';
import type { Plant } from './catalog.js';
import { Rng, substream } from './random.js';

export const FAULT_PROFILES = ['none', 'default', 'heavy'] as const;
export type FaultProfile = (typeof FAULT_PROFILES)[number];
export type FaultKind = 'gap' | 'stuck' | 'spike' | 'duplicate' | 'conflict' | 'out_of_order' | 'malformed' | 'garbage';
/** Order of planning: later kinds fit around earlier ones, and malformed come last since they depend on the format. */
const KINDS: FaultKind[] = ['out_of_order', 'gap', 'stuck', 'spike', 'duplicate', 'conflict', 'garbage', 'malformed'];

/** A reason a writer can express in its format, for a record replacing one reading. */
export type MalformedReason = Exclude<RejectReason, 'malformed_record' | 'nonexistent_local_time' | 'ambiguous_local_time' | 'out_of_range_time'>;

export interface PlannedFault {
  kind: FaultKind;
  sensor: number;
  /** First affected base step. */
  start: number;
  /** One past the last affected base step (start + 1 for point faults). */
  end: number;
  /** out_of_order: the base step after whose readings the held-back block is written. */
  release?: number;
  reason?: MalformedReason;
  /** Chooses among a writer's renderings of the same reason, and the sign or size of spikes and conflicts. */
  variant: number;
}

interface Rates {
  perSensorDay: Record<FaultKind, number>;
  /** At least this many of each kind (each malformed reason), so short runs still carry every fault. */
  min: number;
  /** At most this many of each kind, so truth.json and the plan stay small for a year of data. */
  cap: number;
}

const DEFAULT: Rates = {
  perSensorDay: { gap: 0.3, stuck: 0.1, spike: 1, duplicate: 0.5, conflict: 0.2, out_of_order: 0.1, malformed: 1, garbage: 0.2 },
  min: 2,
  cap: 2000,
};
const RATES: Record<Exclude<FaultProfile, 'none'>, Rates> = {
  default: DEFAULT,
  heavy: { perSensorDay: Object.fromEntries(Object.entries(DEFAULT.perSensorDay).map(([k, v]) => [k, v * 10])) as Record<FaultKind, number>, min: 8, cap: 10_000 },
};

export interface PlanInput {
  plant: Plant;
  steps: number;
  startMs: number;
  seed: number;
  profile: FaultProfile;
  /** Reasons the chosen format can express for one record; empty when it can express none. */
  reasons: readonly MalformedReason[];
  /** Whether the format can carry a garbage record (an unparseable line or item). */
  garbage: boolean;
}

const DAY_MS = 86_400_000;

/** Faults of each sensor sorted by start step. */
export function planFaults(input: PlanInput): PlannedFault[][] {
  const { plant, steps, profile } = input;
  const bySensor: PlannedFault[][] = plant.sensors.map(() => []);
  if (profile === 'none' || steps < 4) return bySensor;
  const rates = RATES[profile];
  const dt = plant.intervalMs;
  const sensorDays = plant.sensors.reduce((n, s) => n + (steps * dt) / DAY_MS / s.every, 0);
  const numeric = plant.sensors.filter((s) => s.valueType === 'numeric').map((s) => s.index);
  const all = plant.sensors.map((s) => s.index);
  for (const kind of KINDS) {
    if (kind === 'garbage' && !input.garbage) continue;
    if (kind === 'malformed' && input.reasons.length === 0) continue;
    // Malformed records depend on the format: their own stream keeps every other fault the same across formats.
    const rng = new Rng(substream(input.seed, kind === 'malformed' ? 11 : 10 + KINDS.indexOf(kind) * 7));
    const perReason = kind === 'malformed' ? input.reasons.length : 1;
    const wanted = Math.round(rates.perSensorDay[kind] * sensorDays);
    const count = Math.min(rates.cap, Math.max(rates.min * perReason, wanted));
    const pool = kind === 'stuck' || kind === 'spike' || kind === 'conflict' || kind === 'malformed' ? numeric : all;
    if (pool.length === 0) continue;
    for (let k = 0; k < count; k++) {
      for (let attempt = 0; attempt < 20; attempt++) {
        const f = propose(kind, k, rng, pool, input);
        if (f && fits(bySensor[f.sensor], f, plant.sensors[f.sensor].every)) {
          if (kind === 'malformed') f.reason = input.reasons[k % input.reasons.length];
          insert(bySensor[f.sensor], f);
          break;
        }
      }
    }
  }
  return bySensor;
}

function propose(kind: FaultKind, k: number, rng: Rng, pool: readonly number[], input: PlanInput): PlannedFault | null {
  const { plant, steps, startMs } = input;
  const sensor = rng.pick(pool);
  const every = plant.sensors[sensor].every;
  const slots = Math.floor((steps - 1) / every) + 1;
  const start = rng.int(0, slots - 1) * every;
  const variant = k;
  const readings = (lo: number, hi: number): number => Math.max(1, Math.round(rng.logRange(lo, Math.max(lo, hi))));
  const maxSpan = Math.max(1, Math.floor(slots / 20));
  let end = start + every;
  let release: number | undefined;
  if (kind === 'gap') end = start + every * Math.min(maxSpan, readings(3, 7200 / ((every * plant.intervalMs) / 1000)));
  else if (kind === 'stuck') end = start + every * Math.min(maxSpan, readings(30, 3600 / ((every * plant.intervalMs) / 1000)));
  else if (kind === 'out_of_order') {
    end = start + every * Math.min(maxSpan, readings(5, 300));
    const delay = Math.max(1, Math.round(rng.logRange(30_000, 900_000) / plant.intervalMs));
    release = end - 1 + delay;
    // The late block is written before its day ends, so a file per day still holds all of that day's late rows.
    const dayEnd = Math.ceil((startMs + (start + 1) * plant.intervalMs) / DAY_MS) * DAY_MS;
    if (startMs + release * plant.intervalMs >= dayEnd || release >= steps) return null;
  }
  if (end > steps) return null;
  return { kind, sensor, start, end, release, variant };
}

/** True when f, with a margin of one reading on each side, touches no other fault of its sensor. */
function fits(list: PlannedFault[], f: PlannedFault, every: number): boolean {
  const lo = f.start - every;
  const hi = (f.release ?? f.end - 1) + every + 1;
  const i = lowerBound(list, lo);
  for (let j = Math.max(0, i - 1); j < list.length && list[j].start < hi; j++) {
    const g = list[j];
    if (g.start < hi && (g.release ?? g.end - 1) + 1 > lo) return false;
  }
  return true;
}

function insert(list: PlannedFault[], f: PlannedFault): void {
  list.splice(lowerBound(list, f.start), 0, f);
}

function lowerBound(list: PlannedFault[], start: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].start < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
