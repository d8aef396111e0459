// Sensor metadata during a backfill: what the list and the lake's sensors table say, what pass 1 observes in the
// data (kinds, median step), and the one txn-guarded commit that upserts the sensors table after the windows.

import * as arrow from 'apache-arrow';
import type { DeltaTable } from '../delta/table.js';
import { SENSOR_COLUMNS, type SensorInfo, type SensorKind } from './sensor-list.js';

export type { SensorInfo, SensorKind };

// Steps kept per sensor for the median interval: plenty for a regular series, small for plants of 100k sensors.
const SAMPLE = 63;

/** What pass 1 saw of one sensor. */
interface Observed {
  numeric: boolean;
  text: boolean;
  lastTs: number;
  steps: number[];
}

/** Per-sensor evidence gathered while staging, keyed by the run's sensor index. */
export class SensorObserver {
  private seen: Observed[] = [];
  private full = new Uint8Array(64);

  observe(sid: number, ts: number, numeric: boolean, text: boolean): void {
    let o = this.seen[sid];
    if (!o) {
      o = { numeric: false, text: false, lastTs: ts, steps: [] };
      this.seen[sid] = o;
    } else if (ts > o.lastTs) {
      // The first steps in input order: deterministic, and enough for a median of a regular series.
      if (o.steps.length < SAMPLE) o.steps.push(ts - o.lastTs);
      o.lastTs = ts;
    }
    if (numeric) o.numeric = true;
    if (text) o.text = true;
    if (o.numeric && o.steps.length >= SAMPLE && sid < this.full.length) this.full[sid] = 1;
  }

  /**
   * 1 for each sensor (of the first `sensors`) that has seen a numeric value and a full sample of steps: further
   * numeric or empty readings of it change nothing, so a caller may skip observing them.
   */
  saturation(sensors: number): Uint8Array {
    if (this.full.length < sensors) {
      const f = new Uint8Array(Math.max(sensors, this.full.length * 2));
      f.set(this.full);
      this.full = f;
      // Sensors seen before the array grew are marked on their next observation.
    }
    return this.full;
  }

  /** 'state' when none of the sensor's values was numeric but some were text; else 'numeric'. */
  inferredKind(sid: number): SensorKind {
    const o = this.seen[sid];
    return o && !o.numeric && o.text ? 'state' : 'numeric';
  }

  inferred(sid: number, id: string): SensorInfo {
    const o = this.seen[sid];
    const steps = o ? [...o.steps].sort((a, b) => a - b) : [];
    const slash = id.lastIndexOf('/');
    return {
      sensor_id: id,
      asset: slash > 0 ? id.slice(0, slash) : null,
      unit: null,
      interval_s: steps.length ? steps[(steps.length - 1) >> 1] / 1e6 : null, // the lower median
      valid_min: null,
      valid_max: null,
      description: null,
      kind: this.inferredKind(sid),
    };
  }
}

/** The rows of the sensors table by id (empty when the table is new). */
export async function readSensorsTable(table: DeltaTable): Promise<Map<string, SensorInfo>> {
  const out = new Map<string, SensorInfo>();
  const t = await table.read({ columns: [...SENSOR_COLUMNS] });
  for (const row of t) {
    const r = row.toJSON() as Record<string, unknown>;
    const kind = r.kind === 'numeric' || r.kind === 'state' ? r.kind : null;
    out.set(String(r.sensor_id), {
      sensor_id: String(r.sensor_id),
      asset: (r.asset as string | null) ?? null,
      unit: (r.unit as string | null) ?? null,
      interval_s: (r.interval_s as number | null) ?? null,
      valid_min: (r.valid_min as number | null) ?? null,
      valid_max: (r.valid_max as number | null) ?? null,
      description: (r.description as string | null) ?? null,
      kind,
    });
  }
  return out;
}

function same(a: SensorInfo, b: SensorInfo): boolean {
  return SENSOR_COLUMNS.every((c) => a[c] === b[c]);
}

function sensorsTable(rows: SensorInfo[]): arrow.Table {
  const col = <T extends arrow.DataType>(name: (typeof SENSOR_COLUMNS)[number], type: T) =>
    arrow.vectorFromArray(rows.map((r) => r[name]) as unknown[], type);
  return new arrow.Table({
    sensor_id: col('sensor_id', new arrow.Utf8()),
    asset: col('asset', new arrow.Utf8()),
    unit: col('unit', new arrow.Utf8()),
    interval_s: col('interval_s', new arrow.Float64()),
    valid_min: col('valid_min', new arrow.Float64()),
    valid_max: col('valid_max', new arrow.Float64()),
    description: col('description', new arrow.Utf8()),
    kind: col('kind', new arrow.Utf8()),
  });
}

export interface SensorsUpsert {
  /** Sensors whose row was added or changed. */
  upserted: number;
  version: number | null;
  skipped: boolean;
}

/**
 * Upserts `wanted` into the sensors table as one overwrite of the whole (small) table, under txn(jobId, 0); rows of
 * other sensors are carried over unchanged. Nothing is committed when every wanted row is already there as is.
 */
export async function upsertSensors(table: DeltaTable, existing: Map<string, SensorInfo>, wanted: SensorInfo[], jobId: string): Promise<SensorsUpsert> {
  const done = await table.txnVersion(jobId);
  if (done !== undefined && done >= 0) return { upserted: 0, version: null, skipped: true };
  const merged = new Map(existing);
  let changed = 0;
  for (const s of wanted) {
    const old = merged.get(s.sensor_id);
    if (old && same(old, s)) continue;
    merged.set(s.sensor_id, s);
    changed++;
  }
  if (changed === 0) return { upserted: 0, version: null, skipped: false };
  const rows = [...merged.values()].sort((a, b) => (a.sensor_id < b.sensor_id ? -1 : a.sensor_id > b.sensor_id ? 1 : 0));
  const r = await table.write(sensorsTable(rows), { mode: 'overwrite', txn: { appId: jobId, version: 0 }, sortBy: ['sensor_id'] });
  return { upserted: r.skipped ? 0 : changed, version: r.version, skipped: r.skipped };
}
