// Splits a byte stream into text blocks of whole records for the line-based sources (CSV, wide CSV, JSONL, line
// protocol). Cuts only after a newline (never inside a UTF-8 character), and for CSV never inside a quoted field.

import { InvalidRecordError } from '../errors.js';

/** A record may not exceed this: beyond it an open quote is taken as stray (CSV) or the file is refused. */
export const MAX_RECORD_BYTES = 16 << 20;

export interface BlockOptions {
  file: string;
  /** CSV quoting: a newline inside a quoted field does not end the record. */
  quote?: string;
  delimiter?: string;
  /** Kept up to date with the bytes held back after each chunk (the start of a record not yet complete). */
  state?: { carry: number };
}

const NL = 10;

/**
 * Yields decoded text holding whole records (the last block may lack its final newline). A UTF-8 BOM is dropped.
 * Memory is bounded by the stream's chunk size plus the longest record.
 */
export async function* textBlocks(stream: AsyncIterable<Buffer>, opts: BlockOptions): AsyncGenerator<string> {
  for await (const b of byteBlocks(stream, opts)) yield b.toString('utf8');
}

/** textBlocks as undecoded bytes: each block ends after a newline outside quotes (or at the end of the input). */
export async function* byteBlocks(stream: AsyncIterable<Buffer>, opts: BlockOptions): AsyncGenerator<Buffer> {
  const q = opts.quote ? opts.quote.charCodeAt(0) : -1;
  const delim = opts.delimiter ? opts.delimiter.charCodeAt(0) : -1;
  let carry: Buffer | null = null;
  let first = true;
  let consumed = 0;
  for await (let chunk of stream) {
    if (carry && !first && (q < 0 || carry.indexOf(q) < 0)) {
      // The record held back ends at the chunk's first newline (no quote can hide it): that record alone is joined,
      // rather than the whole chunk copied behind it.
      const nl = chunk.indexOf(NL);
      if (nl >= 0 && (q < 0 || chunk.subarray(0, nl).indexOf(q) < 0)) {
        const head = Buffer.concat([carry, chunk.subarray(0, nl + 1)]);
        yield head;
        consumed += head.length;
        carry = null;
        chunk = chunk.subarray(nl + 1);
        if (opts.state) opts.state.carry = 0;
        if (chunk.length === 0) continue;
      }
    }
    let data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    if (first && data.length >= 3) {
      if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
      first = false;
    } else if (first) {
      carry = Buffer.from(data); // too short to tell about a BOM yet
      if (opts.state) opts.state.carry = carry.length;
      continue;
    }
    let cut = q >= 0 && data.indexOf(q) >= 0 ? safeCut(data, q, delim) : data.lastIndexOf(NL) + 1;
    if (cut === 0 && data.length > MAX_RECORD_BYTES) {
      // An unclosed quote would swallow the rest of the file: cut at a plain newline and let the CSV parser report it.
      cut = data.lastIndexOf(NL) + 1;
      if (cut === 0) throw new InvalidRecordError(`${opts.file}: no line end in ${MAX_RECORD_BYTES} bytes after byte ${consumed}; not a line-based file?`);
    }
    if (cut > 0) {
      yield data.subarray(0, cut);
      consumed += cut;
    }
    carry = cut === data.length ? null : Buffer.from(data.subarray(cut)); // copied: the chunk may be large
    if (opts.state) opts.state.carry = carry?.length ?? 0;
  }
  if (carry && carry.length > 0) {
    let data = carry;
    if (first && data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
    if (data.length > 0) yield data;
  }
}

/**
 * Index after the last newline that is outside quoted fields. A quote opens a field only at a field start (after the
 * delimiter, a newline, or at the start of `data`, which always starts a record); elsewhere it is a literal.
 */
function safeCut(data: Buffer, q: number, delim: number): number {
  let lastSafe = -1;
  let segStart = 0;
  let p = data.indexOf(q);
  while (p >= 0) {
    const prev = p === 0 ? NL : data[p - 1];
    if (prev !== NL && prev !== delim) {
      p = data.indexOf(q, p + 1); // a stray quote inside an unquoted field
      continue;
    }
    const nl = data.lastIndexOf(NL, p - 1);
    if (p > 0 && nl >= segStart) lastSafe = nl;
    // Find the closing quote: a doubled quote is an escaped one.
    let c = data.indexOf(q, p + 1);
    while (c >= 0 && data[c + 1] === q) c = data.indexOf(q, c + 2);
    if (c < 0) return lastSafe + 1; // still open at the end of data (a quote ending `data` may yet be doubled: then
    // segStart is data.length and the record stays in the carry, so either reading is safe)
    segStart = c + 1;
    p = data.indexOf(q, segStart);
  }
  const nl = data.lastIndexOf(NL);
  if (nl >= segStart) lastSafe = nl;
  return lastSafe + 1;
}
