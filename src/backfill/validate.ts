// Checks every reading a source yields before it is staged: --from/--to, text values against the sensor's kind,
// values against the sensor's valid range (kept, marked bad), and OPC UA quality bits. Pure: results go to a sink.

import * as arrow from 'apache-arrow';
import type { RejectReason } from '../sources/batch.js';
import type { SensorInfo, SensorKind } from './sensor-list.js';
import { QUALITY } from './lake.js';
import { isoMicros } from './plan.js';

const TWO_32 = 4294967296;

/** The run's sensors: string ids to dense integers, with what the list or the lake says of each. */
export class SensorDict {
  readonly index = new Map<string, number>();
  readonly names: string[] = [];
  readonly kind: (SensorKind | null)[] = [];
  readonly min: number[] = [];
  readonly max: number[] = [];

  /** The last dictionary remapped, by its bytes: one client's requests tend to name the same sensors in one order. */
  private last: { bytes: Buffer; offsets: Int32Array; remap: Int32Array } | null = null;

  constructor(private readonly known: (id: string) => SensorInfo | undefined) {}

  /** Run-wide indexes of the words of a batch's sensor_id dictionary (the array is shared: do not change it). */
  remapWords(words: arrow.Vector): Int32Array {
    const d = words.data[0];
    const n = words.length;
    if (words.data.length !== 1 || words.nullCount > 0 || !arrow.DataType.isUtf8(d.type)) {
      return Int32Array.from({ length: n }, (_, k) => this.id(String(words.get(k))));
    }
    const off = d.valueOffsets as Int32Array;
    const bytes = d.values as Uint8Array;
    const base = off[0];
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset + base, off[n] - base);
    const last = this.last;
    if (last && last.offsets.length === n + 1 && last.bytes.equals(buf)) {
      let same = true;
      for (let k = 1; k <= n && same; k++) same = last.offsets[k] === off[k] - base;
      if (same) return last.remap;
    }
    // Buffer.toString decodes a word several times faster than Vector.get's TextDecoder.
    const remap = new Int32Array(n);
    const offsets = new Int32Array(n + 1);
    for (let k = 0; k < n; k++) {
      offsets[k + 1] = off[k + 1] - base;
      remap[k] = this.id(buf.toString('utf8', off[k] - base, off[k + 1] - base));
    }
    this.last = { bytes: Buffer.from(buf), offsets, remap };
    return remap;
  }

  id(name: string): number {
    let k = this.index.get(name);
    if (k === undefined) {
      k = this.names.length;
      this.index.set(name, k);
      this.names.push(name);
      const s = this.known(name);
      this.kind.push(s?.kind ?? null);
      this.min.push(s?.valid_min ?? -Infinity);
      this.max.push(s?.valid_max ?? Infinity);
    }
    return k;
  }
}

export interface ValidationSink {
  /** A valid reading to stage (its kind is settled). */
  row(ts: number, sid: number, value: number | null, text: string | null, quality: number, loc: number): void;
  /** A text reading of a sensor whose kind is not known yet: settled once all input is read. */
  pendingText(ts: number, sid: number, text: string, quality: number, loc: number): void;
  reject(raw: string, reason: RejectReason, message: string, loc: number): void;
  /** Numeric or text evidence for a sensor's kind, and its timestamps for the median step. */
  observe(sid: number, ts: number, numeric: boolean, text: boolean): void;
}

export interface ValidationRules {
  fromUs?: number;
  /** Exclusive. */
  toUs?: number;
}

/** Raw text for a reject found after parsing: the record as JSON (the source line is no longer at hand). */
export function recordJson(ts: number, sensor: string, value: number | null, text: string | null, quality: number | null): string {
  return JSON.stringify({ ts: isoMicros(ts), sensor_id: sensor, value, value_text: text, quality });
}

/** The sensor of each dictionary key of the batch's sensor_id column, as run-wide indexes. */
function sensorKeys(col: arrow.Data, dict: SensorDict): (i: number) => number {
  if (arrow.DataType.isDictionary(col.type)) {
    const remap = dict.remapWords(col.dictionary!);
    const keys = col.values as unknown as Int32Array;
    return (i) => remap[keys[i]];
  }
  const v = arrow.makeVector(col);
  return (i) => dict.id(String(v.get(i)));
}

/** Counts of what validation changed without rejecting. */
export interface ValidationCounts {
  outOfRange: number;
}

export function validateBatch(batch: arrow.RecordBatch, dict: SensorDict, rules: ValidationRules, sink: ValidationSink): ValidationCounts {
  const n = batch.numRows;
  const col = (name: string): arrow.Data => batch.getChild(name)!.data[0];
  const tsData = col('ts');
  const tsWords = new Int32Array((tsData.values as unknown as BigInt64Array).buffer, (tsData.values as unknown as BigInt64Array).byteOffset, n * 2);
  const sid = sensorKeys(col('sensor_id'), dict);
  const valueData = col('value');
  const values = valueData.values as unknown as Float64Array;
  const textVec = batch.getChild('value_text');
  const hasText = textVec !== null && textVec.nullCount < n;
  const qData = col('quality');
  const qValues = qData.values as unknown as Int32Array;
  const qAll = qData.nullCount === 0;
  const qNone = qData.nullCount === n;
  const locs = col('location').values as unknown as Float64Array;
  const valueAll = valueData.nullCount === 0;
  const { fromUs, toUs } = rules;
  let outOfRange = 0;
  for (let i = 0; i < n; i++) {
    const ts = tsWords[2 * i + 1] * TWO_32 + (tsWords[2 * i] >>> 0);
    const s = sid(i);
    const hasValue = valueAll || valueData.getValid(i);
    const value = hasValue ? values[i] : null;
    const text = hasText ? ((textVec!.get(i) as string | null) ?? null) : null;
    // Null quality from a source means the source had no quality column: good. Bits are the unsigned StatusCode.
    let q = qNone ? 0 : qAll || qData.getValid(i) ? qValues[i] >>> 0 : 0;
    const loc = locs[i];
    if ((fromUs !== undefined && ts < fromUs) || (toUs !== undefined && ts >= toUs)) {
      const bound = fromUs !== undefined && ts < fromUs ? `before --from ${isoMicros(fromUs)}` : `at or after --to ${isoMicros(toUs!)}`;
      sink.reject(recordJson(ts, dict.names[s], value, text, q), 'out_of_range_time', `ts ${isoMicros(ts)} is ${bound}`, loc);
      continue;
    }
    if (value !== null) {
      if (value < dict.min[s] || value > dict.max[s]) {
        outOfRange++;
        // Kept, but flagged: a reading outside the sensor's physical range is not trustworthy.
        if (q < QUALITY.bad) q = QUALITY.bad;
      }
      sink.observe(s, ts, true, false);
      sink.row(ts, s, value, text, q, loc);
    } else if (text !== null) {
      const kind = dict.kind[s];
      if (kind === 'numeric') {
        sink.reject(recordJson(ts, dict.names[s], null, text, q), 'type_mismatch', `value_text '${text}' for numeric sensor '${dict.names[s]}'`, loc);
        continue;
      }
      sink.observe(s, ts, false, true);
      if (kind === 'state') sink.row(ts, s, null, text, q, loc);
      else sink.pendingText(ts, s, text, q, loc);
    } else {
      sink.observe(s, ts, false, false);
      sink.row(ts, s, null, null, q, loc);
    }
  }
  return { outOfRange };
}
