// Staged readings held column by column in typed arrays: what pass 1 spills to disk as Arrow IPC and pass 2 loads
// back per window. Sensors are integers into the run's sensor dictionary and files integers into its input list.

import * as arrow from 'apache-arrow';

/** The staging file schema (Arrow IPC). ts holds integer µs in a double (exact to year 2255, as sources do). */
export const STAGING_SCHEMA = new arrow.Schema([
  new arrow.Field('ts', new arrow.Float64(), false),
  new arrow.Field('sid', new arrow.Int32(), false),
  new arrow.Field('value', new arrow.Float64(), true),
  new arrow.Field('value_text', new arrow.Utf8(), true),
  new arrow.Field('quality', new arrow.Uint32(), false),
  new arrow.Field('file', new arrow.Int32(), false),
  new arrow.Field('location', new arrow.Float64(), false),
]);

export class RowBuffer {
  ts: Float64Array;
  sid: Int32Array;
  value: Float64Array;
  valid: Uint8Array;
  text: (string | null)[] | null = null;
  quality: Uint32Array;
  file: Int32Array;
  loc: Float64Array;
  n = 0;

  constructor(capacity = 1024) {
    this.ts = new Float64Array(capacity);
    this.sid = new Int32Array(capacity);
    this.value = new Float64Array(capacity);
    this.valid = new Uint8Array(capacity);
    this.quality = new Uint32Array(capacity);
    this.file = new Int32Array(capacity);
    this.loc = new Float64Array(capacity);
  }

  get capacity(): number {
    return this.ts.length;
  }

  private grow(min: number): void {
    const cap = Math.max(min, this.capacity * 2);
    const g = <T extends Float64Array | Int32Array | Uint32Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.ts = g(this.ts);
    this.sid = g(this.sid);
    this.value = g(this.value);
    this.valid = g(this.valid);
    this.quality = g(this.quality);
    this.file = g(this.file);
    this.loc = g(this.loc);
  }

  push(ts: number, sid: number, value: number | null, text: string | null, quality: number, file: number, loc: number): void {
    if (this.n === this.capacity) this.grow(this.n + 1);
    const i = this.n++;
    this.ts[i] = ts;
    this.sid[i] = sid;
    if (value === null) {
      this.valid[i] = 0;
      this.value[i] = 0;
    } else {
      this.valid[i] = 1;
      this.value[i] = value;
    }
    if (text !== null || this.text) {
      if (!this.text) this.text = new Array<string | null>(i).fill(null);
      this.text[i] = text;
    }
    this.quality[i] = quality;
    this.file[i] = file;
    this.loc[i] = loc;
  }

  /** Copies row `i` of a decoded staging batch. */
  pushFrom(b: StagedBatch, i: number): void {
    this.push(b.ts[i], b.sid[i], b.valid(i) ? b.value[i] : null, b.text ? b.text(i) : null, b.quality[i], b.file[i], b.loc[i]);
  }

  clear(): void {
    this.n = 0;
    this.text = null;
  }

  /** Bytes of memory the buffer holds (for spill decisions). */
  get bytes(): number {
    return this.capacity * 41;
  }

  /** The buffered rows as one Arrow IPC stream. */
  toIPC(): Uint8Array {
    const n = this.n;
    const fields = STAGING_SCHEMA.fields;
    const bitmap = (valid: (i: number) => boolean): { nullCount: number; nullBitmap?: Uint8Array } => {
      const bits = new Uint8Array((n + 7) >> 3);
      let nulls = 0;
      for (let i = 0; i < n; i++) {
        if (valid(i)) bits[i >> 3] |= 1 << (i & 7);
        else nulls++;
      }
      return nulls === 0 ? { nullCount: 0 } : { nullCount: nulls, nullBitmap: bits };
    };
    const text = this.text;
    const textData = text
      ? arrow.vectorFromArray(text.slice(0, n), new arrow.Utf8()).data[0]
      : arrow.makeData({ type: new arrow.Utf8(), length: n, nullCount: n, nullBitmap: new Uint8Array((n + 7) >> 3), valueOffsets: new Int32Array(n + 1), data: new Uint8Array(0) });
    const children = [
      arrow.makeData({ type: new arrow.Float64(), length: n, nullCount: 0, data: this.ts.slice(0, n) }),
      arrow.makeData({ type: new arrow.Int32(), length: n, nullCount: 0, data: this.sid.slice(0, n) }),
      arrow.makeData({ type: new arrow.Float64(), length: n, data: this.value.slice(0, n), ...bitmap((i) => this.valid[i] === 1) }),
      textData,
      arrow.makeData({ type: new arrow.Uint32(), length: n, nullCount: 0, data: this.quality.slice(0, n) }),
      arrow.makeData({ type: new arrow.Int32(), length: n, nullCount: 0, data: this.file.slice(0, n) }),
      arrow.makeData({ type: new arrow.Float64(), length: n, nullCount: 0, data: this.loc.slice(0, n) }),
    ];
    const data = arrow.makeData({ type: new arrow.Struct(fields), length: n, nullCount: 0, children: children as arrow.Data[] });
    return arrow.tableToIPC(new arrow.Table([new arrow.RecordBatch(STAGING_SCHEMA, data)]), 'stream');
  }
}

/** A staging batch read back: typed arrays over the IPC buffers (no copies) and accessors for the nullable ones. */
export interface StagedBatch {
  n: number;
  ts: Float64Array;
  sid: Int32Array;
  value: Float64Array;
  valid: (i: number) => boolean;
  text: ((i: number) => string | null) | null;
  quality: Uint32Array;
  file: Int32Array;
  loc: Float64Array;
}

function values<T>(d: arrow.Data): T {
  return d.values as unknown as T;
}

export function decodeStaged(ipc: Uint8Array): StagedBatch[] {
  const out: StagedBatch[] = [];
  for (const b of arrow.tableFromIPC(ipc).batches) {
    const col = (i: number): arrow.Data => b.data.children[i];
    const v = col(2);
    const t = col(3);
    out.push({
      n: b.numRows,
      ts: values<Float64Array>(col(0)),
      sid: values<Int32Array>(col(1)),
      value: values<Float64Array>(v),
      valid: v.nullCount === 0 ? () => true : (i) => v.getValid(i),
      text: t.nullCount === t.length ? null : (i) => (t.getValid(i) ? (b.getChildAt(3)!.get(i) as string) : null),
      quality: values<Uint32Array>(col(4)),
      file: values<Int32Array>(col(5)),
      loc: values<Float64Array>(col(6)),
    });
  }
  return out;
}
