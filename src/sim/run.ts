// The streaming loop: steps the model through time, draws each due reading, applies the planned faults and hands
// records to the writer, counting exactly what was written. Memory holds one step plus held-back late blocks.

import { REJECT_REASONS, type RejectReason } from '../sources/batch.js';
import type { Plant } from './catalog.js';
import type { PlannedFault } from './faults.js';
import type { PlantModel } from './model.js';
import { Rng, substream } from './random.js';
import { BAD, GOOD, UNCERTAIN, type RecordLocation, type SimWriter } from './writers/types.js';

const DAY_MS = 86_400_000;
/** Natural quality from the top 20 bits of a reading's draw: about 1 in 10,000 bad, 5 in 10,000 uncertain. */
const BAD_BELOW = 105;
const UNCERTAIN_BELOW = 105 + 524;
const FAULT_STATE = 3;

export interface RunCounts {
  /** Every record written: readings plus malformed records. */
  records: number;
  /** Records a backfill reads as readings, duplicates and out-of-range values included. */
  readings: number;
  /** Distinct (sensor_id, ts) keys among the readings. */
  distinctKeys: number;
  exactDuplicates: number;
  conflictingDuplicates: number;
  malformed: Partial<Record<RejectReason, number>>;
  /** Readings (records) whose value lies outside the sensor's valid range. */
  outOfRange: number;
  /** Readings by the quality written: good, uncertain, bad. */
  quality: [number, number, number];
  textReadings: number;
  /** Readings left out by gaps. */
  missing: number;
  /** Readings written after later readings of their sensor (the late blocks). */
  late: number;
}

/** What happened at a fault, for truth.json. */
export interface FaultOutcome {
  fault: PlannedFault;
  readings: number;
  value?: number;
  secondValue?: number;
  outOfRange?: boolean;
  at?: RecordLocation;
}

interface Held {
  release: number;
  items: { sensor: number; t: number; value: number; quality: number }[];
}

export interface RunInput {
  plant: Plant;
  model: PlantModel;
  faults: PlannedFault[][];
  writer: SimWriter;
  startMs: number;
  steps: number;
  seed: number;
}

