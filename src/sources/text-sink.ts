// Shared by the text sources (CSV, wide CSV, JSONL, line protocol, PI JSON): one record's fields -> a reading or a
// reject with the same rules and messages everywhere, and the loop that feeds text blocks and flushes full chunks.

import { InvalidArgumentError } from '../errors.js';
import { ReadingsBuilder, type LocationKind, type RejectReason, type SourceChunk, type SourceInput, type SourceOptions } from './batch.js';
import { textBlocks, type BlockOptions } from './lines.js';
import type { QualityOptions } from './options.js';
import { makeQualityParser } from './quality.js';
import { makeTimestampParser, type DstKind, type TimestampFailure, type TimestampParser } from './timestamps.js';
import { makeValueParser, type ValueParser } from './values.js';

export interface TextSinkOptions extends SourceOptions {
  quality?: QualityOptions;
  decimal?: '.' | ',';
  /**
   * Copy sensor ids out of the text they were cut from (default true), so a sink that lives for a whole file does not
   * pin a text block per id. A sink that lives for one in-memory body (an HTTP request) skips the copies.
   */
  ownStrings?: boolean;
}

/** Where each canonical field came from, appended to messages: ' (column "time")', ' (field "reading.v")'. */
export interface Labels {
  ts: string;
  sensor_id: string;
  value: string;
  quality: string;
}

export class TextSink {
  readonly builder: ReadingsBuilder;
  readonly capacity: number;
  /** Timestamps; use time()/timeSpan(), which also track the DST rule the timestamp needed. */
  readonly parseTs: TimestampParser;
  /** The DST rule the last timestamp parsed needed (counted only when a reading is appended with it). */
  dst: DstKind | null = null;
  readonly parseValue: ValueParser;
  readonly parseQuality: (v: string | number) => number | null;
  private readonly ids = new Map<string, IdEntry>();
  private lastQuality = '\u0000';
  private lastQualityCode = 0;
  private lastId: IdEntry = { id: '\u0000', next: null };
  private lastTsText = '\u0000';
  private lastTs = 0;
  private lastTsDst: DstKind | null = null;
  private readonly ownIds: boolean;

  constructor(file: string, locationKind: LocationKind, opts: TextSinkOptions) {
    const rows = opts.batchRows ?? 65_536;
    if (!Number.isInteger(rows) || rows < 1) throw new InvalidArgumentError(`${file}: batchRows must be a positive integer, not ${rows}`);
    this.capacity = rows;
    this.builder = new ReadingsBuilder(file, locationKind, this.capacity);
    this.parseTs = makeTimestampParser(opts.time, (kind) => (this.dst = kind));
    this.parseValue = makeValueParser(opts.decimal);
    this.parseQuality = makeQualityParser(opts.quality);
    this.ownIds = opts.ownStrings ?? true;
  }

  /** Readings plus rejects reached the chunk size: flush before the next record (rejects count, to bound memory). */
  get full(): boolean {
    return this.builder.pending >= this.capacity;
  }

  /** The id to keep: a slice of a text block would pin the whole block for as long as the file is read. */
  sensorId(s: string): string {
    return this.idEntry(s).id;
  }

  private idEntry(s: string): IdEntry {
    let e = this.ids.get(s);
    if (e === undefined) {
      e = { id: this.ownIds ? own(s) : s, next: null };
      this.ids.set(e.id, e);
    }
    return e;
  }

  reject(raw: string, reason: RejectReason, message: string, location: number): void {
    this.builder.reject(own(raw.length > 4200 ? raw.slice(0, 4200) : raw), reason, message, location);
  }

  /**
   * A record whose fields are spans of one string (CSV): field i is fsrc[starts[i], ends[i]). A field index of -1 means
   * the layout has no such field (quality, value_text).
   */
  spans(r: SpanRecord, ti: number, si: number, vi: number, qi: number, xi: number, l: Labels): void {
    const f = r.fsrc;
    const ta = r.starts[ti];
    const tb = r.ends[ti];
    let t: number | TimestampFailure;
    // Exports list many sensors per instant: a timestamp equal to the row before's is not parsed again.
    if (tb - ta === this.lastTsText.length && sameAt(f, ta, this.lastTsText)) {
      t = this.lastTs;
      this.dst = this.lastTsDst;
    } else {
      t = this.timeSpan(f, ta, tb);
      if (typeof t !== 'number') return this.reject(r.raw(), t.reason, t.message + l.ts, r.line);
      this.lastTsText = own(f.slice(ta, tb));
      this.lastTs = t;
      this.lastTsDst = this.dst;
    }
    const sa = r.starts[si];
    const sb = r.ends[si];
    if (sa === sb || (isSpaceCode(f.charCodeAt(sa)) && isBlank(f.slice(sa, sb)))) return this.reject(r.raw(), 'missing_sensor_id', `missing sensor_id${l.sensor_id}`, r.line);
    let vt = xi < 0 || r.starts[xi] === r.ends[xi] ? null : f.slice(r.starts[xi], r.ends[xi]);
    let v: number | null = null;
    const x = this.parseValue.span(f, r.starts[vi], r.ends[vi]);
    if (typeof x === 'number') v = x;
    else if (typeof x === 'string') vt ??= x;
    // An empty value beside a value_text is a text reading; otherwise it is missing.
    else if (x.reason !== 'bad_value' || vt === null) return this.rejectValue(r.raw(), x.reason, x.message, r.line, l);
    let q: number | null = null;
    if (qi >= 0 && r.starts[qi] !== r.ends[qi]) {
      const qa = r.starts[qi];
      const qb = r.ends[qi];
      // Most rows repeat the flag (and, in exports sorted by tag, the id) of the row before: compared in place.
      if (qb - qa === this.lastQuality.length && sameAt(f, qa, this.lastQuality)) q = this.lastQualityCode;
      else {
        const qs = f.slice(qa, qb);
        q = this.parseQuality(qs);
        if (q === null && !isBlank(qs)) return this.rejectQuality(r.raw(), qs, r.line, l);
        if (q !== null) {
          this.lastQuality = qs;
          this.lastQualityCode = q;
        }
      }
    }
    // The id of the row before, or the one that followed it last time (exports repeat the sensors in one order), are
    // compared in place; only a miss cuts the id out and looks it up.
    let e = this.lastId;
    if (sb - sa !== e.id.length || !sameAt(f, sa, e.id)) {
      const p = e.next;
      if (p !== null && sb - sa === p.id.length && sameAt(f, sa, p.id)) e = p;
      else e = e.next = this.idEntry(f.slice(sa, sb));
      this.lastId = e;
    }
    this.append(e.id, t, v, vt, q, r.line, this.dst);
  }

