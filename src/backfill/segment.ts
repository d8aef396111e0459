// The staging files' on-disk format: a file is segments appended one after another, each the raw bytes of a
// RowBuffer's columns after a small header, written without a copy and read back as views. A spilled segment has its
// rows ordered by sensor id and a directory of its sensors' runs, so pass 2 reads one sensor range with a few reads.

import type { RowBuffer, StagedBatch } from './rows.js';

const MAGIC = 0x53544732; // 'STG2'
/** Header words: magic, rows, flags, text bytes, directory runs, reserved (24 bytes keep the body 8-byte aligned). */
export const HEADER_BYTES = 24;
const ALL_VALID = 1;
const HAS_TEXT = 2;

const pad8 = (n: number): number => (n + 7) & ~7;

/** What a segment's header says, and where its parts are relative to the segment's start. */
export interface SegmentInfo {
  n: number;
  allValid: boolean;
  hasText: boolean;
  textBytes: number;
  /** Directory entries: (sid, rows) pairs in row order; 0 when the rows are not ordered by sensor. */
  runs: number;
  /** Bytes of the whole segment, header included. */
  bytes: number;
  /** Where the columns start. */
  bodyAt: number;
}

function textAt(s: SegmentInfo): number {
  return pad8(s.n * 36 + (s.allValid ? 0 : s.n));
}

export function parseHeader(head: Uint8Array): SegmentInfo | null {
  if (head.length < HEADER_BYTES) return null;
  const w = new Uint32Array(head.buffer.slice(head.byteOffset, head.byteOffset + HEADER_BYTES));
  if (w[0] !== MAGIC) return null;
  const n = w[1];
  const allValid = (w[2] & ALL_VALID) !== 0;
  const hasText = (w[2] & HAS_TEXT) !== 0;
  const info: SegmentInfo = { n, allValid, hasText, textBytes: w[3], runs: w[4], bytes: 0, bodyAt: HEADER_BYTES + w[4] * 8 };
  const body = hasText ? textAt(info) + pad8((n + 1) * 4) + pad8(n) + w[3] : n * 36 + (allValid ? 0 : n);
  info.bytes = info.bodyAt + body;
  return info;
}

/** The buffer's rows as one segment: header, directory and views of the arrays (unchanged until written). */
export function encodeSegment(rows: RowBuffer): Uint8Array[] {
  const n = rows.n;
  const bytes = (a: Float64Array | Int32Array | Uint32Array | Uint8Array, size: number): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, size);
  let allValid = true;
  for (let i = 0; i < n; i++) {
    if (rows.valid[i] === 0) {
      allValid = false;
      break;
    }
  }
  const runs = rows.runs;
  const parts = [bytes(rows.ts, n * 8), bytes(rows.value, n * 8), bytes(rows.loc, n * 8), bytes(rows.sid, n * 4), bytes(rows.quality, n * 4), bytes(rows.file, n * 4)];
  let end = n * 36;
  if (!allValid) {
    parts.push(bytes(rows.valid, n));
    end += n;
  }
  let textBytes = 0;
  const text = rows.text;
  if (text) {
    if (pad8(end) > end) parts.push(new Uint8Array(pad8(end) - end));
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
  const header = new Uint32Array([MAGIC, n, (allValid ? ALL_VALID : 0) | (text ? HAS_TEXT : 0), textBytes, runs ? runs.length / 2 : 0, 0]);
  return [new Uint8Array(header.buffer), ...(runs ? [bytes(runs, runs.length * 4)] : []), ...parts];
}

/** One read of a segment's bytes: `at` is relative to the segment start. */
export interface RangeRead {
  at: number;
  bytes: number;
}

/**
 * The reads that fetch rows [a, z) of a segment's columns (ts, value, loc, sid, quality, file, then valid and the
 * text offsets and nulls when present), and the bytes they take laid end to end, each 8-byte aligned.
 */
export function rangeReads(s: SegmentInfo, a: number, z: number): { reads: RangeRead[]; layout: number } {
  const m = z - a;
  const b = s.bodyAt;
  const n = s.n;
  const reads: RangeRead[] = [
    { at: b + 8 * a, bytes: 8 * m },
    { at: b + 8 * n + 8 * a, bytes: 8 * m },
    { at: b + 16 * n + 8 * a, bytes: 8 * m },
    { at: b + 24 * n + 4 * a, bytes: 4 * m },
    { at: b + 28 * n + 4 * a, bytes: 4 * m },
    { at: b + 32 * n + 4 * a, bytes: 4 * m },
  ];
  if (!s.allValid) reads.push({ at: b + 36 * n + a, bytes: m });
  if (s.hasText) {
    const t = b + textAt(s);
    reads.push({ at: t + 4 * a, bytes: 4 * (m + 1) }, { at: t + pad8(4 * (n + 1)) + a, bytes: m });
  }
  let layout = 0;
  for (const r of reads) layout += pad8(r.bytes);
  return { reads, layout };
}

/** Where the text words from byte `from` to `to` of a segment's words are, relative to the segment start. */
export function wordsRead(s: SegmentInfo, from: number, to: number): RangeRead {
  return { at: s.bodyAt + textAt(s) + pad8(4 * (s.n + 1)) + pad8(s.n) + from, bytes: to - from };
}

/** Rows [a, z) of a segment over `buf`, filled by its rangeReads in order; `words` from wordsRead (text only). */
export function decodeRange(s: SegmentInfo, a: number, z: number, buf: ArrayBuffer, words: Buffer | null): StagedBatch {
  const m = z - a;
  let at = 0;
  const take = <T>(C: new (b: ArrayBufferLike, o: number, l: number) => T, len: number, size: number): T => {
    const v = new C(buf, at, len);
    at += pad8(len * size);
    return v;
  };
  const ts = take(Float64Array, m, 8);
  const value = take(Float64Array, m, 8);
  const loc = take(Float64Array, m, 8);
  const sid = take(Int32Array, m, 4);
  const quality = take(Uint32Array, m, 4);
  const file = take(Int32Array, m, 4);
  const valid = s.allValid ? new Uint8Array(m).fill(1) : take(Uint8Array, m, 1);
  let text: StagedBatch['text'] = null;
  if (s.hasText && words) {
    const offsets = take(Int32Array, m + 1, 4);
    const nulls = take(Uint8Array, m, 1);
    const base = offsets[0];
    text = (i) => (nulls[i] ? null : words.toString('utf8', offsets[i] - base, offsets[i + 1] - base));
  }
  return { n: m, ts, sid, value, valid, text, quality, file, loc };
}

/** The text offsets of rows [a, z] once read (the first and last bound the words to read). */
export function offsetsIn(s: SegmentInfo, a: number, z: number, buf: ArrayBuffer): Int32Array {
  const m = z - a;
  let at = 0;
  for (const size of [8, 8, 8, 4, 4, 4]) at += pad8(m * size);
  if (!s.allValid) at += pad8(m);
  return new Int32Array(buf, at, m + 1);
}
