// Fast text output for the text formats: bytes appended to a 1 MiB buffer handed to an OutFile when full, and
// numbers and timestamps formatted straight into it. This is what lets CSV reach millions of rows per second.

/** Where a TextOut hands full buffers: an OutFile, or a per-sensor file appender (pi-json). */
export interface ByteSink {
  readonly name: string;
  /** Takes ownership of the chunk. */
  write(chunk: Uint8Array): void;
}

const CHUNK = 1 << 20;
/** Longest record any text writer appends in one go (garbage lines and ids included). */
export const MAX_RECORD = 4096;
const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

export class TextOut<S extends ByteSink = ByteSink> {
  buf: Buffer;
  pos = 0;

  constructor(
    public file: S,
    private readonly size = CHUNK,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Makes room for one record of at most `bytes` (which must be below the buffer size); call before each. */
  room(bytes = MAX_RECORD): void {
    if (this.pos > this.size - bytes) this.flush();
  }

  flush(): void {
    if (this.pos === 0) return;
    this.file.write(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(this.size);
    this.pos = 0;
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    if (n > 8) {
      this.buf.set(b, this.pos);
      this.pos += n;
      return;
    }
    // For a few bytes a loop beats the call into TypedArray.set.
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = b[i];
    this.pos = p;
  }

  byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  /** Any string (UTF-8); for rare records. Long strings are cut so a record never overruns the buffer. */
  str(s: string): void {
    this.pos += this.buf.write(s.length > MAX_RECORD / 4 ? s.slice(0, MAX_RECORD / 4) : s, this.pos, 'utf8');
  }

  /** `v` with exactly `decimals` digits after the point; v is already rounded to them. */
  fixed(v: number, decimals: number): void {
    const scale = POW10[decimals];
    let n = Math.round(v * scale);
    if (n < 0) {
      this.buf[this.pos++] = 45; // '-'
      n = -n;
    }
    const ip = Math.floor(n / scale);
    this.uint(ip);
    if (decimals > 0) {
      this.buf[this.pos++] = 46; // '.'
      let fp = n - ip * scale;
      const buf = this.buf;
      for (let d = this.pos + decimals - 1; d >= this.pos; d--) {
        buf[d] = 48 + (fp % 10);
        fp = Math.floor(fp / 10);
      }
      this.pos += decimals;
    }
  }

  /** A non-negative integer below 2^53. */
  uint(n: number): void {
    const buf = this.buf;
    if (n < 10) {
      buf[this.pos++] = 48 + n;
      return;
    }
    let len = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) len++;
    let p = this.pos + len - 1;
    for (let m = n; p >= this.pos; p--) {
      buf[p] = 48 + (m % 10);
      m = Math.floor(m / 10);
    }
    this.pos += len;
  }
}

export function ascii(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}

/** ISO 8601 with milliseconds and Z, cached for the last instant (all readings of a step share it). */
export class IsoCache {
  private last = NaN;
  private cached: Uint8Array = new Uint8Array(0);
  text = '';

  get(t: number): Uint8Array {
    if (t !== this.last) {
      this.last = t;
      this.text = new Date(t).toISOString();
      this.cached = Buffer.from(this.text, 'latin1');
    }
    return this.cached;
  }
}

/** Text used by malformed records: realistic ways a historian export goes wrong. */
export const BAD_TIMESTAMPS = ['', 'N/A', '#######', '2024-13-45T25:61:00Z', 'yesterday 14:00'];
export const STATUS_TEXTS = ['I/O Timeout', 'Comm Fail', 'Bad Input', 'Scan Off'];
export const BAD_QUALITIES = ['??', 'q=0xFF', 'unknown'];
