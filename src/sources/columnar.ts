// Shared by the Parquet and Avro readers: finds the mapped fields in a file's schema and turns one record's field
// values (already JS values) into a reading or a reject, with the same rules for both formats.

import { InvalidArgumentError, SchemaMismatchError } from '../errors.js';
import type { ReadingsBuilder, SourceOptions, TimeOptions } from './batch.js';
import { DEFAULT_FIELDS, type ColumnarOptions, type QualityOptions } from './options.js';
import { makeQualityParser } from './quality.js';
import { makeValueParser } from './values.js';
import { makeTimestampParser, type DstKind, type TimestampFailure, type TimestampParser } from './timestamps.js';

export interface ColumnarReadOptions extends ColumnarOptions, SourceOptions {
  quality?: QualityOptions;
}

/** Column names of the canonical fields in one file; quality and value_text only when the file has them. */
export interface ResolvedFields {
  ts: string;
  sensor_id: string;
  value: string;
  quality?: string;
  value_text?: string;
}

/** Maps the configured (or default) names onto the file's columns; a required column that is absent fails the file. */
export function resolveFields(fields: ColumnarOptions['fields'], available: string[], file: string, what: string): ResolvedFields {
  const f = { ...DEFAULT_FIELDS, ...fields };
  const have = new Set(available);
  const out: Partial<ResolvedFields> = {};
  for (const key of ['ts', 'sensor_id', 'value', 'quality', 'value_text'] as const) {
    const name = f[key];
    if (name === undefined) continue;
    if (typeof name !== 'string') throw new InvalidArgumentError(`${file}: ${what} fields are found by name; fields.${key} is the index ${name}`);
    if (have.has(name)) out[key] = name;
    // quality is optional by default; anything the user named explicitly must be there.
    else if (key === 'ts' || key === 'sensor_id' || key === 'value' || fields?.[key] !== undefined) {
      throw new SchemaMismatchError(`${file}: no ${what} field '${name}' for ${key} (the file has: ${available.join(', ') || 'no fields'})`);
    }
  }
  return out as ResolvedFields;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Why a timestamp could not be read. */
export type TsFailure = TimestampFailure;

/** Reads timestamps that are not already UTC instants: text, bare epoch numbers, and naive local times. */
export class TimestampReader {
  private readonly parse: TimestampParser;
  private readonly parseIso: TimestampParser;
  private readonly naiveIsUtc: boolean;

  /** `onDst` counts naive times the DST rules resolved (not rejected), as the builder wants them counted. */
  constructor(
    private readonly time: TimeOptions = {},
    onDst?: (kind: DstKind) => void,
  ) {
    this.parse = makeTimestampParser(time, onDst);
    this.parseIso = makeTimestampParser({ ...time, format: 'iso' }, onDst);
    this.naiveIsUtc = time.zone === 'UTC' || time.zone === 'Etc/UTC';
  }

  /** Fails the file up front: per-row rejects of every record would bury the one-line fix. */
  requireZone(file: string, column: string, kind: string): void {
    if (!this.time.zone) throw new InvalidArgumentError(`${file}: column ${column} holds ${kind} (local times without an offset); set time.zone to read them`);
  }

  /** A string or an epoch number, through timestamps.ts. */
  value(v: string | number): number | TsFailure {
    return this.parse(v);
  }

  /** An int64 epoch: as a number while exact, else as its digits, which the parser scales without rounding. */
  bigint(v: bigint): number | TsFailure {
    return this.parse(v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v.toString());
  }

  /** A wall-clock time in µs (as if it were UTC) in time.zone, through the same DST rules as text. */
  naive(us: number): number | TsFailure {
    if (this.naiveIsUtc) return us;
    const ms = Math.floor(us / 1000);
    const micros = us - ms * 1000;
    const iso = new Date(ms).toISOString().slice(0, -1) + String(micros).padStart(3, '0'); // no 'Z': naive
    return this.parseIso(iso);
  }
}

/** Builds the reading of one record (or its reject) into a ReadingsBuilder. */
export class RecordSink {
  private readonly quality: ReturnType<typeof makeQualityParser>;
  private readonly parseValue = makeValueParser('.'); // binary formats carry no locale

  constructor(
    readonly builder: ReadingsBuilder,
    opts: ColumnarReadOptions,
  ) {
    this.quality = makeQualityParser(opts.quality);
  }

  /** `ts` is µs UTC or a failure; `raw` renders the record for a reject (only called then). */
  add(ts: number | TsFailure, sensor: unknown, value: unknown, quality: unknown, text: unknown, location: number, raw: () => string): void {
    const b = this.builder;
    if (typeof ts !== 'number') return b.reject(raw(), ts.reason, ts.message, location);
    let id: string;
    if (typeof sensor === 'string' && sensor !== '') id = sensor;
    else if (typeof sensor === 'number' || typeof sensor === 'bigint') id = String(sensor);
    else if (sensor === null || sensor === undefined || sensor === '') return b.reject(raw(), 'missing_sensor_id', 'sensor_id is empty', location);
    else return b.reject(raw(), 'type_mismatch', `sensor_id is ${describe(sensor)}, expected text or an integer`, location);

    let v: number | null = null;
    let t: string | null = typeof text === 'string' ? text : null;
    if (typeof value === 'number') v = value;
    else if (typeof value === 'bigint') v = Number(value);
    else if (typeof value === 'boolean') v = value ? 1 : 0;
    else if (typeof value === 'string') {
      // The text sources' rules: numbers, blanks (bad_value), NaN/Inf (non_finite), anything else a text reading.
      const parsed = this.parseValue(value);
      if (typeof parsed === 'number') v = parsed;
      else if (typeof parsed === 'string') t ??= parsed; // states go on as value_text; validation checks the sensor's kind
      else return b.reject(raw(), parsed.reason, `value: ${parsed.message}`, location);
    } else if (value === null || value === undefined) {
      if (t === null) return b.reject(raw(), 'bad_value', 'value is null', location);
    } else return b.reject(raw(), 'type_mismatch', `value is ${describe(value)}, expected a number`, location);
    if (v !== null && !Number.isFinite(v)) return b.reject(raw(), 'non_finite', `value is ${v}`, location);

    let q: number | null = null;
    if (quality !== null && quality !== undefined && quality !== '') {
      const parsed = typeof quality === 'number' || typeof quality === 'string' ? this.quality(quality) : typeof quality === 'bigint' ? this.quality(Number(quality)) : null;
      if (parsed === null) return b.reject(raw(), 'bad_quality', `quality ${describe(quality)} is not a known quality`, location);
      q = parsed;
    }
    b.append(id, ts, v, t, q, location);
  }
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'object') return Array.isArray(v) ? 'a list' : Buffer.isBuffer(v) || v instanceof Uint8Array ? 'bytes' : 'a record';
  return String(v);
}

/** JSON of a record for the quarantine table: bigints as numbers-in-text, bytes as hex, NaN and Infinity as text. */
export function recordJson(record: Record<string, unknown>): string {
  return JSON.stringify(record, function (this: Record<string, unknown>, key: string, v: unknown) {
    const orig = this[key]; // before Buffer#toJSON turned bytes into { type, data }
    if (orig instanceof Uint8Array) return Buffer.from(orig.buffer, orig.byteOffset, orig.byteLength).toString('hex');
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    return v;
  });
}
