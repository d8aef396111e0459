// One WAL entry: a request's readings after the backfill's validation (columns, as they will be written) with its
// source, idempotency key and rejects, so that replay after a crash commits exactly what was acknowledged. Built
// here from a submitted request, encoded into a WAL frame, and decoded back (as views over the frame's bytes).

import type * as arrow from 'apache-arrow';
import { InvalidArgumentError, CorruptLogError } from '../errors.js';
import type { Reject, SourceChunk } from '../sources/batch.js';
import { recordJson, validateBatch, type SensorDict, type ValidationSink } from '../backfill/validate.js';
import { RowBuffer } from '../backfill/rows.js';
import { allocFrame } from './wal.js';

const MAGIC = 0x31544e45; // 'ENT1'
const HEAD = 32;
const HAS_TEXT = 1;
const pad8 = (n: number): number => (n + 7) & ~7;

/** Readings of one entry as columns; `sid` indexes the entry's own `names`. */
export interface EntryRows {
  n: number;
  ts: Float64Array;
  value: Float64Array;
  /** 1 where value is not null. */
  valid: Uint8Array;
  quality: Uint32Array;
  sid: Int32Array;
  text: (string | null)[] | null;
}

export interface Entry {
  position: number;
  createdAtMs: number;
  source: string;
  key: string | null;
  /** Sensor ids of the entry's rows, indexed by `rows.sid`. */
  names: string[];
  rows: EntryRows;
  /** Decode rejects from the front end, then validation rejects: bound for quarantine. */
  rejects: Reject[];
  /** The encoded entry the columns are views of (what the commit worker is sent). */
  payload: Uint8Array;
}

interface Meta {
  s: string;
  k: string | null;
  rejects: Reject[];
}

/** The last names list decoded: consecutive entries from one client usually carry the very same one. */
export interface NamesCache {
  bytes: Buffer | null;
  names: string[];
}

/**
 * Entry payload: a 32-byte head (magic, rows, createdAtMs, meta bytes, text bytes, flags, names bytes), then the
 * columns (ts f64, value f64, quality u32, sid i32, valid u8; with text: offsets, nulls, bytes), each padded to 8,
 * then the sensor names as a JSON array, then the rest (source, key, rejects) as JSON.
 */
function columnsOf(payload: Uint8Array, position: number): { rows: EntryRows; createdAtMs: number; names: Buffer; meta: Buffer } {
  const where = `WAL entry at position ${position}`;
  if (payload.byteOffset % 8 !== 0) throw new InvalidArgumentError(`${where}: payload is not 8-byte aligned`);
  if (payload.byteLength < HEAD) throw new CorruptLogError(`${where}: ${payload.byteLength} bytes, shorter than an entry header`);
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw new CorruptLogError(`${where}: not an ingest entry (magic ${dv.getUint32(0, true).toString(16)})`);
  const n = dv.getUint32(4, true);
  const createdAtMs = dv.getFloat64(8, true);
  const metaBytes = dv.getUint32(16, true);
  const textBytes = dv.getUint32(20, true);
  const flags = dv.getUint32(24, true);
  const namesBytes = dv.getUint32(28, true);
  const buf = payload.buffer;
  let at = payload.byteOffset + HEAD;
  const take = <T>(C: new (b: ArrayBufferLike, o: number, l: number) => T, len: number, size: number): T => {
    const a = new C(buf, at, len);
    at += pad8(len * size);
    return a;
  };
  const ts = take(Float64Array, n, 8);
  const value = take(Float64Array, n, 8);
  const quality = take(Uint32Array, n, 4);
  const sid = take(Int32Array, n, 4);
  const valid = take(Uint8Array, n, 1);
  let text: (string | null)[] | null = null;
  if (flags & HAS_TEXT) {
    const offsets = take(Int32Array, n + 1, 4);
    const nulls = take(Uint8Array, n, 1);
    const words = Buffer.from(buf, at, textBytes);
    at += pad8(textBytes);
    text = new Array<string | null>(n);
    for (let i = 0; i < n; i++) text[i] = nulls[i] ? null : words.toString('utf8', offsets[i], offsets[i + 1]);
  }
  if (at + namesBytes + metaBytes > payload.byteOffset + payload.byteLength) throw new CorruptLogError(`${where}: columns and metadata overrun the entry`);
  const names = Buffer.from(buf, at, namesBytes);
  const meta = Buffer.from(buf, at + namesBytes, metaBytes);
  return { rows: { n, ts, value, valid, quality, sid, text }, createdAtMs, names, meta };
}