  time(v: string | number): number | TimestampFailure {
    this.dst = null;
    return this.parseTs(v);
  }

  timeSpan(src: string, start: number, end: number): number | TimestampFailure {
    this.dst = null;
    return this.parseTs.span(src, start, end);
  }

  /** Appends a reading; `dst` is the rule its timestamp needed, counted here so that rejected records never count. */
  append(id: string, ts: number, value: number | null, text: string | null, quality: number | null, loc: number, dst: DstKind | null): void {
    if (dst !== null) this.builder.countDst(dst);
    this.builder.append(id, ts, value, text, quality, loc);
  }

  rejectValue(raw: string, reason: 'bad_value' | 'non_finite', message: string, loc: number, l: Labels): void {
    this.reject(raw, reason, reason === 'bad_value' ? `${message}${l.value}` : `value ${message}${l.value}`, loc);
  }

  rejectQuality(raw: string, quality: unknown, loc: number, l: Labels): void {
    this.reject(raw, 'bad_quality', `quality ${show(quality)} is not a known quality (good, uncertain, bad, a StatusCode, or one in quality.map)${l.quality}`, loc);
  }

  flush(bytesRead: number): SourceChunk {
    return this.builder.flush(bytesRead);
  }
}

/** A sensor id and the id that followed it in the input last time. */
interface IdEntry {
  id: string;
  next: IdEntry | null;
}

/** One record as spans of a string (see CsvRecords). */
export interface SpanRecord {
  fsrc: string;
  starts: Int32Array;
  ends: Int32Array;
  line: number;
  raw(): string;
}

/** What a line-based reader does with each block: parse records from `pos` until the block ends or the sink is full. */
export interface BlockParser {
  sink: TextSink;
  run(text: string, pos: number): number;
  /** True while a record is half delivered (a wide row or a line protocol line whose readings did not all fit). */
  readonly busy?: boolean;
  end?(): void;
}

/** Feeds a file's text blocks to `parser`, yielding a chunk whenever the sink fills and one at the end. */
export async function* driveBlocks(input: SourceInput, parser: BlockParser, opts: Omit<BlockOptions, 'file'> = {}): AsyncGenerator<SourceChunk> {
  const sink = parser.sink;
  let yielded = false;
  for await (const text of textBlocks(input.open(), { ...opts, file: input.file })) {
    let pos = 0;
    do {
      pos = parser.run(text, pos);
      if (sink.full) {
        yield sink.flush(input.bytesRead());
        yielded = true;
      }
    } while (pos < text.length || parser.busy);
  }
  parser.end?.();
  // One chunk at least, so that an empty file still reports its bytes.
  if (sink.builder.pending > 0 || !yielded) yield sink.flush(input.bytesRead());
}

/** A fresh copy of `s`: a substring of a large string can keep the large string alive. */
export function own(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}

/**
 * Whether src holds s at pos (the caller checked the length). A loop of charCodeAt, which the JIT inlines, beats
 * startsWith(s, pos) several times over here; it runs from the end, where ids and timestamps of one export differ.
 */
function sameAt(src: string, pos: number, s: string): boolean {
  for (let i = s.length - 1; i >= 0; i--) if (src.charCodeAt(pos + i) !== s.charCodeAt(i)) return false;
  return true;
}

function isSpaceCode(c: number): boolean {
  return c === 32 || c === 9;
}

export function isBlank(s: string): boolean {
  const a = s.charCodeAt(0);
  const z = s.charCodeAt(s.length - 1);
  return (a === 32 || a === 9 || s === '' || z === 32 || z === 9) && s.trim() === '';
}

export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (v === undefined) return 'absent';
  const j = JSON.stringify(v);
  return j === undefined ? String(v) : j.length > 60 ? `${j.slice(0, 60)}…` : j;
}
