// Wide CSV source: a timestamp column and one column per tag, melted to one reading per non-empty cell. An empty cell
// is no reading and is not counted; a row with the wrong column count is one malformed record.

import { SchemaMismatchError } from '../errors.js';
import type { SourceChunk, SourceInput, SourceOptions } from './batch.js';
import { csvDialect } from './csv.js';
import { CsvRecords } from './csv-record.js';
import type { QualityOptions, WideCsvOptions } from './options.js';
import type { DstKind, TimestampFailure } from './timestamps.js';
import { driveBlocks, isBlank, own, TextSink, type BlockParser, type Labels } from './text-sink.js';

export interface WideCsvReadOptions extends WideCsvOptions, SourceOptions {
  /** Accepted for symmetry with the other sources; wide CSV has no quality column. */
  quality?: QualityOptions;
}

/** The readings of a wide CSV file (location: 1-based line of the row, the header being line 1). */
export async function* readWideCsv(input: SourceInput, opts: WideCsvReadOptions = {}): AsyncGenerator<SourceChunk> {
  const dialect = csvDialect(opts, input.file);
  const parser = new WideCsv(input.file, opts, dialect.delimiter, dialect.quote, dialect.decimal);
  yield* driveBlocks(input, parser, { quote: dialect.quote, delimiter: dialect.delimiter });
}

class WideCsv implements BlockParser {
  readonly sink: TextSink;
  private readonly rec: CsvRecords;
  private ncols = 0;
  private tsCol = -1;
  /** Tag columns and their sensor ids and message labels. */
  private tagCols: number[] = [];
  private ids: string[] = [];
  private labels: Labels[] = [];
  /** The row being melted: its timestamp (or why it has none) and the next tag to read; -1 when between rows. */
  private next = -1;
  private ts: number | TimestampFailure = 0;
  private dst: DstKind | null = null;

  constructor(
    private readonly file: string,
    private readonly opts: WideCsvReadOptions,
    delimiter: string,
    quote: string,
    decimal: '.' | ',',
  ) {
    this.sink = new TextSink(file, 'line', { ...opts, decimal });
    this.rec = new CsvRecords(delimiter, quote);
  }

  get busy(): boolean {
    return this.next >= 0;
  }

  run(text: string, pos: number): number {
    const r = this.rec;
    const sink = this.sink;
    for (;;) {
      if (this.next >= 0 && !this.melt()) return pos;
      if (sink.full) return pos;
      pos = r.next(text, pos);
      if (pos < 0) return text.length;
      if (this.ncols === 0) {
        this.header();
        continue;
      }
      if (r.error !== null) {
        sink.reject(r.raw(), 'malformed_record', r.error, r.line);
        continue;
      }
      if (r.count !== this.ncols) {
        sink.reject(r.raw(), 'malformed_record', `expected ${this.ncols} columns (as in the header), found ${r.count}`, r.line);
        continue;
      }
      this.ts = sink.timeSpan(r.fsrc, r.starts[this.tsCol], r.ends[this.tsCol]);
      this.dst = sink.dst;
      this.next = 0;
    }
  }

  /** Reads the current row's cells from `next` on; false when the sink filled up first (resumed after the flush). */
  private melt(): boolean {
    const r = this.rec;
    const sink = this.sink;
    const f = r.fsrc;
    const ts = this.ts;
    for (let k = this.next; k < this.tagCols.length; k++) {
      const col = this.tagCols[k];
      const a = r.starts[col];
      const b = r.ends[col];
      if (a === b) continue;
      if (sink.full) {
        this.next = k;
        return false;
      }
      if (typeof ts !== 'number') {
        if (isBlank(f.slice(a, b))) continue;
        // A row without a usable time is one bad record (its line goes to quarantine once), however many cells it has.
        sink.reject(r.raw(), ts.reason, ts.message + this.labels[k].ts, r.line);
        break;
      }
      const v = sink.parseValue.span(f, a, b);
      if (this.ids[k] === '' && (typeof v !== 'object' || v.reason !== 'bad_value')) sink.reject(r.raw(), 'missing_sensor_id', `missing sensor_id: the header names no tag for column ${col + 1}`, r.line);
      else if (typeof v === 'number') sink.append(this.ids[k], ts, v, null, null, r.line, this.dst);
      else if (typeof v === 'string') sink.append(this.ids[k], ts, null, v, null, r.line, this.dst);
      else if (v.reason === 'non_finite') sink.rejectValue(r.raw(), v.reason, v.message, r.line, this.labels[k]);
      // A blank cell ("  ") is empty too: no reading.
    }
    this.next = -1;
    return true;
  }

  private header(): void {
    const r = this.rec;
    if (r.error !== null) throw new SchemaMismatchError(`${this.file}: line ${r.line}: the header cannot be read: ${r.error}`);
    const names = Array.from({ length: r.count }, (_, i) => r.field(i).trim());
    this.ncols = r.count;
    const wanted = this.opts.tsColumn;
    this.tsCol = wanted !== undefined ? names.indexOf(wanted) : names.includes('ts') ? names.indexOf('ts') : 0;
    if (this.tsCol < 0) throw new SchemaMismatchError(`${this.file}: no timestamp column ${JSON.stringify(wanted)} (the header has: ${names.join(', ')})`);
    const exclude = new Set(this.opts.exclude ?? []);
    const tsLabel = ` (column ${JSON.stringify(names[this.tsCol])}, for the cell of column`;
    for (let i = 0; i < names.length; i++) {
      if (i === this.tsCol || exclude.has(names[i])) continue;
      this.tagCols.push(i);
      this.ids.push(own(names[i]));
      const col = ` (column ${JSON.stringify(names[i])})`;
      this.labels.push({ ts: `${tsLabel} ${JSON.stringify(names[i])})`, sensor_id: col, value: col, quality: col });
    }
    if (this.tagCols.length === 0) throw new SchemaMismatchError(`${this.file}: the header names no tag columns besides the timestamp (${names.join(', ')})`);
  }
}
