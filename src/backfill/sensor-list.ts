// Reads a sensor list (CSV with a header, or JSON: an array of objects or { "sensors": [...] }) into sensor
// metadata, the columns of the simulator's sensors.csv. Validation and the sensors table build on it.

import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { InvalidArgumentError, NotFoundError } from '../errors.js';

export type SensorKind = 'numeric' | 'state';

export interface SensorInfo {
  sensor_id: string;
  asset: string | null;
  unit: string | null;
  /** Expected seconds between readings. */
  interval_s: number | null;
  valid_min: number | null;
  valid_max: number | null;
  description: string | null;
  kind: SensorKind | null;
}

export const SENSOR_COLUMNS = ['sensor_id', 'asset', 'unit', 'interval_s', 'valid_min', 'valid_max', 'description', 'kind'] as const;

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = String(v).trim();
  return s === '' ? null : s;
}

function num(v: unknown, where: string, col: string): number | null {
  if (v === null || v === undefined || (typeof v === 'string' && v.trim() === '')) return null;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${where}: ${col} '${String(v)}' is not a number`);
  return n;
}

/**
 * numeric or state, from `value_type` (numeric | text, as the simulator writes) when given, else from `kind`:
 * 'state' is a state sensor, 'numeric' or any measurement word (temperature, pressure, ...) a numeric one.
 */
function kindOf(kind: string | null, valueType: string | null, where: string): SensorKind | null {
  if (valueType !== null) {
    if (valueType === 'text') return 'state';
    if (valueType === 'numeric') return 'numeric';
    throw new InvalidArgumentError(`${where}: value_type '${valueType}' must be 'numeric' or 'text'`);
  }
  if (kind === null) return null;
  return kind === 'state' ? 'state' : 'numeric';
}

/** One sensor from a record of the list; `where` names the file and row for messages. */
export function sensorFromRecord(rec: Record<string, unknown>, where: string): SensorInfo {
  const id = text(rec.sensor_id);
  if (!id) throw new InvalidArgumentError(`${where}: sensor_id is missing`);
  const kind = kindOf(text(rec.kind), text(rec.value_type), where);
  const s: SensorInfo = {
    sensor_id: id,
    asset: text(rec.asset),
    unit: text(rec.unit),
    interval_s: num(rec.interval_s, where, 'interval_s'),
    valid_min: num(rec.valid_min, where, 'valid_min'),
    valid_max: num(rec.valid_max, where, 'valid_max'),
    description: text(rec.description),
    kind,
  };
  if (s.valid_min !== null && s.valid_max !== null && s.valid_min > s.valid_max) {
    throw new InvalidArgumentError(`${where}: valid_min ${s.valid_min} is above valid_max ${s.valid_max}`);
  }
  return s;
}

/** The sensors of a list file by id; a sensor listed twice is an error (which row would win is a guess). */
export async function loadSensorList(file: string): Promise<Map<string, SensorInfo>> {
  let body: string;
  try {
    body = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`sensor list ${file} does not exist`);
    throw e;
  }
  const isJson = path.extname(file).toLowerCase() === '.json' || /^\s*[[{]/.test(body);
  let records: Record<string, unknown>[];
  let first = 1;
  if (isJson) {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch (e) {
      throw new InvalidArgumentError(`sensor list ${file}: not valid JSON: ${(e as Error).message}`);
    }
    const list = Array.isArray(doc) ? doc : (doc as { sensors?: unknown } | null)?.sensors;
    if (!Array.isArray(list)) throw new InvalidArgumentError(`sensor list ${file}: expected an array of sensors or { "sensors": [...] }`);
    records = list as Record<string, unknown>[];
    first = 0;
  } else {
    try {
      records = parse(body, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, unknown>[];
    } catch (e) {
      throw new InvalidArgumentError(`sensor list ${file}: not valid CSV: ${(e as Error).message}`);
    }
    first = 2; // line 1 is the header
  }
  const out = new Map<string, SensorInfo>();
  records.forEach((rec, i) => {
    const where = isJson ? `sensor list ${file} item ${i + first}` : `sensor list ${file} line ${i + first}`;
    if (typeof rec !== 'object' || rec === null) throw new InvalidArgumentError(`${where}: expected an object`);
    const s = sensorFromRecord(rec, where);
    if (out.has(s.sensor_id)) throw new InvalidArgumentError(`${where}: sensor '${s.sensor_id}' is listed twice`);
    out.set(s.sensor_id, s);
  });
  return out;
}
