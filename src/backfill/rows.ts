// Staged readings held column by column in typed arrays: what pass 1 spills to disk and pass 2 loads back per window.
// Sensors are integers into the run's sensor dictionary and files integers into its input list. On disk a segment
// is the columns' raw bytes after a small header: written without a copy and read back as views (staging is private
// to one run, so no interchange format is needed, and nothing is encoded twice).

const MAGIC = 0x53544731; // 'STG1'
/** Header words: magic, rows, flags, text bytes. */
const HEADER_BYTES = 16;
const ALL_VALID = 1;
const HAS_TEXT = 2;

const pad8 = (n: number): number => (n + 7) & ~7;

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

  /** Makes room for `extra` more rows, so that they can be written into the arrays at n, n + 1, ... directly. */
  reserve(extra: number): void {
    if (this.n + extra > this.capacity) this.grow(this.n + extra);
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
    this.push(b.ts[i], b.sid[i], b.valid[i] ? b.value[i] : null, b.text ? b.text(i) : null, b.quality[i], b.file[i], b.loc[i]);
  }

  /** Copies a whole decoded staging batch, column by column. */
  appendBatch(b: StagedBatch): void {
    const n = b.n;
    this.reserve(n);
    const at = this.n;
    this.ts.set(b.ts, at);
    this.sid.set(b.sid, at);
    this.value.set(b.value, at);
    this.valid.set(b.valid, at);
    this.quality.set(b.quality, at);
    this.file.set(b.file, at);
    this.loc.set(b.loc, at);
    if (b.text || this.text) {
      const t = (this.text ??= new Array<string | null>(at).fill(null));
      for (let i = 0; i < n; i++) t[at + i] = b.text ? b.text(i) : null;
    }
    this.n = at + n;
  }

  /**
   * The rows ordered by sensor index (stable: staging order among one sensor's rows), as a new buffer. Spilled
   * windows are written this way, so that pass 2 puts them in key order with one block copy per sensor.
   */
  sortedBySid(into?: RowBuffer): RowBuffer {
    const n = this.n;
    let max = -1;
    for (let i = 0; i < n; i++) if (this.sid[i] > max) max = this.sid[i];
    const next = new Int32Array(max + 2);
    for (let i = 0; i < n; i++) next[this.sid[i] + 1]++;
    for (let s = 1; s <= max + 1; s++) next[s] += next[s - 1];
    const dest = new Int32Array(n);
    for (let i = 0; i < n; i++) dest[i] = next[this.sid[i]]++;
    const out = into ?? new RowBuffer(Math.max(n, 1));
    out.clear();
    out.reserve(n);
    out.n = n;
    // Column by column: one array's write frontiers (a page each) fit the TLB where all columns' would not.
    scatter(out.ts, this.ts, dest);
    scatter(out.sid, this.sid, dest);
    scatter(out.value, this.value, dest);
    scatter(out.valid, this.valid, dest);
    scatter(out.quality, this.quality, dest);
    scatter(out.file, this.file, dest);
    scatter(out.loc, this.loc, dest);
    if (this.text) {
      const text = (out.text = new Array<string | null>(n).fill(null));
      for (let i = 0; i < n; i++) text[dest[i]] = this.text[i];
    }
    return out;
  }

  clear(): void {
    this.n = 0;
    this.text = null;
  }

  /** The buffered rows as one segment: a header and views of the arrays (the buffer must not change until written). */
  segment(): Uint8Array[] {
    const n = this.n;
    const bytes = (a: Float64Array | Int32Array | Uint32Array | Uint8Array, size: number): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, size);
    let allValid = true;
    for (let i = 0; i < n; i++) {
      if (this.valid[i] === 0) {
        allValid = false;
        break;
      }
    }
    const parts = [bytes(this.ts, n * 8), bytes(this.value, n * 8), bytes(this.loc, n * 8), bytes(this.sid, n * 4), bytes(this.quality, n * 4), bytes(this.file, n * 4)];
    let tail = (n * 12) & 7; // the three 4-byte columns end here past an 8-byte boundary
    if (!allValid) {
      parts.push(bytes(this.valid, n));
      tail = (tail + n) & 7;
    }
    let textBytes = 0;
    const text = this.text;
    if (text) {
      if (tail) parts.push(new Uint8Array(8 - tail));
      const offsets = new Int32Array(pad8((n + 1) * 4) / 4);
      const nulls = new Uint8Array(pad8(n));
      const words: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        const t = text[i];
        if (t === null || t === undefined) nulls[i] = 1;
        else {
          const w = Buffer.from(t, 'utf8');
          words.push(w);
          textBytes += w.length;
        }
        offsets[i + 1] = textBytes;
      }
      parts.push(new Uint8Array(offsets.buffer), nulls, Buffer.concat(words, textBytes));
    }
    const header = new Uint32Array([MAGIC, n, (allValid ? ALL_VALID : 0) | (text ? HAS_TEXT : 0), textBytes]);
    return [new Uint8Array(header.buffer), ...parts];
  }
}

