// Narrow CSV, the default layout of the CSV source: `ts,sensor_id,value,quality`, ts ISO 8601 UTC with ms,
// quality as a word. Malformed rows are the ways exports really break: empty or garbled fields, status text, junk lines.

import type { MalformedReason } from '../faults.js';
import { TextFileWriter } from './text-file.js';
import { ascii, BAD_QUALITIES, BAD_TIMESTAMPS, IsoCache, STATUS_TEXTS } from './text-out.js';
import { QUALITY_WORDS, type RecordLocation, type SimWriter, type WriterCapabilities, type WriterContext } from './types.js';

export const CSV_REASONS: readonly MalformedReason[] = ['bad_timestamp', 'bad_value', 'non_finite', 'type_mismatch', 'missing_sensor_id', 'bad_quality'];
const NON_FINITE = ['NaN', 'Infinity', '-Infinity'];

export class CsvWriter extends TextFileWriter implements SimWriter {
  readonly capabilities: WriterCapabilities = { reasons: CSV_REASONS, garbage: true, quality: true };
  readonly conventions = [
    'header ts,sensor_id,value,quality; ts ISO 8601 UTC with milliseconds and Z; quality good|uncertain|bad; location = 1-based line (header is line 1)',
    'text sensors (kind state) carry their state word in the value column',
    'bad_timestamp: unparseable or empty ts; bad_value: empty value; non_finite: NaN, Infinity or -Infinity; type_mismatch: status text (e.g. I/O Timeout) in the value of a numeric sensor; missing_sensor_id: empty sensor_id; bad_quality: unknown quality word',
    'malformed_record: a line with the wrong number of columns, written in addition to the readings',
  ];
  private readonly ids: Uint8Array[];
  private readonly decimals: Int32Array;
  private readonly tail: Uint8Array[] = QUALITY_WORDS.map((q) => ascii(`,${q}\n`));
  private readonly stateBytes: Uint8Array[];
  private readonly iso = new IsoCache();

  constructor(ctx: WriterContext) {
    super(ctx, 'readings', 'csv');
    this.ids = ctx.sensors.map((s) => ascii(`,${s.id},`));
    this.decimals = Int32Array.from(ctx.sensors.map((s) => s.decimals));
    this.stateBytes = ctx.states.map((s) => ascii(s));
  }

  protected override header(): void {
    this.out.str('ts,sensor_id,value,quality\n');
    this.line = 1;
  }

  reading(sensor: number, t: number, value: number, quality: number): void {
    const o = this.out;
    o.room();
    o.bytes(this.iso.get(t));
    o.bytes(this.ids[sensor]);
    o.fixed(value, this.decimals[sensor]);
    o.bytes(this.tail[quality]);
    this.line++;
    this.records++;
  }

  text(sensor: number, t: number, state: number, quality: number): void {
    const o = this.out;
    o.room();
    o.bytes(this.iso.get(t));
    o.bytes(this.ids[sensor]);
    o.bytes(this.stateBytes[state]);
    o.bytes(this.tail[quality]);
    this.line++;
    this.records++;
  }

  malformed(sensor: number, t: number, reason: MalformedReason, variant: number, value: number): RecordLocation {
    const id = this.ctx.sensors[sensor].id;
    const ts = new Date(t).toISOString();
    const v = value.toFixed(this.decimals[sensor]);
    const rows: Record<MalformedReason, string> = {
      bad_timestamp: `${BAD_TIMESTAMPS[variant % BAD_TIMESTAMPS.length]},${id},${v},good`,
      bad_value: `${ts},${id},,good`,
      non_finite: `${ts},${id},${NON_FINITE[variant % NON_FINITE.length]},good`,
      type_mismatch: `${ts},${id},${STATUS_TEXTS[variant % STATUS_TEXTS.length]},bad`,
      missing_sensor_id: `${ts},,${v},good`,
      bad_quality: `${ts},${id},${v},${BAD_QUALITIES[variant % BAD_QUALITIES.length]}`,
    };
    return this.raw(rows[reason]);
  }

  garbage(sensor: number, t: number, variant: number): RecordLocation {
    const id = this.ctx.sensors[sensor].id;
    const ts = new Date(t).toISOString();
    // Wrong column counts: a log line pasted into the export, a row cut short, a row with extra fields.
    const lines = ['--- export resumed after gateway restart ---', `${ts},${id.slice(0, Math.ceil(id.length / 2))}`, `${ts},${id},1.0,good,EXTRA,7`];
    return this.raw(lines[variant % lines.length]);
  }

  private raw(line: string): RecordLocation {
    this.out.room();
    this.out.str(`${line}\n`);
    this.records++;
    return this.location(++this.line);
  }
}