export async function runSimulation(input: RunInput): Promise<{ counts: RunCounts; outcomes: FaultOutcome[] }> {
  const { plant, model, faults, writer, startMs, steps } = input;
  const sensors = plant.sensors;
  const n = sensors.length;
  const dt = plant.intervalMs;
  const every = Int32Array.from(sensors.map((s) => s.every));
  const isText = Uint8Array.from(sensors.map((s) => (s.valueType === 'text' ? 1 : 0)));
  const assetOf = Int32Array.from(sensors.map((s) => s.assetIndex));
  const min = Float64Array.from(sensors.map((s) => s.min));
  const max = Float64Array.from(sensors.map((s) => s.max));
  const ptr = new Int32Array(n);
  const next = Float64Array.from(faults.map((l) => (l.length ? l[0].start : Infinity)));
  const outcomes = new Map<PlannedFault, FaultOutcome>();
  const held: Held[] = [];
  const heldOf = new Map<PlannedFault, Held>();
  const draws = new Rng(substream(input.seed, 4));
  const c: RunCounts = {
    records: 0, readings: 0, distinctKeys: 0, exactDuplicates: 0, conflictingDuplicates: 0, malformed: {},
    outOfRange: 0, quality: [0, 0, 0], textReadings: 0, missing: 0, late: 0,
  };
  const state = model.state;

  const emit = (i: number, t: number, value: number, q: number): void => {
    c.records++;
    c.readings++;
    c.quality[q]++;
    if (isText[i]) {
      c.textReadings++;
      writer.text(i, t, value, q);
    } else {
      if (value < min[i] || value > max[i]) c.outOfRange++;
      writer.reading(i, t, value, q);
    }
  };
  const reject = (reason: RejectReason): void => {
    c.records++;
    c.malformed[reason] = (c.malformed[reason] ?? 0) + 1;
  };
  const outcome = (f: PlannedFault): FaultOutcome => {
    let o = outcomes.get(f);
    if (!o) outcomes.set(f, (o = { fault: f, readings: 0 }));
    return o;
  };

  /** The reading of sensor i at step s falls on or after its next fault. */
  const faulted = (i: number, s: number, t: number, value: number, q: number): void => {
    let f = faults[i][ptr[i]];
    while (f && s >= f.end) {
      ptr[i]++;
      f = faults[i][ptr[i]];
      next[i] = f ? f.start : Infinity;
    }
    if (!f || s < f.start) {
      emit(i, t, value, q);
      c.distinctKeys++;
      return;
    }
    const o = outcome(f);
    o.readings++;
    const s0 = sensors[i];
    switch (f.kind) {
      case 'gap':
        c.missing++;
        return;
      case 'stuck':
        // A stuck transmitter repeats its last value and still reports good quality: that is what makes it hard.
        if (o.value === undefined) o.value = value;
        emit(i, t, o.value, GOOD);
        c.distinctKeys++;
        return;
      case 'spike': {
        const span = s0.max - s0.min;
        const frac = 0.05 + ((f.variant * 0.618034) % 1) * 0.45;
        let v: number;
        if (f.variant % 2 === 0) v = f.variant % 4 === 0 ? s0.max + frac * span : s0.min - frac * span;
        else v = value + frac * span <= s0.max ? value + frac * span : value - frac * span;
        v = model.round(i, v);
        o.value = v;
        o.outOfRange = v < s0.min || v > s0.max;
        emit(i, t, v, GOOD);
        c.distinctKeys++;
        return;
      }
      case 'duplicate':
        o.value = value;
        emit(i, t, value, q);
        emit(i, t, value, q);
        c.distinctKeys++;
        c.exactDuplicates++;
        return;
      case 'conflict': {
        const step = Math.max(10 ** -s0.decimals, model.round(i, 0.005 * (s0.max - s0.min)));
        const v2 = model.round(i, f.variant % 2 === 0 ? value + step : value - step);
        o.value = value;
        o.secondValue = v2;
        emit(i, t, value, q);
        emit(i, t, v2, q);
        c.distinctKeys++;
        c.conflictingDuplicates++;
        return;
      }
      case 'out_of_order': {
        let h = heldOf.get(f);
        if (!h) {
          h = { release: f.release as number, items: [] };
          heldOf.set(f, h);
          held.push(h);
          held.sort((a, b) => a.release - b.release);
        }
        h.items.push({ sensor: i, t, value, quality: q });
        c.distinctKeys++;
        c.late++;
        return;
      }
      case 'malformed':
        o.value = value;
        o.at = writer.malformed(i, t, f.reason as Exclude<typeof f.reason, undefined>, f.variant, value);
        reject(f.reason as RejectReason);
        return;
      case 'garbage':
        emit(i, t, value, q);
        c.distinctKeys++;
        o.at = writer.garbage(i, t, f.variant);
        reject('malformed_record');
        return;
    }
  };

  let day = -1;
  for (let s = 0; s < steps; s++) {
    const t = startMs + s * dt;
    const d = Math.floor(t / DAY_MS);
    if (d !== day) {
      day = d;
      await writer.startDay(new Date(d * DAY_MS).toISOString().slice(0, 10));
    }
    model.advance(s, t);
    for (let i = 0; i < n; i++) {
      if (every[i] !== 1 && s % every[i] !== 0) continue;
      const r = draws.u32();
      const hi = r >>> 12;
      let q = hi < BAD_BELOW ? BAD : hi < UNCERTAIN_BELOW ? UNCERTAIN : GOOD;
      const a = assetOf[i];
      // A tripped machine's instruments read through transients: its readings are flagged uncertain.
      if (q === GOOD && state[a] === FAULT_STATE && !isText[i]) q = UNCERTAIN;
      const value = isText[i] ? state[a] : model.reading(i, r);
      if (s >= next[i]) faulted(i, s, t, value, q);
      else {
        emit(i, t, value, q);
        c.distinctKeys++;
      }
    }
    while (held.length > 0 && held[0].release <= s) {
      for (const it of (held.shift() as Held).items) emit(it.sensor, it.t, it.value, it.quality);
    }
    if (writer.backlog) await writer.drain();
  }
  for (const h of held) for (const it of h.items) emit(it.sensor, it.t, it.value, it.quality);
  for (const r of REJECT_REASONS) if (c.malformed[r] === 0) delete c.malformed[r];
  return { counts: c, outcomes: [...outcomes.values()] };
}
