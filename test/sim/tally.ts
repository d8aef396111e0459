// Independent recounting of simulated output for the tests: a tally of records keyed by (sensor, ts), fed by small
// parsers written here from the format specs (not from the writers), compared with truth.json's expected counts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface SensorInfo {
  id: string;
  text: boolean;
  min: number;
  max: number;
  intervalS: number;
}

/** sensors.csv, parsed with a minimal RFC 4180 splitter. */
export function readSensors(dir: string): Map<string, SensorInfo> {
  const lines = readFileSync(path.join(dir, 'sensors.csv'), 'utf8').trimEnd().split('\n');
  const head = splitCsv(lines[0]);
  const col = (row: string[], name: string): string => row[head.indexOf(name)];
  const out = new Map<string, SensorInfo>();
  for (const line of lines.slice(1)) {
    const r = splitCsv(line);
    const id = col(r, 'sensor_id');
    out.set(id, { id, text: col(r, 'value_type') === 'text', min: col(r, 'valid_min') === '' ? NaN : Number(col(r, 'valid_min')), max: col(r, 'valid_max') === '' ? NaN : Number(col(r, 'valid_max')), intervalS: Number(col(r, 'interval_s')) });
  }
  return out;
}

export function splitCsv(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cur);
      cur = '';
    } else cur += ch;
  }
  cells.push(cur);
  return cells;
}

export interface Counts {
  records: number;
  readings: number;
  distinctKeys: number;
  exactDuplicates: number;
  conflictingDuplicates: number;
  malformed: Record<string, number>;
  outOfRange: number;
  quality: Record<string, number>;
  textReadings: number;
  late: number;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
export function parseIso(s: unknown): number {
  return typeof s === 'string' && ISO.test(s) ? Date.parse(s) : NaN;
}

export class Tally {
  readonly c: Counts = { records: 0, readings: 0, distinctKeys: 0, exactDuplicates: 0, conflictingDuplicates: 0, malformed: {}, outOfRange: 0, quality: {}, textReadings: 0, late: 0 };
  /** Reject reasons of the malformed records by `file:location` (a wide CSV row may hold several). */
  readonly rejects = new Map<string, string[]>();
  readonly values = new Map<string, (number | string)[]>();
  private readonly lastTs = new Map<string, number>();

  constructor(readonly sensors: Map<string, SensorInfo>) {}

  /** sha256 of the sorted distinct readings as `id|ts ms|value` (first value of a key): equal across formats. */
  digest(): string {
    const lines = [...this.values].map(([key, v]) => `${key}|${String(v[0])}`).sort();
    return createHash('sha256').update(lines.join('\n')).digest('hex');
  }

  reject(reason: string, file: string, location: number): void {
    this.c.records++;
    this.c.malformed[reason] = (this.c.malformed[reason] ?? 0) + 1;
    const key = `${file}:${location}`;
    this.rejects.set(key, [...(this.rejects.get(key) ?? []), reason]);
  }

  /** One record; checks it as a backfill would (timestamp, id, value, quality) and tallies it. */
  record(file: string, location: number, r: { ts: unknown; id: unknown; value: unknown; quality?: unknown }): void {
    const t = parseIso(r.ts);
    if (Number.isNaN(t)) return this.reject('bad_timestamp', file, location);
    if (typeof r.id !== 'string' || r.id === '') return this.reject('missing_sensor_id', file, location);
    const s = this.sensors.get(r.id);
    if (!s) return this.reject('unknown_sensor', file, location);
    let v: number | string;
    if (r.value === null || r.value === undefined || r.value === '') return this.reject('bad_value', file, location);
    if (s.text) {
      if (typeof r.value !== 'string') return this.reject('type_mismatch', file, location);
      v = r.value;
    } else if (typeof r.value === 'number') v = r.value;
    else if (typeof r.value === 'string' && /^-?\d+(\.\d+)?$/.test(r.value)) v = Number(r.value);
    else if (r.value === 'NaN' || r.value === 'Infinity' || r.value === '-Infinity') return this.reject('non_finite', file, location);
    else return this.reject('type_mismatch', file, location);
    if (typeof v === 'number' && !Number.isFinite(v)) return this.reject('non_finite', file, location);
    if (r.quality !== undefined && !['good', 'uncertain', 'bad'].includes(r.quality as string)) return this.reject('bad_quality', file, location);
    this.c.records++;
    this.c.readings++;
    if (r.quality !== undefined) this.c.quality[r.quality as string] = (this.c.quality[r.quality as string] ?? 0) + 1;
    if (typeof v === 'string') this.c.textReadings++;
    else if (v < s.min || v > s.max) this.c.outOfRange++;
    const key = `${r.id}|${t}`;
    const seen = this.values.get(key);
    const q = String(r.quality ?? '');
    if (!seen) {
      this.values.set(key, [v, q]);
      this.c.distinctKeys++;
    } else if (seen[0] === v && seen[1] === q) this.c.exactDuplicates++;
    else this.c.conflictingDuplicates++;
    const last = this.lastTs.get(r.id) ?? -Infinity;
    if (t < last) this.c.late++;
    else this.lastTs.set(r.id, t);
  }
}
