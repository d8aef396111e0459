// The plant's physics, stepped once per base interval: a plant load from the shift and day cycle, each asset's state
// machine and load, and each sensor's noise-free signal and noisy reading. Couplings are pure delays (couplings()).

import { MACHINE_STATES, type Plant } from './catalog.js';
import { GAUSS, NOISE_MASK, Rng, substream } from './random.js';

const RUNNING = 0;
const IDLE = 1;
const STOPPED = 2;
const FAULT = 3;
/** Per hour: how often an asset leaves each state, and for where (cumulative choice below). */
const RATES: readonly (readonly [number, number][])[] = [
  [[IDLE, 0.2], [FAULT, 0.01]],
  [[RUNNING, 3], [STOPPED, 0.05]],
  [[RUNNING, 0.5]],
  [[STOPPED, 1]],
];
const DRIVER = { load: 0, flow: 1, loadLagged: 2, flowLagged: 3, none: 4 } as const;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface Coupling {
  cause: string;
  effect: string;
  lagSeconds: number;
  /** effect(t) = intercept + gain * cause_signal(t - lag) + effect noise, cause_signal being the noise-free cause. */
  gain: number;
  intercept: number;
  model: string;
}

/** Shift factor (shifts start 06:00, 14:00, 22:00), weekend factor and the 15-minute dip at each shift handover. */
export function plantLoad(t: number): number {
  const hour = (t % DAY_MS) / HOUR_MS;
  const sinceSix = (hour + 18) % 24;
  const shift = Math.floor(sinceSix / 8);
  const weekday = (Math.floor(t / DAY_MS) + 4) % 7; // 1970-01-01 was a Thursday: 0 Thu .. 2 Sat, 3 Sun
  const weekend = weekday === 2 || weekday === 3 ? 0.5 : 1;
  const handover = sinceSix % 8 < 0.25 ? 0.75 : 1;
  return [1, 0.9, 0.6][shift] * weekend * handover;
}

export class PlantModel {
  readonly stateText = MACHINE_STATES;
  /** Current state of each asset (index into MACHINE_STATES). */
  readonly state: Uint8Array;
  private readonly load: Float64Array;
  private readonly valve: Float64Array;
  private readonly capacity: Float64Array;
  private readonly alpha: Float64Array;
  private readonly lagLoad: Int32Array;
  private readonly lagFlow: Int32Array;
  private readonly ringLoad: Float64Array;
  private readonly ringFlow: Float64Array;
  private readonly ring: number;
  private readonly leave: Float64Array[][] = [];
  // per sensor
  private readonly driver: Uint8Array;
  private readonly assetOf: Int32Array;
  private readonly drift: Float64Array;
  private readonly driftAmp: Float64Array;
  private readonly driftPeriod: Float64Array;
  private readonly driftPhase: Float64Array;
  private readonly scale: Float64Array;
  private readonly assetRng: Rng;
  private ambient = 0;
  private u = 0;
  private lastDriftHour = -1;

  constructor(
    readonly plant: Plant,
    seed: number,
    private readonly startMs: number,
  ) {
    const rng = new Rng(substream(seed, 1));
    this.assetRng = new Rng(substream(seed, 2));
    const na = plant.assets.length;
    const ns = plant.sensors.length;
    const dt = plant.intervalMs / 1000;
    this.state = new Uint8Array(na);
    this.load = new Float64Array(na);
    this.valve = new Float64Array(na);
    this.capacity = new Float64Array(na);
    this.alpha = new Float64Array(na);
    this.lagLoad = new Int32Array(na);
    this.lagFlow = new Int32Array(na);
    for (let a = 0; a < na; a++) {
      this.capacity[a] = rng.range(0.7, 1);
      this.alpha[a] = 1 - Math.exp(-dt / rng.range(60, 180));
      // Lags in whole base intervals, at least one, so the recorded lag is exactly what the data carries.
      this.lagLoad[a] = Math.max(1, Math.round(rng.range(20, 90) / dt));
      this.lagFlow[a] = Math.max(1, Math.round(rng.range(2, 15) / dt));
    }
    this.ring = Math.max(...this.lagLoad, ...this.lagFlow, 1) + 1;
    this.ringLoad = new Float64Array(na * this.ring);
    this.ringFlow = new Float64Array(na * this.ring);
    for (const exits of RATES) {
      this.leave.push(exits.map(([to, perHour]) => Float64Array.of(to, 1 - Math.exp(-(perHour * dt) / 3600))));
    }
    this.driver = new Uint8Array(ns);
    this.assetOf = new Int32Array(ns);
    this.drift = new Float64Array(ns);
    this.driftAmp = new Float64Array(ns);
    this.driftPeriod = new Float64Array(ns);
    this.driftPhase = new Float64Array(ns);
    this.scale = new Float64Array(ns);
    for (const s of plant.sensors) {
      this.assetOf[s.index] = s.assetIndex;
      this.driver[s.index] =
        s.kind === 'temperature' ? DRIVER.loadLagged
        : s.kind === 'pressure' ? DRIVER.flowLagged
        : s.kind === 'flow' ? DRIVER.flow
        : s.kind === 'state' ? DRIVER.none
        : DRIVER.load;
      this.scale[s.index] = 10 ** s.decimals;
      if (s.valueType === 'numeric') {
        this.driftAmp[s.index] = (s.max - s.min) * rng.range(0.002, 0.015);
        this.driftPeriod[s.index] = rng.range(20, 90) * DAY_MS;
        this.driftPhase[s.index] = rng.range(0, 2 * Math.PI);
      }
    }
    // Warm up so lagged drivers have history and the loads have settled before the first reading.
    const warm = this.ring + Math.ceil(600 / dt);
    for (let k = -warm; k < 0; k++) this.advance(k, startMs + k * plant.intervalMs);
  }

