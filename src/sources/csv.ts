// Narrow CSV source: one reading per row, columns found by header name or by index. Hand-parsed (csv-parse reached
// 0.35 M rows/s here, well short of the 1.5 M needed); records are split by csv-record.ts, read by text-sink.ts.

import { createReadStream } from 'node:fs';
import { InvalidArgumentError, SchemaMismatchError } from '../errors.js';
import type { SourceChunk, SourceInput, SourceOptions } from './batch.js';
import { CsvBytes } from './csv-bytes.js';
import { CsvRecords } from './csv-record.js';
import { byteBlocks } from './lines.js';
import { DEFAULT_FIELDS, type CsvOptions, type FieldMap, type QualityOptions } from './options.js';
import { TextSink, type BlockParser, type Labels } from './text-sink.js';

export interface CsvReadOptions extends CsvOptions, SourceOptions {
  quality?: QualityOptions;
}

export interface CsvDialect {
  delimiter: string;
  quote: string;
  decimal: '.' | ',';
}

/** Delimiter, quote and decimal mark checked together; with a decimal comma the delimiter defaults to ';'. */
export function csvDialect(opts: { delimiter?: string; quote?: string; decimal?: '.' | ',' }, file: string): CsvDialect {
  const decimal = opts.decimal ?? '.';
  if (decimal !== '.' && decimal !== ',') throw new InvalidArgumentError(`${file}: decimal must be '.' or ',', not ${JSON.stringify(decimal)}`);
  const delimiter = opts.delimiter ?? (decimal === ',' ? ';' : ',');
  const quote = opts.quote ?? '"';
  if (delimiter.length !== 1 || delimiter === '\n' || delimiter === '\r') throw new InvalidArgumentError(`${file}: the CSV delimiter must be one character (not a line end), not ${JSON.stringify(delimiter)}`);
  if (quote.length > 1 || quote === delimiter) throw new InvalidArgumentError(`${file}: the CSV quote must be one character other than the delimiter, or '' for none; not ${JSON.stringify(quote)}`);
  if (decimal === ',' && delimiter === ',') throw new InvalidArgumentError(`${file}: with decimal ',' the delimiter cannot also be ','; use ';' or a tab`);
  return { delimiter, quote, decimal };
}

/** The readings of a narrow CSV file (location: 1-based line, the header being line 1). */
export async function* readCsv(input: SourceInput, opts: CsvReadOptions = {}): AsyncGenerator<SourceChunk> {
  const dialect = csvDialect(opts, input.file);
  yield* parseCsv(input, input.open(), new NarrowCsv(input.file, opts, dialect), dialect);
}

async function* parseCsv(input: Pick<SourceInput, 'file' | 'bytesRead'>, stream: AsyncIterable<Buffer>, parser: NarrowCsv, dialect: CsvDialect, state?: { carry: number }): AsyncGenerator<SourceChunk> {
  const sink = parser.sink;
  const quote = dialect.quote === '' ? -1 : dialect.quote.charCodeAt(0);
  let yielded = false;
  for await (const block of byteBlocks(stream, { quote: dialect.quote, delimiter: dialect.delimiter, file: input.file, state })) {
    // Blocks with a quote character (rare in sensor exports) and the header's block are read as text.
    const plain = quote < 0 || (quote < 128 && block.indexOf(quote) < 0);
    let bytes = plain ? parser.bytes : null;
    let text = bytes ? null : block.toString('utf8');
    let pos = 0;
    for (;;) {
      if (bytes) pos = bytes.run(block, pos);
      else {
        pos = parser.run(text!, pos);
        // The header was just read: the rest of the block can go the byte way.
        if (plain && parser.bytes && pos < text!.length) {
          pos = Buffer.byteLength(text!.slice(0, pos));
          bytes = parser.bytes;
          text = null;
        }
      }
      if (sink.full) {
        yield sink.flush(input.bytesRead());
        yielded = true;
      }
      if (pos >= (text === null ? block.length : text.length)) break;
    }
  }
  // One chunk at least, so that an empty file still reports its bytes.
  if (sink.builder.pending > 0 || !yielded) yield sink.flush(input.bytesRead());
}

/** A byte range of a CSV file to read on its own (see readCsvRange). */
export interface CsvRange {
  file: string;
  /** The file's bytes up to and including its header line (none without a header): read first, for the columns. */
  prefix: Uint8Array;
  start: number;
  /** Exclusive; just after a newline, or the file's size. */
  end: number;
}

/** Where a range read stopped: the line after its last (numbered as if the prefix came first) and the byte. */
export interface CsvRangeEnd {
  nextLine: number;
  end: number;
}

/**
 * The readings of one byte range of a narrow CSV file, so that parts of a large file can be parsed side by side.
 * Lines are numbered from the prefix's first; the caller shifts them. When the range ends inside a quoted field, the
 * read goes on to the end of the file (reported in `done`, so that the caller drops the ranges after it).
 */
