// Avro object container files: records encoded by avsc, framed here so the sync marker comes from the seed (avsc's
// own encoder draws a random one, and the same seed must give byte-identical files). ts is a timestamp-micros long.

import avro from 'avsc';
import type { MalformedReason } from '../faults.js';
import { Rng, substream } from '../random.js';
import { ColumnRows, COLUMNAR_CONVENTIONS, COLUMNAR_REASONS, QUALITY_TEXT } from './columns.js';
import { OutFile } from './out-file.js';
import type { RecordLocation, SimWriter, WriterCapabilities, WriterContext, WrittenFile } from './types.js';

export const AVRO_SCHEMA = {
  type: 'record',
  name: 'Reading',
  namespace: 'sensorlake',
  fields: [
    { name: 'ts', type: ['null', { type: 'long', logicalType: 'timestamp-micros' }] },
    { name: 'sensor_id', type: ['null', 'string'] },
    { name: 'value', type: ['null', 'double'] },
    { name: 'value_text', type: ['null', 'string'] },
    { name: 'quality', type: ['null', 'string'] },
  ],
};

const HEADER = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const LONG = avro.Type.forSchema('long');
const BLOCK_BYTES = 1 << 16;
/** Rows gathered before encoding: encoding from columns keeps the hot path free of objects. */
const ROWS = 4096;

interface Rec {
  ts: number | null;
  sensor_id: string | null;
  value: number | null;
  value_text: string | null;
  quality: string | null;
}

export class AvroWriter implements SimWriter {
  readonly capabilities: WriterCapabilities = { reasons: COLUMNAR_REASONS, garbage: false, quality: true };
  readonly conventions = ['Avro object container file, codec null, one file (or one per day with split); ts is long with logicalType timestamp-micros', ...COLUMNAR_CONVENTIONS];
  private readonly type = avro.Type.forSchema(AVRO_SCHEMA as avro.Schema);
  private readonly rows: ColumnRows;
  private readonly sync: Buffer;
  private file: OutFile | null = null;
  private block = Buffer.allocUnsafe(BLOCK_BYTES);
  private blockPos = 0;
  private blockCount = 0;
  private records = 0;
  private readonly written: WrittenFile[] = [];
  private readonly rec: Rec = { ts: null, sensor_id: null, value: null, value_text: null, quality: null };

  constructor(private readonly ctx: WriterContext) {
    this.rows = new ColumnRows(ROWS, ctx.states);
    const rng = new Rng(substream(ctx.seed, 5));
    this.sync = Buffer.alloc(16);
    for (let i = 0; i < 16; i += 4) this.sync.writeUInt32LE(rng.u32(), i);
  }

  async startDay(day: string): Promise<void> {
    if (this.file && this.ctx.split === 'none') return;
    if (this.file) await this.closeFile();
    this.file = new OutFile(this.ctx.dir, this.ctx.split === 'day' ? `readings-${day}.avro` : 'readings.avro', this.ctx.gzip);
    const meta = { 'avro.schema': Buffer.from(JSON.stringify(AVRO_SCHEMA)), 'avro.codec': Buffer.from('null') };
    this.file.write(HEADER.toBuffer({ magic: Buffer.from('Obj\x01', 'latin1'), meta, sync: this.sync }));
    this.records = 0;
  }

  private next(): void {
    if (this.rows.full) this.encodeRows();
  }

  reading(sensor: number, t: number, value: number, quality: number): void {
    this.next();
    this.rows.number(sensor, t, value, quality);
  }

  text(sensor: number, t: number, state: number, quality: number): void {
    this.next();
    this.rows.state(sensor, t, state, quality);
  }

  malformed(sensor: number, t: number, reason: MalformedReason, variant: number, value: number): RecordLocation {
    this.next();
    const k = this.rows.malformed(sensor, t, reason, variant, value);
    return { file: (this.file as OutFile).name, location: this.records + k, locationKind: 'record' };
  }

  garbage(): RecordLocation {
    throw new Error('Avro has no unparseable records');
  }

  private encodeRows(): void {
    const r = this.rows;
    const rec = this.rec;
    const ids = this.ctx.sensors;
    for (let k = 0; k < r.length; k++) {
      rec.ts = Number.isNaN(r.ts[k]) ? null : r.ts[k] * 1000;
      rec.sensor_id = r.sensor[k] < 0 ? null : ids[r.sensor[k]].id;
      rec.value = r.valueValid[k] ? r.value[k] : null;
      rec.value_text = r.text[k] < 0 ? null : r.texts[r.text[k]];
      rec.quality = QUALITY_TEXT[r.quality[k]];
      let pos = this.type.encode(rec, this.block, this.blockPos);
      if (pos < 0) {
        this.endBlock();
        pos = this.type.encode(rec, this.block, 0);
      }
      this.blockPos = pos;
      this.blockCount++;
    }
    this.records += r.length;
    r.length = 0;
  }

  private endBlock(): void {
    if (this.blockCount === 0) return;
    const f = this.file as OutFile;
    f.write(Buffer.concat([LONG.toBuffer(this.blockCount), LONG.toBuffer(this.blockPos), this.block.subarray(0, this.blockPos), this.sync]));
    this.block = Buffer.allocUnsafe(BLOCK_BYTES);
    this.blockPos = 0;
    this.blockCount = 0;
  }

  get backlog(): boolean {
    return this.file?.backlog ?? false;
  }

  drain(): Promise<void> {
    return this.file?.drain() ?? Promise.resolve();
  }

  private async closeFile(): Promise<void> {
    this.encodeRows();
    this.endBlock();
    const f = this.file as OutFile;
    f.records = this.records;
    this.written.push(await f.close());
    this.file = null;
  }

  async close(): Promise<WrittenFile[]> {
    if (this.file) await this.closeFile();
    return this.written;
  }
}
