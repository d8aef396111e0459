// Wide CSV: `ts` then one column per sensor, one file per sensor interval (wide-1s.csv, wide-10s.csv), as historian
// exports lay out tags polled together. An empty cell means no reading; a row is split when a key repeats or arrives late.

import { InvalidArgumentError } from '../../errors.js';
import type { MalformedReason } from '../faults.js';
import { OutFile } from './out-file.js';
import { ascii, IsoCache, STATUS_TEXTS, TextOut } from './text-out.js';
import type { RecordLocation, SimWriter, WriterCapabilities, WriterContext, WrittenFile } from './types.js';

const EMPTY = 0;
const NUMBER = 1;
const STATE = 2;
const RAW = 3;
const NON_FINITE = ['NaN', 'Infinity', '-Infinity'];
/** Widest cell: a comma and a number, state word or status text. */
const CELL_MAX = 24;

interface Group {
  label: string;
  sensors: number[];
  out?: TextOut<OutFile>;
  line: number;
  records: number;
  /** The pending row: its instant and cells (by column). */
  t: number;
  filled: number;
  kind: Uint8Array;
  value: Float64Array;
  raw: string[];
  iso: IsoCache;
}

export function intervalLabel(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export class WideCsvWriter implements SimWriter {
  readonly capabilities: WriterCapabilities = { reasons: ['non_finite', 'type_mismatch'], garbage: true, quality: false };
  readonly conventions = [
    'one file per sensor interval, wide-<interval>.csv: header ts,<sensor id>,...; ts ISO 8601 UTC with ms and Z; no quality column; location = 1-based line (header is line 1)',
    'an empty cell is no reading; a row holds each sensor at most once, so a duplicate or a late reading starts a new row with the other cells empty; each non-empty cell is one record',
    'non_finite: a NaN, Infinity or -Infinity cell; type_mismatch: a status text cell (e.g. I/O Timeout) for a numeric sensor',
    'malformed_record: a line with the wrong number of columns, written between rows in addition to the readings; bad_timestamp, bad_value and missing_sensor_id cannot be expressed per reading here',
  ];
  private readonly groups: Group[] = [];
  private readonly groupOf: Int32Array;
  private readonly colOf: Int32Array;
  private readonly decimals: Int32Array;
  private readonly stateBytes: Uint8Array[];
  private readonly written: WrittenFile[] = [];

  constructor(private readonly ctx: WriterContext) {
    this.groupOf = new Int32Array(ctx.sensors.length);
    this.colOf = new Int32Array(ctx.sensors.length);
    this.decimals = Int32Array.from(ctx.sensors.map((s) => s.decimals));
    this.stateBytes = ctx.states.map((s) => ascii(s));
    const byInterval = new Map<number, Group>();
    for (const s of ctx.sensors) {
      let g = byInterval.get(s.intervalMs);
      if (!g) {
        g = { label: intervalLabel(s.intervalMs), sensors: [], line: 0, records: 0, t: NaN, filled: 0, kind: new Uint8Array(0), value: new Float64Array(0), raw: [], iso: new IsoCache() };
        byInterval.set(s.intervalMs, g);
        this.groups.push(g);
      }
      this.groupOf[s.index] = this.groups.indexOf(g);
      this.colOf[s.index] = g.sensors.length;
      g.sensors.push(s.index);
    }
    for (const g of this.groups) {
      g.kind = new Uint8Array(g.sensors.length);
      g.value = new Float64Array(g.sensors.length);
      g.raw = new Array<string>(g.sensors.length).fill('');
      // A row must fit in one output buffer.
      if (g.sensors.length * CELL_MAX > 1 << 19) throw new InvalidArgumentError(`wide CSV: ${g.sensors.length} sensors with a ${g.label} interval is more columns than one file supports (${(1 << 19) / CELL_MAX})`);
    }
  }

  async startDay(day: string): Promise<void> {
    if (this.groups[0].out && this.ctx.split === 'none') return;
    for (const g of this.groups) {
      if (g.out) await this.closeGroup(g);
      const name = this.ctx.split === 'day' ? `wide-${g.label}-${day}.csv` : `wide-${g.label}.csv`;
      g.out = new TextOut(new OutFile(this.ctx.dir, name, this.ctx.gzip));
      g.out.str(`ts,${g.sensors.map((i) => this.ctx.sensors[i].id).join(',')}\n`);
      g.line = 1;
      g.records = 0;
    }
  }

  /** The group of `sensor` with its pending row ready to take `sensor`'s cell at `t`. */
  private cell(sensor: number, t: number): Group {
    const g = this.groups[this.groupOf[sensor]];
    if (g.filled > 0 && (g.t !== t || g.kind[this.colOf[sensor]] !== EMPTY)) this.flushRow(g);
    g.t = t;
    g.filled++;
    g.records++;
    return g;
  }

  private flushRow(g: Group): void {
    if (g.filled === 0) return;
    const o = g.out as TextOut<OutFile>;
    o.room(g.sensors.length * CELL_MAX + 64);
    o.bytes(g.iso.get(g.t));
    for (let c = 0; c < g.sensors.length; c++) {
      o.byte(44);
      const k = g.kind[c];
      if (k === NUMBER) o.fixed(g.value[c], this.decimals[g.sensors[c]]);
      else if (k === STATE) o.bytes(this.stateBytes[g.value[c]]);
      else if (k === RAW) o.str(g.raw[c]);
      g.kind[c] = EMPTY;
    }
    o.byte(10);
    g.line++;
    g.filled = 0;
  }

  reading(sensor: number, t: number, value: number): void {
    const g = this.cell(sensor, t);
    const c = this.colOf[sensor];
    g.kind[c] = NUMBER;
    g.value[c] = value;
  }

  text(sensor: number, t: number, state: number): void {
    const g = this.cell(sensor, t);
    const c = this.colOf[sensor];
    g.kind[c] = STATE;
    g.value[c] = state;
  }

  malformed(sensor: number, t: number, reason: MalformedReason, variant: number): RecordLocation {
    const text = reason === 'non_finite' ? NON_FINITE[variant % NON_FINITE.length] : reason === 'type_mismatch' ? STATUS_TEXTS[variant % STATUS_TEXTS.length] : null;
    if (text === null) throw new Error(`wide CSV cannot write ${reason}`);
    const g = this.cell(sensor, t);
    const c = this.colOf[sensor];
    g.kind[c] = RAW;
    g.raw[c] = text;
    // The pending row is the next line written to this group's file.
    return { file: (g.out as TextOut<OutFile>).file.name, location: g.line + 1, locationKind: 'line' };
  }

  garbage(sensor: number, _t: number, variant: number): RecordLocation {
    const g = this.groups[this.groupOf[sensor]];
    this.flushRow(g);
    const o = g.out as TextOut<OutFile>;
    o.room();
    const lines = ['--- export resumed after gateway restart ---', 'ts;value;quality'];
    o.str(`${lines[variant % lines.length]}\n`);
    g.records++;
    return { file: o.file.name, location: ++g.line, locationKind: 'line' };
  }

  get backlog(): boolean {
    return this.groups.some((g) => g.out?.file.backlog);
  }

  async drain(): Promise<void> {
    for (const g of this.groups) await g.out?.file.drain();
  }

  private async closeGroup(g: Group): Promise<void> {
    const o = g.out as TextOut<OutFile>;
    this.flushRow(g);
    o.flush();
    o.file.records = g.records;
    this.written.push(await o.file.close());
    g.out = undefined;
  }

  async close(): Promise<WrittenFile[]> {
    for (const g of this.groups) if (g.out) await this.closeGroup(g);
    return this.written;
  }
}
