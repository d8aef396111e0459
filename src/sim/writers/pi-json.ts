// PI Web API recorded-values JSON: one file per sensor (per sensor and day with split), {"Name", "Items": [...]}
// with Timestamp, Value, Good, Questionable, Substituted, UnitsAbbreviation per item; the state as a digital-state object.

import { appendFileSync, createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { MalformedReason } from '../faults.js';
import { ascii, BAD_TIMESTAMPS, IsoCache, STATUS_TEXTS, TextOut, type ByteSink } from './text-out.js';
import { BAD, UNCERTAIN, type RecordLocation, type SimWriter, type WriterCapabilities, type WriterContext, type WrittenFile } from './types.js';

const ITEM_HEAD = ascii('{"Timestamp":"');
const VALUE_KEY = ascii('","Value":');
const SEPARATOR = ascii(',\n');

/** Appends each full buffer to its file synchronously: hundreds of sensor files open at once would exhaust descriptors. */
class AppendSink implements ByteSink {
  constructor(
    readonly name: string,
    readonly full: string,
  ) {}
  write(chunk: Uint8Array): void {
    appendFileSync(this.full, chunk);
  }
}

interface SensorFile {
  out: TextOut<AppendSink>;
  items: number;
}

export function piFileStem(sensorId: string): string {
  return sensorId.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export class PiJsonWriter implements SimWriter {
  readonly capabilities: WriterCapabilities = { reasons: ['bad_timestamp', 'bad_value', 'type_mismatch'], garbage: true, quality: true };
  readonly conventions = [
    'one file per sensor (<sensor id with / as _>[.<day>].json): {"Name": sensor id, "UnitsAbbreviation", "Items": [...]}; location = 0-based index in Items',
    'item: {"Timestamp": ISO 8601 UTC with ms and Z, "Value", "UnitsAbbreviation", "Good", "Questionable", "Substituted": false, "Annotated": false}; quality good = Good and not Questionable, uncertain = Good and Questionable, bad = not Good',
    'text sensors (kind state) carry a digital state as Value: {"Name": "RUNNING", "Value": 0, "IsSystem": false}; the text is Name',
    'bad_timestamp: unparseable or empty Timestamp; bad_value: Value null; type_mismatch: a system digital state {"Name": "I/O Timeout", "Value": 246, "IsSystem": true} as the Value of a numeric sensor, Good false',
    'malformed_record: an item that is not an object (a string), in addition to the readings',
  ];
  private readonly files = new Map<number, SensorFile>();
  private readonly written: WrittenFile[] = [];
  private readonly decimals: Int32Array;
  /** ',"UnitsAbbreviation":..,"Good":..}' per sensor and quality. */
  private readonly tails: Uint8Array[][];
  private readonly states: Uint8Array[];
  private readonly iso = new IsoCache();
  private readonly bufferSize: number;
  private day = '';

  constructor(private readonly ctx: WriterContext) {
    this.decimals = Int32Array.from(ctx.sensors.map((s) => s.decimals));
    this.tails = ctx.sensors.map((s) =>
      [0, 1, 2].map((q) => ascii(`,"UnitsAbbreviation":${JSON.stringify(s.unit)},"Good":${q !== BAD},"Questionable":${q === UNCERTAIN},"Substituted":false,"Annotated":false}`)),
    );
    this.states = ctx.states.map((s, i) => ascii(JSON.stringify({ Name: s, Value: i, IsSystem: false })));
    // 64 MiB of buffers in all, so memory stays bounded however many sensors there are.
    this.bufferSize = Math.max(16 << 10, Math.min(256 << 10, Math.floor((64 << 20) / ctx.sensors.length)));
  }

  async startDay(day: string): Promise<void> {
    if (this.ctx.split === 'day' && this.day !== '') await this.closeAll();
    this.day = day;
  }

  /** The open file of `sensor`, positioned for a new item. */
  private item(sensor: number): SensorFile {
    let f = this.files.get(sensor);
    if (!f) {
      const s = this.ctx.sensors[sensor];
      const name = `${piFileStem(s.id)}${this.ctx.split === 'day' ? `.${this.day}` : ''}.json`;
      const full = path.join(this.ctx.dir, name);
      appendFileSync(full, '');
      // With gzip the file is written plain and compressed at close; locations name the final file.
      f = { out: new TextOut(new AppendSink(this.ctx.gzip ? `${name}.gz` : name, full), this.bufferSize), items: 0 };
      f.out.str(`{"Name":${JSON.stringify(s.id)},"UnitsAbbreviation":${JSON.stringify(s.unit)},"Items":[\n`);
      this.files.set(sensor, f);
    }
    f.out.room();
    if (f.items > 0) f.out.bytes(SEPARATOR);
    return f;
  }

  private head(f: SensorFile, ts: Uint8Array | string): void {
    f.out.bytes(ITEM_HEAD);
    if (typeof ts === 'string') f.out.str(ts);
    else f.out.bytes(ts);
    f.out.bytes(VALUE_KEY);
  }

  reading(sensor: number, t: number, value: number, quality: number): void {
    const f = this.item(sensor);
    this.head(f, this.iso.get(t));
    f.out.fixed(value, this.decimals[sensor]);
    f.out.bytes(this.tails[sensor][quality]);
    f.items++;
  }

  text(sensor: number, t: number, state: number, quality: number): void {
    const f = this.item(sensor);
    this.head(f, this.iso.get(t));
    f.out.bytes(this.states[state]);
    f.out.bytes(this.tails[sensor][quality]);
    f.items++;
  }

  malformed(sensor: number, t: number, reason: MalformedReason, variant: number, value: number): RecordLocation {
    const f = this.item(sensor);
    const ts = new Date(t).toISOString();
    if (reason === 'bad_timestamp') {
      this.head(f, BAD_TIMESTAMPS[variant % BAD_TIMESTAMPS.length]);
      f.out.fixed(value, this.decimals[sensor]);
      f.out.bytes(this.tails[sensor][0]);
    } else if (reason === 'bad_value') {
      this.head(f, ts);
      f.out.str('null');
      f.out.bytes(this.tails[sensor][BAD]);
    } else if (reason === 'type_mismatch') {
      this.head(f, ts);
      f.out.str(JSON.stringify({ Name: STATUS_TEXTS[variant % STATUS_TEXTS.length], Value: 246 + (variant % 4), IsSystem: true }));
      f.out.bytes(this.tails[sensor][BAD]);
    } else throw new Error(`pi-json cannot write ${reason}`);
    return this.at(sensor, f);
  }

  garbage(sensor: number, _t: number, variant: number): RecordLocation {
    const f = this.item(sensor);
    f.out.str(JSON.stringify(['--- gateway restarted, buffered values follow ---', 'ERROR: PI Data Archive unreachable'][variant % 2]));
    return this.at(sensor, f);
  }

  private at(_sensor: number, f: SensorFile): RecordLocation {
    return { file: f.out.file.name, location: f.items++, locationKind: 'record' };
  }

  readonly backlog = false;

  async drain(): Promise<void> {}

  private async closeAll(): Promise<void> {
    for (const f of this.files.values()) {
      f.out.str('\n]}\n');
      f.out.flush();
      const name = f.out.file.name;
      if (this.ctx.gzip) {
        await pipeline(createReadStream(f.out.file.full), createGzip({ level: 1 }), createWriteStream(path.join(this.ctx.dir, name)));
        await fs.rm(f.out.file.full);
      }
      const st = await fs.stat(path.join(this.ctx.dir, name));
      this.written.push({ path: name, bytes: st.size, records: f.items });
    }
    this.files.clear();
  }

  async close(): Promise<WrittenFile[]> {
    await this.closeAll();
    this.written.sort((a, b) => a.path.localeCompare(b.path));
    return this.written;
  }
}