/** Reads an encoded entry; its columns are views over `payload` (which must start 8-byte aligned). */
export function decodeEntry(payload: Uint8Array, position: number, cache?: NamesCache): Entry {
  const c = columnsOf(payload, position);
  let names: string[];
  if (cache && cache.bytes && cache.bytes.equals(c.names)) names = cache.names;
  else {
    names = JSON.parse(c.names.toString('utf8')) as string[];
    if (cache) {
      cache.bytes = Buffer.from(c.names);
      cache.names = names;
    }
  }
  const meta = JSON.parse(c.meta.toString('utf8')) as Meta;
  return { position, createdAtMs: c.createdAtMs, source: meta.s, key: meta.k, names, rows: c.rows, rejects: meta.rejects, payload };
}

/**
 * Validates requests with the backfill's rules (validateBatch: sensor valid ranges mark readings bad, text against
 * the sensor's kind) into reusable scratch columns, then encodes each as one WAL frame. One builder serves all
 * submits; build() runs synchronously, so no two requests share the scratch at once.
 */
export class EntryBuilder {
  /** Scratch rows of the request being built; sid holds run-wide sensor ids (file and loc are unused). */
  private readonly rows = new RowBuffer();
  /** Sensors (run-wide ids) that have had numeric values since start: their text readings are type mismatches. */
  private numeric = new Uint8Array(64);
  private localOf = new Int32Array(64);
  private stamp = new Int32Array(64);
  private generation = 0;
  /** The last names list encoded (the very strings of the dictionary) and its JSON bytes. */
  private lastNames: string[] = [];
  private lastNamesJson = Buffer.from('[]');

  constructor(private readonly dict: SensorDict) {}

  /** Validates and encodes a request into a frame ready for Wal.append (position still 0 in the decoded entry). */
  build(chunks: SourceChunk[], source: string, key: string | null, createdAtMs: number): { frame: Uint8Array; entry: Entry } {
    let rows = 0;
    for (const c of chunks) rows += c.batch?.numRows ?? 0;
    this.rows.clear();
    this.rows.reserve(rows);
    const rejects: Reject[] = [];
    for (const c of chunks) {
      for (const r of c.rejects) rejects.push(r);
      if (c.batch && c.batch.numRows > 0) this.validate(c, c.batch, rejects);
    }
    return this.encode(source, key, createdAtMs, rejects);
  }

  private validate(chunk: SourceChunk, batch: arrow.RecordBatch, rejects: Reject[]): void {
    const dict = this.dict;
    const reject = (raw: string, reason: Reject['reason'], message: string, loc: number): void => {
      rejects.push({ raw, reason, message, file: chunk.file, location: loc, locationKind: chunk.locationKind });
    };
    const sink: ValidationSink = {
      row: (ts, sid, value, text, q) => this.push(ts, sid, value, text, q),
      pendingText: (ts, sid, text, q, loc) => {
        // The backfill settles such a sensor's kind once its whole input is read; a stream never ends, so what this
        // server has seen so far decides: text after numeric values is a mismatch, else the sensor reads as a state.
        if (sid < this.numeric.length && this.numeric[sid]) {
          reject(recordJson(ts, dict.names[sid], null, text, q), 'type_mismatch', `value_text '${text}' for sensor '${dict.names[sid]}', which has had numeric values`, loc);
        } else this.push(ts, sid, null, text, q);
      },
      reject,
      observe: (sid, _ts, numeric) => {
        if (!numeric) return;
        if (sid >= this.numeric.length) this.numeric = grown(this.numeric, sid + 1);
        this.numeric[sid] = 1;
      },
    };
    validateBatch(batch, dict, {}, sink);
  }

