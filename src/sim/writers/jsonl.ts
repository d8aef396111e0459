// JSON Lines, the JSONL source's default fields: {"ts","sensor_id","value","quality"} per line, the state word as a
// JSON string value. Malformed lines: bad field values, missing keys, and lines that are not JSON at all.

import type { MalformedReason } from '../faults.js';
import { TextFileWriter } from './text-file.js';
import { ascii, BAD_QUALITIES, BAD_TIMESTAMPS, IsoCache, STATUS_TEXTS } from './text-out.js';
import { QUALITY_WORDS, type RecordLocation, type SimWriter, type WriterCapabilities, type WriterContext } from './types.js';

const HEAD = ascii('{"ts":"');

export class JsonlWriter extends TextFileWriter implements SimWriter {
  readonly capabilities: WriterCapabilities = {
    reasons: ['bad_timestamp', 'bad_value', 'type_mismatch', 'missing_sensor_id', 'bad_quality'],
    garbage: true,
    quality: true,
  };
  readonly conventions = [
    'one JSON object per line: {"ts": ISO 8601 UTC with ms and Z, "sensor_id", "value", "quality": good|uncertain|bad}; location = 1-based line',
    'text sensors (kind state) carry their state word as a JSON string value',
    'bad_timestamp: unparseable or empty ts string; bad_value: value null or absent; type_mismatch: a status string or a PI-style status object {"Name","Value","IsSystem"} as the value of a numeric sensor; missing_sensor_id: sensor_id absent, null or empty; bad_quality: unknown quality word',
    'malformed_record: a line that is not JSON (cut short, or an HTML error page), written in addition to the readings; no non_finite: JSON has no NaN',
  ];
  private readonly ids: Uint8Array[];
  private readonly decimals: Int32Array;
  private readonly tail: Uint8Array[] = QUALITY_WORDS.map((q) => ascii(`,"quality":"${q}"}\n`));
  private readonly stateBytes: Uint8Array[];
  private readonly iso = new IsoCache();

  constructor(ctx: WriterContext) {
    super(ctx, 'readings', 'jsonl');
    this.ids = ctx.sensors.map((s) => ascii(`","sensor_id":${JSON.stringify(s.id)},"value":`));
    this.decimals = Int32Array.from(ctx.sensors.map((s) => s.decimals));
    this.stateBytes = ctx.states.map((s) => ascii(JSON.stringify(s)));
  }

  reading(sensor: number, t: number, value: number, quality: number): void {
    const o = this.out;
    o.room();
    o.bytes(HEAD);
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
    o.bytes(HEAD);
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
    const v = Number(value.toFixed(this.decimals[sensor]));
    const status = STATUS_TEXTS[variant % STATUS_TEXTS.length];
    let rec: Record<string, unknown>;
    switch (reason) {
      case 'bad_timestamp':
        rec = { ts: BAD_TIMESTAMPS[variant % BAD_TIMESTAMPS.length], sensor_id: id, value: v, quality: 'good' };
        break;
      case 'bad_value':
        rec = variant % 2 === 0 ? { ts, sensor_id: id, value: null, quality: 'bad' } : { ts, sensor_id: id, quality: 'bad' };
        break;
      case 'type_mismatch':
        rec = { ts, sensor_id: id, value: variant % 2 === 0 ? status : { Name: status, Value: 246, IsSystem: true }, quality: 'bad' };
        break;
      case 'missing_sensor_id':
        rec = [{ ts, value: v, quality: 'good' }, { ts, sensor_id: null, value: v, quality: 'good' }, { ts, sensor_id: '', value: v, quality: 'good' }][variant % 3];
        break;
      case 'bad_quality':
        rec = { ts, sensor_id: id, value: v, quality: BAD_QUALITIES[variant % BAD_QUALITIES.length] };
        break;
      default:
        throw new Error(`jsonl cannot write ${reason}`);
    }
    return this.raw(JSON.stringify(rec));
  }

  garbage(sensor: number, t: number, variant: number): RecordLocation {
    const whole = JSON.stringify({ ts: new Date(t).toISOString(), sensor_id: this.ctx.sensors[sensor].id, value: 1.5, quality: 'good' });
    const lines = [whole.slice(0, Math.floor(whole.length * 0.6)), '<html><body><h1>502 Bad Gateway</h1></body></html>'];
    return this.raw(lines[variant % lines.length]);
  }

  private raw(line: string): RecordLocation {
    this.out.room();
    this.out.str(`${line}\n`);
    this.records++;
    return this.location(++this.line);
  }
}
