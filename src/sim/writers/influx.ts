// InfluxDB line protocol: measurement = asset path, field = sensor kind, ns timestamps, so the Influx source's default
// sensor id '{measurement}/{field}' gives back the sensor id. Fields of one asset and instant share a line, as Telegraf does.

import type { MalformedReason } from '../faults.js';
import { TextFileWriter } from './text-file.js';
import { ascii, STATUS_TEXTS } from './text-out.js';
import type { RecordLocation, SimWriter, WriterCapabilities, WriterContext } from './types.js';

const NS_PER_MS = ascii('000000');

/** Escapes a measurement name (commas and spaces) and a field key (commas, equals, spaces). */
function escapeKey(s: string, field: boolean): string {
  return s.replace(field ? /[ ,=]/g : /[ ,]/g, (c) => `\\${c}`);
}

export class InfluxWriter extends TextFileWriter implements SimWriter {
  readonly capabilities: WriterCapabilities = { reasons: ['type_mismatch'], garbage: true, quality: false };
  readonly conventions = [
    'line protocol: <asset path> <kind>=<float>[,<kind>=<float>...] <ns since epoch>; one line per asset and instant; the state as a string field state="RUNNING"; no quality (readings carry none); location = 1-based line',
    'a duplicate, a late reading or a malformed field is written on a line of its own',
    'type_mismatch: a string field (status text such as "I/O Timeout") for a numeric sensor, on its own line',
    'malformed_record: a line that is not line protocol (field without value, trailing junk, an HTTP error text), written in addition to the readings',
  ];
  private readonly measurement: Uint8Array[];
  private readonly field: Uint8Array[];
  private readonly assetOf: Int32Array;
  private readonly decimals: Int32Array;
  private readonly stateBytes: Uint8Array[];
  /** The open line: its asset, instant, and the last sensor in it (a later sensor of the same asset may join). */
  private openAsset = -1;
  private openT = NaN;
  private openSensor = -1;
  private tsT = NaN;
  private tsBytes: Uint8Array = new Uint8Array(0);

  constructor(ctx: WriterContext) {
    super(ctx, 'readings', 'lp');
    this.measurement = ctx.sensors.map((s) => ascii(escapeKey(s.asset, false)));
    this.field = ctx.sensors.map((s) => ascii(`${escapeKey(s.kind, true)}=`));
    this.assetOf = Int32Array.from(ctx.sensors.map((s) => s.assetIndex));
    this.decimals = Int32Array.from(ctx.sensors.map((s) => s.decimals));
    this.stateBytes = ctx.states.map((s) => ascii(`"${s}"`));
  }

  /** Starts a field: on the open line when it belongs there, else on a new line. */
  private field_(sensor: number, t: number): void {
    const o = this.out;
    o.room();
    if (this.openAsset === this.assetOf[sensor] && this.openT === t && sensor > this.openSensor) {
      o.byte(44); // ','
    } else {
      this.endLine();
      o.bytes(this.measurement[sensor]);
      o.byte(32);
      this.openAsset = this.assetOf[sensor];
      this.openT = t;
    }
    this.openSensor = sensor;
    o.bytes(this.field[sensor]);
  }

  protected override endLine(): void {
    if (this.openAsset < 0) return;
    const o = this.out;
    if (this.tsT !== this.openT) {
      this.tsT = this.openT;
      this.tsBytes = ascii(String(this.openT));
    }
    o.byte(32);
    o.bytes(this.tsBytes);
    o.bytes(NS_PER_MS);
    o.byte(10);
    this.line++;
    this.openAsset = -1;
  }

  reading(sensor: number, t: number, value: number): void {
    this.field_(sensor, t);
    this.out.fixed(value, this.decimals[sensor]);
    this.records++;
  }

  text(sensor: number, t: number, state: number): void {
    this.field_(sensor, t);
    this.out.bytes(this.stateBytes[state]);
    this.records++;
  }

  malformed(sensor: number, t: number, reason: MalformedReason, variant: number): RecordLocation {
    if (reason !== 'type_mismatch') throw new Error(`influx cannot write ${reason}`);
    const s = this.ctx.sensors[sensor];
    return this.raw(`${escapeKey(s.asset, false)} ${escapeKey(s.kind, true)}="${STATUS_TEXTS[variant % STATUS_TEXTS.length]}" ${t}000000`);
  }

  garbage(sensor: number, t: number, variant: number): RecordLocation {
    const s = this.ctx.sensors[sensor];
    const m = escapeKey(s.asset, false);
    const lines = [`${m} ${s.kind}= ${t}000000`, `${m} ${s.kind}=1.5 ${t}000000 trailing junk`, '502 Bad Gateway'];
    return this.raw(lines[variant % lines.length]);
  }

  private raw(line: string): RecordLocation {
    this.endLine();
    this.out.room();
    this.out.str(`${line}\n`);
    this.records++;
    return this.location(++this.line);
  }
}
