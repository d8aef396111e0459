// truth.json: the ground truth of a simulated run, so a backfill's result can be checked to the record: the expected
// counts, every injected fault with where it landed, the sensor list and the couplings with their lags.

import type { SourceFormat } from '../sources/options.js';
import type { RejectReason } from '../sources/batch.js';
import { MACHINE_STATES, type Plant, type SimSensor } from './catalog.js';
import type { FaultProfile } from './faults.js';
import type { Coupling } from './model.js';
import type { FaultOutcome, RunCounts } from './run.js';
import type { WrittenFile } from './writers/types.js';

export interface SensorRow {
  sensor_id: string;
  asset: string;
  unit: string;
  interval_s: number;
  valid_min: number | null;
  valid_max: number | null;
  description: string;
  kind: string;
  value_type: 'numeric' | 'text';
}

export interface TruthExpected {
  /** Records in the data files: readings plus malformed records. */
  records: number;
  /** Records a backfill accepts as readings (duplicates and out-of-range values included). */
  readings: number;
  /** Distinct valid (sensor_id, ts) keys: what the table holds after dedup. */
  distinctKeys: number;
  /** Extra records that repeat a reading exactly. */
  exactDuplicates: number;
  /** Extra records with an existing key and a different value (or quality). */
  conflictingDuplicates: number;
  /** All extra records with an existing key: exactDuplicates + conflictingDuplicates. */
  duplicates: number;
  /** Malformed records by reject reason (REJECT_REASONS of src/sources/batch.ts). */
  malformed: Partial<Record<RejectReason, number>>;
  malformedTotal: number;
  /** Readings outside [valid_min, valid_max]: kept, with quality bad. */
  outOfRange: number;
  /** Readings by the quality the source wrote; null when the format carries no quality. */
  quality: { good: number; uncertain: number; bad: number } | null;
  textReadings: number;
  /** Readings the gaps left out. */
  missing: number;
  /** Readings written late, after later readings of the same sensor. */
  late: number;
}

export type TruthFault =
  | { kind: 'gap' | 'stuck' | 'out_of_order'; sensor_id: string; from: string; to: string; readings: number; value?: number; writtenAfter?: string }
  | { kind: 'spike'; sensor_id: string; ts: string; value: number; outOfRange: boolean }
  | { kind: 'duplicate'; sensor_id: string; ts: string; conflicting: boolean; value: number | string; secondValue?: number }
  | { kind: 'malformed'; reason: RejectReason; sensor_id: string; ts: string; value?: number; file: string; location: number; locationKind: string };

export interface Truth {
  version: 1;
  generator: 'sensorlake simulate';
  format: SourceFormat;
  seed: number;
  from: string;
  to: string;
  intervalSeconds: number;
  faultProfile: FaultProfile;
  gzip: boolean;
  split: 'none' | 'day';
  sensorsFile: 'sensors.csv';
  files: WrittenFile[];
  /** How this format's records were written, malformed ones included: what a reader must assume. */
  conventions: string[];
  expected: TruthExpected;
  sensors: SensorRow[];
  assets: { path: string; type: string; sensors: string[] }[];
  couplings: Coupling[];
  faults: TruthFault[];
}

export function sensorRow(s: SimSensor): SensorRow {
  return {
    sensor_id: s.id,
    asset: s.asset,
    unit: s.unit,
    interval_s: s.intervalMs / 1000,
    valid_min: Number.isNaN(s.min) ? null : s.min,
    valid_max: Number.isNaN(s.max) ? null : s.max,
    description: s.description,
    kind: s.kind,
    value_type: s.valueType,
  };
}

export function expectedCounts(c: RunCounts, qualityCarried: boolean): TruthExpected {
  return {
    records: c.records,
    readings: c.readings,
    distinctKeys: c.distinctKeys,
    exactDuplicates: c.exactDuplicates,
    conflictingDuplicates: c.conflictingDuplicates,
    duplicates: c.exactDuplicates + c.conflictingDuplicates,
    malformed: c.malformed,
    malformedTotal: Object.values(c.malformed).reduce((a, b) => a + (b ?? 0), 0),
    outOfRange: c.outOfRange,
    quality: qualityCarried ? { good: c.quality[0], uncertain: c.quality[1], bad: c.quality[2] } : null,
    textReadings: c.textReadings,
    missing: c.missing,
    late: c.late,
  };
}

export function truthFaults(outcomes: FaultOutcome[], plant: Plant, startMs: number): TruthFault[] {
  const iso = (step: number): string => new Date(startMs + step * plant.intervalMs).toISOString();
  const out: { at: number; sensor: number; f: TruthFault }[] = [];
  for (const o of outcomes) {
    const f = o.fault;
    const sensor_id = plant.sensors[f.sensor].id;
    const ts = iso(f.start);
    let t: TruthFault;
    switch (f.kind) {
      case 'gap':
      case 'stuck':
        t = { kind: f.kind, sensor_id, from: ts, to: iso(f.end), readings: o.readings, ...(f.kind === 'stuck' ? { value: o.value } : {}) };
        break;
      case 'out_of_order':
        t = { kind: f.kind, sensor_id, from: ts, to: iso(f.end), readings: o.readings, writtenAfter: iso(f.release as number) };
        break;
      case 'spike':
        t = { kind: 'spike', sensor_id, ts, value: o.value as number, outOfRange: o.outOfRange === true };
        break;
      case 'duplicate':
      case 'conflict': {
        // A text sensor's value is its state code in the run; truth.json gives the word the file holds.
        const value = plant.sensors[f.sensor].valueType === 'text' ? MACHINE_STATES[o.value as number] : (o.value as number);
        t = { kind: 'duplicate', sensor_id, ts, conflicting: f.kind === 'conflict', value, ...(f.kind === 'conflict' ? { secondValue: o.secondValue } : {}) };
        break;
      }
      case 'malformed':
      case 'garbage': {
        const at = o.at as NonNullable<typeof o.at>;
        t = {
          kind: 'malformed',
          reason: f.kind === 'garbage' ? 'malformed_record' : (f.reason as RejectReason),
          sensor_id,
          ts,
          ...(f.kind === 'malformed' ? { value: o.value } : {}),
          file: at.file,
          location: at.location,
          locationKind: at.locationKind,
        };
        break;
      }
    }
    out.push({ at: f.start, sensor: f.sensor, f: t });
  }
  out.sort((a, b) => a.at - b.at || a.sensor - b.sensor);
  return out.map((x) => x.f);
}
