// Parquet through parquet-wasm's streaming writer, so a file of any size needs only one row group in memory:
// ts as TIMESTAMP(µs, UTC), sensor_id/value_text/quality as strings, value as double, all nullable.

import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { MalformedReason } from '../faults.js';
import { ColumnRows, COLUMNAR_CONVENTIONS, COLUMNAR_REASONS, QUALITY_TEXT } from './columns.js';
import type { RecordLocation, SimWriter, WriterCapabilities, WriterContext, WrittenFile } from './types.js';

const BATCH_ROWS = 1 << 17;
const ROW_GROUP_ROWS = 1 << 20;

/** A pull-based stream of wasm record batches: the writer waits (backlog) while two batches are queued. */
class BatchQueue {
  private queue: pw.RecordBatch[] = [];
  private ended = false;
  private wake: (() => void) | null = null;
  private taken: (() => void) | null = null;
  readonly stream = new ReadableStream<pw.RecordBatch>(
    {
      pull: async (ctrl) => {
        while (this.queue.length === 0 && !this.ended) await new Promise<void>((r) => (this.wake = r));
        const b = this.queue.shift();
        if (b) ctrl.enqueue(b);
        else ctrl.close();
        this.taken?.();
      },
    },
    { highWaterMark: 0 },
  );

  push(batches: pw.RecordBatch[]): void {
    this.queue.push(...batches);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  get backlog(): boolean {
    return this.queue.length >= 2;
  }

  async drain(): Promise<void> {
    while (this.backlog) await new Promise<void>((r) => (this.taken = r));
  }
}

interface OpenFile {
  name: string;
  queue: BatchQueue;
  done: Promise<void>;
  records: number;
}

export class ParquetWriter implements SimWriter {
  readonly capabilities: WriterCapabilities = { reasons: COLUMNAR_REASONS, garbage: false, quality: true };
  readonly conventions = ['Parquet (zstd), one file (or one per day with split)', ...COLUMNAR_CONVENTIONS];
  private readonly rows: ColumnRows;
  // Strings go in as dictionaries: Parquet dictionary-encodes them anyway, and this skips copying each string.
  private readonly ids: arrow.Vector<arrow.Utf8>;
  private readonly texts: arrow.Vector<arrow.Utf8>;
  private readonly qualities: arrow.Vector<arrow.Utf8>;
  private file: OpenFile | null = null;
  private readonly written: WrittenFile[] = [];

  constructor(private readonly ctx: WriterContext) {
    this.rows = new ColumnRows(BATCH_ROWS, ctx.states);
    this.ids = arrow.vectorFromArray(ctx.sensors.map((s) => s.id), new arrow.Utf8());
    this.texts = arrow.vectorFromArray([...this.rows.texts], new arrow.Utf8());
    this.qualities = arrow.vectorFromArray([...QUALITY_TEXT], new arrow.Utf8());
  }

  async startDay(day: string): Promise<void> {
    if (this.file && this.ctx.split === 'none') return;
    if (this.file) await this.closeFile();
    const name = (this.ctx.split === 'day' ? `readings-${day}.parquet` : 'readings.parquet') + (this.ctx.gzip ? '.gz' : '');
    const queue = new BatchQueue();
    const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).setMaxRowGroupSize(ROW_GROUP_ROWS).build();
    // Not awaited: parquet-wasm reads the first batch (for the schema) before it hands back the byte stream.
    const bytes = pw.transformParquetStream(queue.stream, props);
    const file = createWriteStream(path.join(this.ctx.dir, name));
    let sink: Writable = file;
    if (this.ctx.gzip) {
      sink = createGzip({ level: 1 });
      sink.pipe(file);
    }
    const finished = new Promise<void>((resolve, reject) => file.on('close', resolve).on('error', reject));
    const done = bytes.then((b) => b.pipeTo(Writable.toWeb(sink) as WritableStream<Uint8Array>)).then(() => finished);
    done.catch(() => undefined); // surfaced by closeFile()
    this.file = { name, queue, done, records: 0 };
  }