  private push(ts: number, sid: number, value: number | null, text: string | null, q: number): void {
    this.rows.push(ts, sid, value, text, q, 0, 0);
  }

  private encode(source: string, key: string | null, createdAtMs: number, rejects: Reject[]): { frame: Uint8Array; entry: Entry } {
    const r = this.rows;
    const n = r.n;
    // The entry's own sensor dictionary: replay must not depend on this process's numbering.
    const names: string[] = [];
    const gen = ++this.generation;
    if (this.dict.names.length > this.stamp.length) {
      this.stamp = grown(this.stamp, this.dict.names.length);
      this.localOf = grown(this.localOf, this.dict.names.length);
    }
    const sid = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const g = r.sid[i];
      if (this.stamp[g] !== gen) {
        this.stamp[g] = gen;
        this.localOf[g] = names.length;
        names.push(this.dict.names[g]);
      }
      sid[i] = this.localOf[g];
    }
    let textParts: { offsets: Int32Array; nulls: Uint8Array; bytes: Buffer } | null = null;
    if (r.text) {
      const offsets = new Int32Array(n + 1);
      const nulls = new Uint8Array(n);
      const words: Buffer[] = [];
      let total = 0;
      for (let i = 0; i < n; i++) {
        const t = r.text[i];
        if (t === null || t === undefined) nulls[i] = 1;
        else {
          const w = Buffer.from(t, 'utf8');
          words.push(w);
          total += w.length;
        }
        offsets[i + 1] = total;
      }
      textParts = { offsets, nulls, bytes: Buffer.concat(words, total) };
    }
    const namesJson = this.namesJson(names);
    const meta = Buffer.from(JSON.stringify({ s: source, k: key, rejects } satisfies Meta), 'utf8');
    const textBytes = textParts ? textParts.bytes.length : 0;
    const size = HEAD + 2 * pad8(8 * n) + 2 * pad8(4 * n) + pad8(n) + (textParts ? pad8(4 * (n + 1)) + pad8(n) + pad8(textBytes) : 0) + namesJson.length + meta.length;
    const { frame, payload } = allocFrame(size);
    const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    dv.setUint32(0, MAGIC, true);
    dv.setUint32(4, n, true);
    dv.setFloat64(8, createdAtMs, true);
    dv.setUint32(16, meta.length, true);
    dv.setUint32(20, textBytes, true);
    dv.setUint32(24, textParts ? HAS_TEXT : 0, true);
    dv.setUint32(28, namesJson.length, true);
    let at = payload.byteOffset + HEAD;
    const put = (src: Float64Array | Uint32Array | Int32Array | Uint8Array, size1: number): void => {
      new Uint8Array(payload.buffer, at, src.length * size1).set(new Uint8Array(src.buffer, src.byteOffset, src.length * size1));
      at += pad8(src.length * size1);
    };
    put(r.ts.subarray(0, n), 8);
    put(r.value.subarray(0, n), 8);
    put(r.quality.subarray(0, n), 4);
    put(sid, 4);
    put(r.valid.subarray(0, n), 1);
    if (textParts) {
      put(textParts.offsets, 4);
      put(textParts.nulls, 1);
      put(textParts.bytes, 1);
    }
    new Uint8Array(payload.buffer, at, namesJson.length).set(namesJson);
    new Uint8Array(payload.buffer, at + namesJson.length, meta.length).set(meta);
    // The entry as replay will decode it, without parsing back what is at hand.
    const rows = columnsOf(payload, 0).rows;
    return { frame, entry: { position: 0, createdAtMs, source, key, names: this.lastNames, rows, rejects, payload } };
  }

  /** JSON of a names list, reused while requests keep naming the same sensors in the same order. */
  private namesJson(names: string[]): Buffer {
    const last = this.lastNames;
    let same = last.length === names.length;
    for (let k = 0; k < names.length && same; k++) same = last[k] === names[k];
    if (!same) {
      this.lastNames = names;
      this.lastNamesJson = Buffer.from(JSON.stringify(names), 'utf8');
    }
    return this.lastNamesJson;
  }
}

function grown<T extends Uint8Array | Int32Array>(a: T, min: number): T {
  const b = new (a.constructor as new (n: number) => T)(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}
