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

/** An owned copy of bytes, to compare later lines with. */
interface Seen {
  bytes: Uint8Array;
}

interface IdSeen extends Seen {
  id: string;
  /** The id that followed this one last time. */
  next: IdSeen | null;
}

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
  private lastId: IdSeen = { id: '', bytes: new Uint8Array(0), next: null };
  private lastTs: Seen = { bytes: new Uint8Array(0) };
  private lastTsValue = 0;
  private lastTsDst: TextSink['dst'] = null;
  private lastQ: Seen = { bytes: new Uint8Array(0) };
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
    while (!sink.full && pos < len) {
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
      this.lastTs = { bytes: new Uint8Array(b.subarray(ta, tb)) };
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
      else e = e.next = this.idOf(b, sa, sb);
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
        this.lastQ = { bytes: new Uint8Array(b.subarray(qa, qb)) };
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
      e = { id: this.sink.sensorId(text), bytes: new Uint8Array(b.subarray(a, z)), next: null };
      this.ids.set(e.id, e);
    }
    return e;
  }
}
