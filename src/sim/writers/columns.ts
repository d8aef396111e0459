// Rows of the typed formats (Parquet, Avro) gathered column by column: ts, sensor_id, value, value_text, quality,
// each nullable, since nulls and NaN are the only malformed records a typed file can hold.

import type { MalformedReason } from '../faults.js';
import { BAD_QUALITIES, STATUS_TEXTS } from './text-out.js';
import { BAD, QUALITY_WORDS } from './types.js';

/** Quality words by code: the three real ones, then the unknown words bad_quality records carry. */
export const QUALITY_TEXT: readonly string[] = [...QUALITY_WORDS, ...BAD_QUALITIES];

export class ColumnRows {
  /** ms since epoch; NaN is null. */
  readonly ts: Float64Array;
  /** Sensor index; -1 is null. */
  readonly sensor: Int32Array;
  readonly value: Float64Array;
  readonly valueValid: Uint8Array;
  /** Index into `texts`; -1 is null. */
  readonly text: Int32Array;
  /** Index into QUALITY_TEXT. */
  readonly quality: Int8Array;
  /** The value_text strings: machine states, then status texts. */
  readonly texts: readonly string[];
  length = 0;

  constructor(
    readonly capacity: number,
    states: readonly string[],
  ) {
    this.ts = new Float64Array(capacity);
    this.sensor = new Int32Array(capacity);
    this.value = new Float64Array(capacity);
    this.valueValid = new Uint8Array(capacity);
    this.text = new Int32Array(capacity);
    this.quality = new Int8Array(capacity);
    this.texts = [...states, ...STATUS_TEXTS];
  }

  get full(): boolean {
    return this.length >= this.capacity;
  }

  number(sensor: number, t: number, value: number, quality: number): number {
    const k = this.length++;
    this.ts[k] = t;
    this.sensor[k] = sensor;
    this.value[k] = value;
    this.valueValid[k] = 1;
    this.text[k] = -1;
    this.quality[k] = quality;
    return k;
  }

  state(sensor: number, t: number, state: number, quality: number): number {
    const k = this.number(sensor, t, 0, quality);
    this.valueValid[k] = 0;
    this.text[k] = state;
    return k;
  }

  /** A record broken as `reason` says, in the ways a typed schema allows. */
  malformed(sensor: number, t: number, reason: MalformedReason, variant: number, value: number): number {
    const k = this.number(sensor, t, value, 0);
    switch (reason) {
      case 'bad_timestamp':
        this.ts[k] = NaN;
        break;
      case 'bad_value':
        this.valueValid[k] = 0;
        this.quality[k] = BAD;
        break;
      case 'non_finite':
        this.value[k] = [NaN, Infinity, -Infinity][variant % 3];
        break;
      case 'type_mismatch':
        this.valueValid[k] = 0;
        this.text[k] = this.texts.length - STATUS_TEXTS.length + (variant % STATUS_TEXTS.length);
        this.quality[k] = BAD;
        break;
      case 'missing_sensor_id':
        this.sensor[k] = -1;
        break;
      case 'bad_quality':
        this.quality[k] = QUALITY_WORDS.length + (variant % BAD_QUALITIES.length);
        break;
    }
    return k;
  }
}

export const COLUMNAR_REASONS: readonly MalformedReason[] = ['bad_timestamp', 'bad_value', 'non_finite', 'type_mismatch', 'missing_sensor_id', 'bad_quality'];

export const COLUMNAR_CONVENTIONS = [
  'columns ts (timestamp µs UTC), sensor_id (string), value (double), value_text (string: the state word of text sensors), quality (string good|uncertain|bad), all nullable; location = 0-based record index in the file',
  'bad_timestamp: ts null; bad_value: value and value_text null; non_finite: value NaN, Infinity or -Infinity; type_mismatch: value null and value_text a status text (e.g. I/O Timeout) for a numeric sensor; missing_sensor_id: sensor_id null; bad_quality: an unknown quality word',
  'no malformed_record: a typed file has no unparseable records',
];