  private next(): void {
    if (this.rows.full) this.flush();
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
    const f = this.file as OpenFile;
    return { file: f.name, location: f.records + k, locationKind: 'record' };
  }

  garbage(): RecordLocation {
    throw new Error('Parquet has no unparseable records');
  }

  get backlog(): boolean {
    return this.file?.queue.backlog ?? false;
  }

  drain(): Promise<void> {
    const f = this.file;
    if (!f) return Promise.resolve();
    // If parquet-wasm fails, nobody takes from the queue: surface its error instead of waiting forever.
    const failed = f.done.then(() => {
      throw new Error(`${f.name}: the Parquet encoder stopped before its input ended`);
    });
    failed.catch(() => undefined);
    return Promise.race([f.queue.drain(), failed]);
  }

  private flush(): void {
    const r = this.rows;
    const n = r.length;
    if (n === 0) return;
    const f = this.file as OpenFile;
    const tsValid = new Uint8Array(n);
    // µs as int64 little-endian words, without a BigInt per row (µs since 1970 stay below 2^53 until year 2255).
    const words = new Int32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const t = r.ts[i];
      if (Number.isNaN(t)) continue;
      tsValid[i] = 1;
      const us = t * 1000;
      const hi = Math.floor(us / 4294967296);
      words[2 * i] = us - hi * 4294967296;
      words[2 * i + 1] = hi;
    }
    const ts = new BigInt64Array(words.buffer);
    const valueValid = r.valueValid.slice(0, n);
    const table = new arrow.Table({
      ts: arrow.makeVector(withNulls(arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: n, data: ts }), tsValid)),
      sensor_id: arrow.makeVector(dictionary(this.ids, r.sensor, n)),
      value: arrow.makeVector(withNulls(arrow.makeData({ type: new arrow.Float64(), length: n, data: r.value.slice(0, n) }), valueValid)),
      value_text: arrow.makeVector(dictionary(this.texts, r.text, n)),
      quality: arrow.makeVector(dictionary(this.qualities, Int32Array.from(r.quality.subarray(0, n)), n)),
    });
    f.queue.push(pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')).recordBatches());
    f.records += n;
    r.length = 0;
  }

  private async closeFile(): Promise<void> {
    this.flush();
    const f = this.file as OpenFile;
    f.queue.end();
    await f.done;
    const st = await fs.stat(path.join(this.ctx.dir, f.name));
    this.written.push({ path: f.name, bytes: st.size, records: f.records });
    this.file = null;
  }

  async close(): Promise<WrittenFile[]> {
    if (this.file) await this.closeFile();
    return this.written;
  }
}

function withNulls<T extends arrow.DataType>(d: arrow.Data<T>, valid: Uint8Array): arrow.Data<T> {
  const n = d.length;
  let nulls = 0;
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    if (valid[i]) bitmap[i >> 3] |= 1 << (i & 7);
    else nulls++;
  }
  if (nulls === 0) return d;
  return arrow.makeData({ type: d.type, length: n, nullCount: nulls, nullBitmap: bitmap, data: d.values, dictionary: d.dictionary } as unknown as Parameters<typeof arrow.makeData>[0]) as arrow.Data<T>;
}

/** A dictionary-encoded string column: `keys` index `dict`, a negative key is null. */
function dictionary(dict: arrow.Vector<arrow.Utf8>, keys: Int32Array, n: number): arrow.Data<arrow.Dictionary<arrow.Utf8, arrow.Int32>> {
  const k = keys.slice(0, n);
  const valid = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (k[i] < 0) k[i] = 0;
    else valid[i] = 1;
  }
  const type = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
  return withNulls(arrow.makeData({ type, length: n, data: k, dictionary: dict }), valid);
}