/** to[dest[i]] = from[i] for the first dest.length rows. */
export function scatter<T extends Float64Array | Int32Array | Uint32Array | Uint8Array>(to: T, from: T, dest: Int32Array): void {
  for (let i = 0; i < dest.length; i++) to[dest[i]] = from[i];
}

/** A staging batch read back: typed arrays over one segment's bytes (no copies). */
export interface StagedBatch {
  n: number;
  ts: Float64Array;
  sid: Int32Array;
  value: Float64Array;
  /** 1 where the value is not null. */
  valid: Uint8Array;
  text: ((i: number) => string | null) | null;
  quality: Uint32Array;
  file: Int32Array;
  loc: Float64Array;
}

/** Reads a segment header: rows, and the body bytes that follow it; null when `head` is not one. */
export function segmentHeader(head: Uint8Array): { n: number; bodyBytes: number } | null {
  const w = new Uint32Array(head.buffer.slice(head.byteOffset, head.byteOffset + HEADER_BYTES));
  if (w[0] !== MAGIC) return null;
  const n = w[1];
  let bytes = n * 36;
  if (!(w[2] & ALL_VALID)) bytes += n;
  if (w[2] & HAS_TEXT) bytes = pad8(bytes) + pad8((n + 1) * 4) + pad8(n) + w[3];
  return { n, bodyBytes: bytes };
}

export const SEGMENT_HEADER_BYTES = HEADER_BYTES;
/** The sensor column starts this many bytes per row into a segment's body (after ts, value and loc). */
export const SID_OFFSET_PER_ROW = 24;

/** The columns of a segment body (`body` starts 8-byte aligned, as a fresh buffer does). */
export function decodeSegment(head: Uint8Array, body: Uint8Array): StagedBatch {
  const w = new Uint32Array(head.buffer.slice(head.byteOffset, head.byteOffset + HEADER_BYTES));
  const n = w[1];
  const buf = body.buffer;
  let at = body.byteOffset;
  const take = <T>(C: new (b: ArrayBufferLike, o: number, l: number) => T, len: number, size: number): T => {
    const a = new C(buf, at, len);
    at += len * size;
    return a;
  };
  const ts = take(Float64Array, n, 8);
  const value = take(Float64Array, n, 8);
  const loc = take(Float64Array, n, 8);
  const sid = take(Int32Array, n, 4);
  const quality = take(Uint32Array, n, 4);
  const file = take(Int32Array, n, 4);
  const valid = w[2] & ALL_VALID ? new Uint8Array(n).fill(1) : take(Uint8Array, n, 1);
  let text: StagedBatch['text'] = null;
  if (w[2] & HAS_TEXT) {
    at = body.byteOffset + pad8(at - body.byteOffset);
    const offsets = new Int32Array(buf, at, n + 1);
    at += pad8((n + 1) * 4);
    const nulls = new Uint8Array(buf, at, n);
    at += pad8(n);
    const words = Buffer.from(buf, at, w[3]);
    text = (i) => (nulls[i] ? null : words.toString('utf8', offsets[i], offsets[i + 1]));
  }
  return { n, ts, sid, value, valid, text, quality, file, loc };
}
