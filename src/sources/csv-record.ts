// Splits CSV text blocks (from lines.ts) into records and fields for csv.ts and wide-csv.ts: a tight indexOf loop for
// unquoted lines, a small state machine for quoted fields (delimiters, doubled quotes and newlines inside quotes).

export class CsvRecords {
  /** 1-based line of the current record's first line; blank lines are skipped but counted. */
  line = 0;
  /** Fields of the current record: [starts[i], ends[i]) of `fsrc` (the block, or the unescaped fields of a quoted one). */
  count = 0;
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  fsrc = '';
  /** The block the record is in. */
  src = '';
  /** The record's own text: src[start, end) (without its line end). */
  start = 0;
  end = 0;
  /** Why the record cannot be split (an unclosed quote, text after a closing quote), or null. */
  error: string | null = null;
  /** 1-based line the next record starts on (the byte path of csv-bytes.ts advances it too). */
  nextLine = 1;
  private nextQuote = -1;
  private readonly d: string;
  private readonly dc: number;
  private readonly q: string;
  private readonly qc: number;

  constructor(delimiter: string, quote: string) {
    this.d = delimiter;
    this.dc = delimiter.charCodeAt(0);
    this.q = quote;
    this.qc = quote === '' ? -1 : quote.charCodeAt(0);
  }

  /** Reads the next non-blank record at or after `pos`; returns the position after it, or -1 when the text ends. */
  next(text: string, pos: number): number {
    const len = text.length;
    if (pos === 0) this.nextQuote = -1; // a new block
    for (;;) {
      if (pos >= len) return -1;
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = len;
      let end = nl;
      if (end > pos && text.charCodeAt(end - 1) === 13) end--;
      this.line = this.nextLine++;
      if (end === pos) {
        pos = nl + 1;
        continue;
      }
      this.src = text;
      this.start = pos;
      this.error = null;
      if (this.qc >= 0 && this.nextQuote < pos) {
        const nq = text.indexOf(this.q, pos);
        this.nextQuote = nq < 0 ? Infinity : nq;
      }
      if (this.nextQuote < end) return this.quoted(text, pos);
      this.fsrc = text;
      this.end = end;
      let k = 0;
      let p = pos;
      const d = this.d;
      for (;;) {
        if (k === this.starts.length) this.grow();
        const c = text.indexOf(d, p);
        this.starts[k] = p;
        if (c < 0 || c >= end) {
          this.ends[k++] = end;
          break;
        }
        this.ends[k++] = c;
        p = c + 1;
      }
      this.count = k;
      if (k === 1 && isSpace(text, pos, end)) {
        pos = nl + 1; // a whitespace-only line is blank too
        continue;
      }
      return nl + 1;
    }
  }

  field(i: number): string {
    return this.fsrc.slice(this.starts[i], this.ends[i]);
  }

  /** The record's raw text, for rejects. */
  raw(): string {
    return this.src.slice(this.start, this.end);
  }

  private quoted(text: string, pos: number): number {
    const len = text.length;
    const vals: string[] = [];
    const qc = this.qc;
    let p = pos;
    let lines = 0;
    for (;;) {
      if (text.charCodeAt(p) === qc) {
        let s = p + 1;
        let out = '';
        for (;;) {
          const c = text.indexOf(this.q, s);
          if (c < 0) return this.broken(text, pos, 'a quoted field is never closed');
          if (text.charCodeAt(c + 1) === qc) {
            out += text.slice(s, c + 1);
            s = c + 2;
            continue;
          }
          out += text.slice(s, c);
          for (let n = text.indexOf('\n', p); n >= 0 && n < c; n = text.indexOf('\n', n + 1)) lines++;
          p = c + 1;
          break;
        }
        vals.push(out);
        const ch = text.charCodeAt(p);
        if (ch === this.dc) {
          p++;
          continue;
        }
        if (p >= len || ch === 10 || (ch === 13 && (p + 1 >= len || text.charCodeAt(p + 1) === 10))) break;
        return this.broken(text, pos, `unexpected text after the closing quote of field ${vals.length}`);
      }
      let e = text.indexOf('\n', p);
      if (e < 0) e = len;
      const c = text.indexOf(this.d, p);
      if (c >= 0 && c < e) {
        vals.push(text.slice(p, c));
        p = c + 1;
        continue;
      }
      const fe = e > p && text.charCodeAt(e - 1) === 13 ? e - 1 : e;
      vals.push(text.slice(p, fe));
      p = fe;
      break;
    }
    this.setFields(vals);
    this.end = p;
    this.nextLine += lines;
    if (text.charCodeAt(p) === 13) p++;
    this.nextQuote = -1;
    return p + 1;
  }

  /** A record that cannot be split: the error covers its first physical line, and reading resumes after it. */
  private broken(text: string, pos: number, why: string): number {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    this.setFields([]);
    this.end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    this.error = why;
    this.nextQuote = -1;
    return nl + 1;
  }

  /** Quoted fields, unescaped, laid end to end so that they are spans like the fields of a plain line. */
  private setFields(vals: string[]): void {
    while (this.starts.length < vals.length) this.grow();
    let p = 0;
    for (let i = 0; i < vals.length; i++) {
      this.starts[i] = p;
      p += vals[i].length;
      this.ends[i] = p;
    }
    this.fsrc = vals.join('');
    this.count = vals.length;
  }

  private grow(): void {
    const s = new Int32Array(this.starts.length * 2);
    s.set(this.starts);
    this.starts = s;
    const e = new Int32Array(this.ends.length * 2);
    e.set(this.ends);
    this.ends = e;
  }
}

function isSpace(text: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}
