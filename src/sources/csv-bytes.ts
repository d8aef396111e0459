// The narrow CSV reader's fast path: lines of a block without quotes are split and read as bytes, the timestamp,
// sensor id and quality compared in place with the row before's (exports repeat them), numbers read digit by digit.
// A line it cannot read for sure goes to the text path (csv-record.ts, text-sink.ts), which gives the reading or reject.

import type { CsvRecords } from './csv-record.js';
import type { TextSink } from './text-sink.js';

/** Columns of the layout (-1: absent) and the column count every row must have. */
export interface ByteLayout {
  ts: number;
  sid: number;
  val: number;
  q: number;
  vt: number;
  ncols: number;
}

/** An owned copy of bytes, to compare later lines with, also as little-endian 32-bit words (see sameWords). */
interface Seen {
  bytes: Uint8Array;
  words: Int32Array;
}

function seen(bytes: Uint8Array): Seen {
  const words = new Int32Array(bytes.length >> 2);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let k = 0; k < words.length; k++) words[k] = dv.getInt32(4 * k, true);
  return { bytes, words };
}

/** Whether the bytes at `a` are s's, read four at a time (the caller knows there are that many). */
function sameWords(dv: DataView, b: Uint8Array, a: number, s: Seen): boolean {
  const w = s.words;
  for (let k = 0; k < w.length; k++) if (dv.getInt32(a + 4 * k, true) !== w[k]) return false;
  const t = s.bytes;
  for (let k = w.length * 4; k < t.length; k++) if (b[a + k] !== t[k]) return false;
  return true;
}

interface IdSeen extends Seen {
  id: string;
  /** The id that followed this one last time, and the one before that when it differed (a plant's exports often
   * alternate between two orders, e.g. when some sensors report every 5 minutes and the rest every minute). */
  next: IdSeen | null;
  alt: IdSeen | null;
  /** Its key in the sink's chunk dictionary (-1: not looked up yet). */
  key: number;
}

/** What each column of a line is to the one-pass path (see line()). */
const OTHER = 0;
const TS = 1;
const SID = 2;
const VAL = 3;
const QUAL = 4;
const TEXT = 5;

// Exact powers of ten, as in values.ts: m / 10^k is then correctly rounded, the double Number() gives.
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const NL = 10;
const CR = 13;

function same(b: Uint8Array, a: number, z: number, s: Uint8Array): boolean {
  if (z - a !== s.length) return false;
  for (let i = s.length - 1; i >= 0; i--) if (b[a + i] !== s[i]) return false;
  return true;
}

export class CsvBytes {
  private readonly starts = new Int32Array(64);
  private readonly ends = new Int32Array(64);
  private readonly dc: number;
  private readonly mark: number;
  private readonly ids = new Map<string, IdSeen>();
  private lastId: IdSeen = { id: '', ...seen(new Uint8Array(0)), next: null, alt: null, key: -1 };
  /** Role of each column (OTHER, TS, ...), for line(). */
  private readonly roles: Int8Array;
  private lastTs: Seen = seen(new Uint8Array(0));
  private lastTsValue = 0;
  private lastTsDst: TextSink['dst'] = null;
  private lastQ: Seen = seen(new Uint8Array(0));
  private lastQCode = 0;

  constructor(
    private readonly sink: TextSink,
    /** Its nextLine is the line numbering both paths share. */
    private readonly rec: CsvRecords,
    private readonly layout: ByteLayout,
    delimiter: string,
    decimal: '.' | ',',
    /** Hands a line the fast path does not read to the text path (rec.nextLine is its number). */
    private readonly slow: (line: string) => void,
  ) {
    this.dc = delimiter.charCodeAt(0);
    this.mark = decimal === ',' ? 44 : 46;
    this.roles = new Int8Array(layout.ncols).fill(OTHER);
    const set = (col: number, role: number): void => {
      if (col >= 0 && col < layout.ncols) this.roles[col] = role;
    };
    set(layout.ts, TS);
    set(layout.sid, SID);
    set(layout.val, VAL);
    set(layout.q, QUAL);
    set(layout.vt, TEXT);
  }

  /** Whether the byte path can read a dialect at all: a one-byte (ASCII) delimiter, and a layout that fits. */
  static usable(delimiter: string, layout: ByteLayout): boolean {
    return delimiter.charCodeAt(0) < 128 && layout.ncols > 0 && layout.ncols <= 64;
  }