export async function* readCsvRange(range: CsvRange, opts: CsvReadOptions, done: (e: CsvRangeEnd) => void): AsyncGenerator<SourceChunk> {
  const dialect = csvDialect(opts, range.file);
  const parser = new NarrowCsv(range.file, opts, dialect);
  const state = { carry: 0 };
  let pos = range.start;
  let end = range.end;
  async function* bytes(): AsyncGenerator<Buffer> {
    if (range.prefix.length > 0) yield Buffer.from(range.prefix);
    for (;;) {
      if (pos < end) {
        for await (const c of createReadStream(range.file, { start: pos, end: end - 1, highWaterMark: 1 << 20 })) {
          pos += (c as Buffer).length;
          yield c as Buffer;
        }
      }
      // The range's last newline was inside quotes: its record goes on, so the read does too.
      if (state.carry === 0 || end === Infinity) return;
      end = Infinity;
    }
  }
  yield* parseCsv({ file: range.file, bytesRead: () => pos }, bytes(), parser, dialect, state);
  done({ nextLine: parser.nextLine, end: pos });
}

type Key = 'ts' | 'sensor_id' | 'value' | 'quality' | 'value_text';
const KEYS: Key[] = ['ts', 'sensor_id', 'value', 'quality', 'value_text'];

class NarrowCsv implements BlockParser {
  readonly sink: TextSink;
  private readonly rec: CsvRecords;
  private readonly header: boolean;
  /** Column index of each field (-1: not in this file), and the column count every row must have (0: not known yet). */
  private ts = -1;
  private sid = -1;
  private val = -1;
  private q = -1;
  private vt = -1;
  private ncols = 0;
  private labels: Labels = { ts: '', sensor_id: '', value: '', quality: '' };
  private colsText = '';
  /** The byte path, once the columns are settled (null: text only). */
  bytes: CsvBytes | null = null;

  /** The line after the last one read. */
  get nextLine(): number {
    return this.rec.nextLine;
  }

  constructor(
    private readonly file: string,
    private readonly opts: CsvReadOptions,
    private readonly dialect: CsvDialect,
  ) {
    this.sink = new TextSink(file, 'line', { ...opts, decimal: dialect.decimal });
    this.rec = new CsvRecords(dialect.delimiter, dialect.quote);
    this.header = opts.header ?? true;
    if (!this.header) {
      for (const k of KEYS) {
        const f = opts.fields?.[k];
        if (f !== undefined && typeof f !== 'number') throw new InvalidArgumentError(`${file}: without a header, fields.${k} must be a column index, not ${JSON.stringify(f)}`);
      }
    }
  }

  run(text: string, pos: number): number {
    const r = this.rec;
    const sink = this.sink;
    while (!sink.full) {
      pos = r.next(text, pos);
      if (pos < 0) return text.length;
      if (this.ncols === 0 && this.resolve()) {
        if (this.bytes) return Math.min(pos, text.length); // the caller may read on as bytes
        continue;
      }
      if (r.error !== null) {
        sink.reject(r.raw(), 'malformed_record', `${r.error}`, r.line);
        continue;
      }
      if (r.count !== this.ncols) {
        sink.reject(r.raw(), 'malformed_record', `expected ${this.ncols} columns (${this.colsText}), found ${r.count}`, r.line);
        continue;
      }
      sink.spans(r, this.ts, this.sid, this.val, this.q, this.vt, this.labels);
    }
    return pos;
  }

  /** Settles the columns from the header line (true: that record is consumed) or, headerless, from the first row. */
  private resolve(): boolean {
    const r = this.rec;
    const fields: FieldMap = this.header ? { ...DEFAULT_FIELDS, ...this.opts.fields } : { ts: 0, sensor_id: 1, value: 2, quality: 3, ...this.opts.fields };
    if (this.header && r.error !== null) throw new SchemaMismatchError(`${this.file}: line ${r.line}: the header cannot be read: ${r.error}`);
    const names = this.header ? Array.from({ length: r.count }, (_, i) => r.field(i).trim()) : [];
    this.ncols = r.count;
    const idx: Record<Key, number> = { ts: -1, sensor_id: -1, value: -1, quality: -1, value_text: -1 };
    const label = { ts: '', sensor_id: '', value: '', quality: '' } as Labels;
    for (const k of KEYS) {
      const f = fields[k];
      if (f === undefined) continue;
      let i = -1;
      if (typeof f === 'number') i = Number.isInteger(f) && f >= 0 && f < r.count ? f : -1;
      else {
        i = names.indexOf(f);
        if (i < 0) i = names.findIndex((n) => n.toLowerCase() === f.trim().toLowerCase());
      }
      // quality (and the default headerless quality column 3) is optional unless the user named it.
      const optional = k === 'value_text' || (k === 'quality' && this.opts.fields?.quality === undefined);
      if (i < 0 && !optional) {
        const where = this.header ? `the header has: ${names.join(', ') || 'nothing'}` : `line ${r.line} has ${r.count} columns`;
        throw new SchemaMismatchError(`${this.file}: no column ${JSON.stringify(f)} for ${k} (${where})`);
      }
      idx[k] = i;
      if (k !== 'value_text') label[k] = this.header ? ` (column ${JSON.stringify(names[i])})` : ` (column index ${i})`;
    }
    this.ts = idx.ts;
    this.sid = idx.sensor_id;
    this.val = idx.value;
    this.q = idx.quality;
    this.vt = idx.value_text;
    this.labels = label;
    this.colsText = this.header ? 'as in the header' : `as on line ${r.line}`;
    const layout = { ts: this.ts, sid: this.sid, val: this.val, q: this.q, vt: this.vt, ncols: this.ncols };
    if (CsvBytes.usable(this.dialect.delimiter, layout)) {
      this.bytes = new CsvBytes(this.sink, this.rec, layout, this.dialect.delimiter, this.dialect.decimal, (line) => void this.run(line, 0));
    }
    return this.header;
  }
}