  /** Lag of `effect` after its cause, in base intervals. */
  lagSteps(assetIndex: number, driver: 'load' | 'flow'): number {
    return driver === 'load' ? this.lagLoad[assetIndex] : this.lagFlow[assetIndex];
  }

  /** Moves every asset to step `s` (time t ms). Called once per base interval, in order. */
  advance(s: number, t: number): void {
    this.u = s + 1_000_000_000; // keeps ring indexes positive during warm-up
    const plantLoad_ = plantLoad(t);
    this.ambient = Math.cos((2 * Math.PI * ((t % DAY_MS) / HOUR_MS - 15)) / 24);
    const hour = Math.floor(t / HOUR_MS);
    if (hour !== this.lastDriftHour) this.updateDrift(t, hour);
    const rng = this.assetRng;
    const slot = this.u % this.ring;
    for (let a = 0; a < this.state.length; a++) {
      const exits = this.leave[this.state[a]];
      let p = rng.next();
      for (const e of exits) {
        if (p < e[1]) {
          this.state[a] = e[0];
          break;
        }
        p -= e[1];
      }
      const st = this.state[a];
      const target = st === RUNNING ? plantLoad_ * this.capacity[a] : st === IDLE ? 0.1 : st === FAULT ? 0.05 : 0;
      const al = this.alpha[a];
      const kick = Math.sqrt(al * (2 - al));
      const r = rng.u32();
      let l = this.load[a] + al * (target - this.load[a]) + (target > 0 ? 0.06 * kick * GAUSS[r & NOISE_MASK] : 0);
      l = l < 0 ? 0 : l > 1.3 ? 1.3 : l;
      this.load[a] = l;
      let v = this.valve[a] + al * -this.valve[a] + 0.3 * kick * GAUSS[(r >>> 12) & NOISE_MASK];
      v = v < -1 ? -1 : v > 1 ? 1 : v;
      this.valve[a] = v;
      this.ringLoad[a * this.ring + slot] = l;
      this.ringFlow[a * this.ring + slot] = l * (1 + 0.3 * v);
    }
  }

  private updateDrift(t: number, hour: number): void {
    this.lastDriftHour = hour;
    const since = t - this.startMs;
    for (let i = 0; i < this.drift.length; i++) {
      this.drift[i] = this.driftAmp[i] * Math.sin((2 * Math.PI * since) / this.driftPeriod[i] + this.driftPhase[i]);
    }
  }

  /** The noise-free value of numeric sensor i at the current step. */
  signal(i: number): number {
    const a = this.assetOf[i];
    const spec = this.plant.sensors[i].spec;
    const base = a * this.ring;
    const u = this.u;
    let d: number;
    switch (this.driver[i]) {
      case DRIVER.load:
        d = this.ringLoad[base + (u % this.ring)];
        break;
      case DRIVER.flow:
        d = this.ringFlow[base + (u % this.ring)];
        break;
      case DRIVER.loadLagged:
        d = this.ringLoad[base + ((u - this.lagLoad[a]) % this.ring)];
        break;
      case DRIVER.flowLagged:
        d = this.ringFlow[base + ((u - this.lagFlow[a]) % this.ring)];
        break;
      default:
        return NaN;
    }
    let v = spec.base + spec.gain * d + this.drift[i];
    if (spec.ambient !== undefined) v += spec.ambient * this.ambient;
    if (spec.fault !== undefined && this.state[a] === FAULT) v += spec.fault;
    return v;
  }

  /** A reading of numeric sensor i: signal plus noise from the low bits of `draw`, clamped, rounded to its decimals. */
  reading(i: number, draw: number): number {
    const spec = this.plant.sensors[i].spec;
    const v = this.signal(i) + spec.noise * GAUSS[draw & NOISE_MASK];
    // Transmitters saturate at their range ends: out-of-range values come only from injected faults.
    return this.round(i, v < spec.min ? spec.min : v > spec.max ? spec.max : v);
  }

  round(i: number, v: number): number {
    const p = this.scale[i];
    return Math.round(v * p) / p + 0;
  }

  /** The delayed couplings this plant carries, as truth.json records them. */
  couplings(): Coupling[] {
    const out: Coupling[] = [];
    const dt = this.plant.intervalMs / 1000;
    for (const a of this.plant.assets) {
      const by = new Map(a.sensors.map((i) => [this.plant.sensors[i].kind, this.plant.sensors[i]]));
      for (const [causeKind, effectKind, lag] of [['motor_current', 'temperature', this.lagLoad[a.index]], ['flow', 'pressure', this.lagFlow[a.index]]] as const) {
        const cause = by.get(causeKind);
        const effect = by.get(effectKind);
        if (!cause || !effect) continue;
        // Both are linear in the same driver, so effect = e.base + e.gain * (cause - c.base) / c.gain (+ e's own terms).
        const gain = effect.spec.gain / cause.spec.gain;
        out.push({
          cause: cause.id,
          effect: effect.id,
          lagSeconds: lag * dt,
          gain,
          intercept: effect.spec.base - gain * cause.spec.base,
          model: 'effect(t) = intercept + gain * cause_signal(t - lag) + slow drift' + (effect.spec.ambient ? ' + daily ambient' : '') + ' + noise',
        });
      }
    }
    return out;
  }
}
