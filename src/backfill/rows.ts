// Staged readings held column by column in typed arrays: what pass 1 spills to disk (see segment.ts) and pass 2
// loads back per window. Sensors are integers into the run's sensor dictionary and files integers into its input list.

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
  /** When the rows are ordered by sensor id: (sid, rows) of each run in order (see sortedByRank). */
  runs: Int32Array | null = null;

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
   * The rows ordered by sensor id (`rankOf[sid]` is the sensor's rank in UTF-8 order; stable among one sensor's rows),
   * with the directory of runs, into `into` or a new buffer. Spills are written this way, so that pass 2 reads a range
   * of sensors with a few reads and puts rows in key order with one block copy per sensor.
   */
  sortedByRank(rankOf: Int32Array, into?: RowBuffer): RowBuffer {
    const n = this.n;
    const ranks = rankOf.length;
    const next = new Int32Array(ranks + 1);
    for (let i = 0; i < n; i++) next[rankOf[this.sid[i]] + 1]++;
    let runs = 0;
    for (let r = 1; r <= ranks; r++) {
      if (next[r] > 0) runs++;
      next[r] += next[r - 1];
    }
    const dir = new Int32Array(2 * runs);
    for (let r = 0, k = 0; r < ranks; r++) {
      if (next[r + 1] > next[r]) {
        dir[2 * k + 1] = next[r + 1] - next[r];
        k++;
      }
    }
    const dest = new Int32Array(n);
    for (let i = 0; i < n; i++) dest[i] = next[rankOf[this.sid[i]]]++;
    const out = into ?? new RowBuffer(Math.max(n, 1));
    out.clear();
    out.reserve(n);
    out.n = n;
    // Column by column: one array's write frontiers (a page each) fit the TLB where all columns' would not. A column
    // with one value throughout (one input file, all values present, all quality good) is filled, not scattered.
    scatter(out.ts, this.ts, dest);
    scatter(out.sid, this.sid, dest);
    scatter(out.value, this.value, dest);
    scatterOrFill(out.valid, this.valid, dest);
    scatterOrFill(out.quality, this.quality, dest);
    scatterOrFill(out.file, this.file, dest);
    scatter(out.loc, this.loc, dest);
    if (this.text) {
      const text = (out.text = new Array<string | null>(n).fill(null));
      for (let i = 0; i < n; i++) text[dest[i]] = this.text[i];
    }
    for (let k = 0, at = 0; k < runs; k++) {
      dir[2 * k] = out.sid[at];
      at += dir[2 * k + 1];
    }
    out.runs = dir;
    return out;
  }

  clear(): void {
    this.n = 0;
    this.text = null;
    this.runs = null;
  }
}

/** to[dest[i]] = from[i] for the first dest.length rows. */
export function scatter<T extends Float64Array | Int32Array | Uint32Array | Uint8Array>(to: T, from: T, dest: Int32Array): void {
  for (let i = 0; i < dest.length; i++) to[dest[i]] = from[i];
}

/** scatter(), or a fill when from[0, dest.length) holds one value (a sequential read costs less than scattered writes). */
function scatterOrFill<T extends Int32Array | Uint32Array | Uint8Array>(to: T, from: T, dest: Int32Array): void {
  const n = dest.length;
  const v = from[0];
  let i = 1;
  while (i < n && from[i] === v) i++;
  if (i >= n) to.fill(v, 0, n);
  else scatter(to, from, dest);
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

/** Ranks names by UTF-8 byte order (the order Delta stats and predicates compare strings in); `rank[k]` is names[k]'s. */
export function rankNames(names: string[]): { rank: Int32Array; byRank: string[] } {
  const keyed = names.map((s, id) => ({ id, b: Buffer.from(s, 'utf8') }));
  keyed.sort((x, y) => Buffer.compare(x.b, y.b));
  const rank = new Int32Array(names.length);
  keyed.forEach((k, r) => (rank[k.id] = r));
  return { rank, byRank: keyed.map((k) => names[k.id]) };
}