  /** Reads lines of `b` (a block of whole lines, no quote in it) from `pos` until it ends or the sink is full. */
  run(b: Buffer, pos: number): number {
    const len = b.length;
    const { starts, ends, dc, sink, rec } = this;
    const ncols = this.layout.ncols;
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    while (!sink.full && pos < len) {
      const next = this.line(b, dv, pos, len);
      if (next >= 0) {
        pos = next;
        continue;
      }
      // Split the line at delimiters while looking for its end.
      let k = 0;
      let p = pos;
      let i = pos;
      for (; i < len; i++) {
        const c = b[i];
        if (c === NL) break;
        if (c === dc) {
          if (k < 63) {
            starts[k] = p;
            ends[k] = i;
          }
          k++;
          p = i + 1;
        }
      }
      const nl = i;
      let end = nl;
      if (end > pos && b[end - 1] === CR) end--;
      if (k < 64) {
        starts[k] = p;
        ends[k] = end;
      }
      k++;
      const lineNo = rec.nextLine;
      if (end === pos) rec.nextLine++; // a blank line: skipped, but counted
      else if (k === ncols && this.record(b, lineNo)) rec.nextLine++;
      else this.slow(b.toString('utf8', pos, nl)); // reads the line (its CR too, as it would in a block) and counts it
      pos = nl + 1;
    }
    return Math.min(pos, len);
  }

  /**
   * The common line in one pass over its bytes: timestamp, sensor id and quality equal to ones seen just before (the
   * row before's, or for the id the one that followed it last time), a plain decimal value, no value text. Returns the
   * position after the line, or -1 (nothing read) for record() and the text path to read it with every rule.
   */
  private line(b: Buffer, dv: DataView, pos: number, len: number): number {
    const { roles, dc } = this;
    const ncols = roles.length;
    let p = pos;
    let t = 0;
    let e: IdSeen | null = null;
    let v = 0;
    let q: number | null = null;
    for (let c = 0; c < ncols; c++) {
      // The field is [p, f); the byte at f must be the delimiter, or for the last column the line end.
      let f: number;
      switch (roles[c]) {
        case TS: {
          const s = this.lastTs;
          f = p + s.bytes.length;
          if (s.bytes.length === 0 || f >= len || !sameWords(dv, b, p, s)) return -1;
          t = this.lastTsValue;
          break;
        }
        case SID: {
          const last = this.lastId;
          const cand = last.next;
          const alt = last.alt;
          if (cand !== null && p + cand.bytes.length < len && b[p + cand.bytes.length] === dc && sameWords(dv, b, p, cand)) e = cand;
          else if (alt !== null && p + alt.bytes.length < len && b[p + alt.bytes.length] === dc && sameWords(dv, b, p, alt)) {
            e = alt;
            last.alt = cand;
            last.next = alt;
          } else if (last.bytes.length > 0 && p + last.bytes.length < len && sameWords(dv, b, p, last)) e = last;
          else return -1;
          f = p + e.bytes.length;
          break;
        }
        case VAL: {
          let i = p;
          const neg = b[i] === 45;
          if (neg) i++;
          let m = 0;
          let digits = 0;
          let point = -1;
          for (; i < len; i++) {
            const ch = b[i];
            if (ch >= 48 && ch <= 57) {
              m = m * 10 + (ch - 48);
              digits++;
            } else if (ch === this.mark && point < 0) point = i;
            else break;
          }
          if (digits === 0 || digits > 15) return -1;
          v = point < 0 ? m : m / POW10[i - point - 1];
          if (neg) v = -v;
          f = i;
          break;
        }
        case QUAL: {
          const s = this.lastQ;
          const end = p + s.bytes.length;
          if (s.bytes.length > 0 && end < len && (b[end] === dc || b[end] === NL || b[end] === CR) && sameWords(dv, b, p, s)) {
            q = this.lastQCode;
            f = end;
          } else if (p < len && (b[p] === dc || b[p] === NL || b[p] === CR)) f = p; // blank: no quality
          else return -1;
          break;
        }
        default: {
          // Another column (ignored), or value_text, which must be blank here (a last column's CR is the line end's).
          f = p;
          while (f < len && b[f] !== dc && b[f] !== NL) f++;
          if (roles[c] === TEXT && f !== p && !(c === ncols - 1 && f === p + 1 && b[p] === CR)) return -1;
        }
      }
      if (f >= len) return -1;
      if (c < ncols - 1) {
        if (b[f] !== dc) return -1;
        p = f + 1;
      } else {
        if (b[f] === CR) f++;
        if (f >= len || b[f] !== NL) return -1;
        p = f + 1;
      }
    }
    if (e === null) return -1;
    if (e.key < 0) e.key = this.sink.builder.keyOf(e.id);
    this.lastId = e;
    if (this.lastTsDst !== null) this.sink.builder.countDst(this.lastTsDst);
    this.sink.builder.appendNumber(e.key, t, v, q, this.rec.nextLine++);
    return p;
  }

  /** Reads one split line into the sink; false when the text path must read it (nothing was appended then). */
  private record(b: Buffer, lineNo: number): boolean {
    const { starts, ends, layout, sink } = this;
    // Timestamp: most rows repeat the one before.
    const ta = starts[layout.ts];
    const tb = ends[layout.ts];
    let t: number;
    let dst: TextSink['dst'];
    if (ta < tb && same(b, ta, tb, this.lastTs.bytes)) {
      t = this.lastTsValue;
      dst = this.lastTsDst;
    } else {
      const s = b.toString('utf8', ta, tb);
      const r = sink.timeSpan(s, 0, s.length);
      if (typeof r !== 'number') return false;
      t = r;
      dst = sink.dst;
      this.lastTs = seen(new Uint8Array(b.subarray(ta, tb)));
      this.lastTsValue = t;
      this.lastTsDst = dst;
    }
    // Sensor id: the row before's, or the one that followed it last time.
    const sa = starts[layout.sid];
    const sb = ends[layout.sid];
    if (sa === sb || b[sa] === 32 || b[sa] === 9) return false;
    let e = this.lastId;
    if (!same(b, sa, sb, e.bytes)) {
      const n = e.next;
      if (n !== null && same(b, sa, sb, n.bytes)) e = n;
      else {
        e.alt = n;
        e = e.next = this.idOf(b, sa, sb);
      }
      this.lastId = e;
    }
    // Value: a plain decimal of up to 15 digits read in place, as values.ts does.
    const va = starts[layout.val];
    const vb = ends[layout.val];
    let i = va;
    const neg = b[i] === 45;
    if (neg) i++;
    let m = 0;
    let digits = 0;
    let point = -1;
    for (; i < vb; i++) {
      const c = b[i];
      if (c >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        digits++;
      } else if (c === this.mark && point < 0) point = i;
      else break;
    }
    if (layout.vt >= 0 && starts[layout.vt] !== ends[layout.vt]) return false;
    let v: number | null = null;
    let vt: string | null = null;
    if (i === vb && digits > 0 && digits <= 15) {
      v = point < 0 ? m : m / POW10[vb - point - 1];
      if (neg) v = -v;
    } else {
      // Anything else as values.ts reads it from text: another number, or a text reading (a state); a failure is
      // the text path's to report.
      const x = sink.parseValue(b.toString('utf8', va, vb));
      if (typeof x === 'number') v = x;
      else if (typeof x === 'string') vt = x;
      else return false;
    }
    let q: number | null = null;
    if (layout.q >= 0 && starts[layout.q] !== ends[layout.q]) {
      const qa = starts[layout.q];
      const qb = ends[layout.q];
      if (same(b, qa, qb, this.lastQ.bytes)) q = this.lastQCode;
      else {
        const code = sink.parseQuality(b.toString('utf8', qa, qb));
        if (code === null) return false; // unknown or blank: the text path rejects or ignores it
        q = code;
        this.lastQ = seen(new Uint8Array(b.subarray(qa, qb)));
        this.lastQCode = code;
      }
    }
    sink.append(e.id, t, v, vt, q, lineNo, dst);
    return true;
  }

  private idOf(b: Buffer, a: number, z: number): IdSeen {
    const text = b.toString('utf8', a, z);
    let e = this.ids.get(text);
    if (e === undefined) {
      e = { id: this.sink.sensorId(text), ...seen(new Uint8Array(b.subarray(a, z))), next: null, alt: null, key: -1 };
      this.ids.set(e.id, e);
    }
    return e;
  }
}
