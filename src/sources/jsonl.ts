// JSON Lines source: one JSON object per line, fields found by dotted path. Typed JSON values are read here (numbers,
// booleans, text, records); timestamps, numeric text and quality go through the shared parsers of text-sink.ts.

import { InvalidArgumentError } from '../errors.js';
import type { LocationKind, SourceChunk, SourceInput, SourceOptions } from './batch.js';
import { DEFAULT_FIELDS, type JsonlOptions, type QualityOptions } from './options.js';
import { BAD, GOOD } from './quality.js';
import { driveBlocks, isBlank, show, TextSink, type BlockParser, type Labels, type TextSinkOptions } from './text-sink.js';
import type { DstKind } from './timestamps.js';

export interface JsonlReadOptions extends JsonlOptions, SourceOptions, Pick<TextSinkOptions, 'ownStrings'> {
  quality?: QualityOptions;
}

/** The readings of a JSON Lines file (location: 1-based line). */
export async function* readJsonl(input: SourceInput, opts: JsonlReadOptions = {}): AsyncGenerator<SourceChunk> {
  yield* driveBlocks(input, new Jsonl(input.file, opts));
}

/**
 * Readings of JSON objects already parsed (the items of an HTTP body's array), by the same rules as lines of a file;
 * location is the 0-based item index. An item's raw text for quarantine is rendered only when it is rejected.
 */
export function readJsonItems(file: string, items: readonly unknown[], opts: JsonlReadOptions = {}): SourceChunk[] {
  const parser = new Jsonl(file, opts, 'record');
  const sink = parser.sink;
  const out: SourceChunk[] = [];
  for (let i = 0; i < items.length; i++) {
    const o = items[i];
    if (o !== null && typeof o === 'object' && !Array.isArray(o)) parser.record(o as Record<string, unknown>, () => JSON.stringify(o), i);
    else sink.reject(JSON.stringify(o) ?? String(o), 'malformed_record', `not a JSON object but ${Array.isArray(o) ? 'a list' : show(o)}`, i);
    if (sink.full) out.push(sink.flush(0));
  }
  if (sink.builder.pending > 0 || out.length === 0) out.push(sink.flush(0));
  return out;
}

type Getter = (o: Record<string, unknown>) => unknown;

const textOf = (raw: string | (() => string)): string => (typeof raw === 'string' ? raw : raw());

/** A dotted path; a key that itself contains dots ("a.b") is found too, as it is tried before walking. */
export function pathGetter(path: string): Getter {
  const parts = path.split('.');
  if (parts.length === 1) return (o) => o[path];
  return (o) => {
    if (path in o) return o[path];
    let v: unknown = o;
    for (const p of parts) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
}

class Jsonl implements BlockParser {
  readonly sink: TextSink;
  private line = 0;
  private readonly ts: Getter;
  private readonly sid: Getter;
  private readonly val: Getter;
  private readonly q: Getter | null;
  private readonly vt: Getter | null;
  private readonly l: Labels;
  /** The last timestamp read and its value: the readings of one instant (one per sensor) often come together. */
  private lastTs: string | number | null = null;
  private lastTsValue = 0;
  private lastTsDst: DstKind | null = null;

  constructor(file: string, opts: JsonlReadOptions, locationKind: LocationKind = 'line') {
    this.sink = new TextSink(file, locationKind, opts);
    const f = { ...DEFAULT_FIELDS, ...opts.fields };
    for (const [k, p] of Object.entries(f)) {
      if (p !== undefined && (typeof p !== 'string' || p === '')) throw new InvalidArgumentError(`${file}: JSON fields are found by path; fields.${k} is ${JSON.stringify(p)}`);
    }
    const label = (p: string | number | undefined) => ` (field ${JSON.stringify(p)})`;
    this.ts = pathGetter(String(f.ts));
    this.sid = pathGetter(String(f.sensor_id));
    this.val = pathGetter(String(f.value));
    this.q = f.quality === undefined ? null : pathGetter(String(f.quality));
    this.vt = f.value_text === undefined ? null : pathGetter(String(f.value_text));
    this.l = { ts: label(f.ts), sensor_id: label(f.sensor_id), value: label(f.value), quality: label(f.quality) };
  }

  run(text: string, pos: number): number {
    const len = text.length;
    const sink = this.sink;
    while (pos < len && !sink.full) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = len;
      const end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      const line = ++this.line;
      const raw = text.slice(pos, end);
      pos = nl + 1;
      if (raw === '' || ((raw.charCodeAt(0) === 32 || raw.charCodeAt(0) === 9) && isBlank(raw))) continue;
      let o: unknown;
      try {
        o = JSON.parse(raw);
      } catch (e) {
        sink.reject(raw, 'malformed_record', `not valid JSON: ${(e as Error).message}`, line);
        continue;
      }
      if (o === null || typeof o !== 'object' || Array.isArray(o)) {
        sink.reject(raw, 'malformed_record', `not a JSON object but ${Array.isArray(o) ? 'a list' : show(o)}`, line);
        continue;
      }
      this.record(o as Record<string, unknown>, raw, line);
    }
    return pos > len ? len : pos;
  }

  /** `raw` is the record's text, or a function rendering it (called only for a reject). */
  record(o: Record<string, unknown>, raw: string | (() => string), line: number): void {
    const sink = this.sink;
    const l = this.l;
    const tsv = this.ts(o);
    if (typeof tsv !== 'string' && typeof tsv !== 'number') {
      const what = tsv === undefined || tsv === null ? 'missing ts' : `ts ${show(tsv)} is neither text nor a number`;
      return sink.reject(textOf(raw), 'bad_timestamp', what + l.ts, line);
    }
    let t: number;
    if (tsv === this.lastTs) {
      t = this.lastTsValue;
      sink.dst = this.lastTsDst;
    } else {
      const r = sink.time(tsv);
      if (typeof r !== 'number') return sink.reject(textOf(raw), r.reason, r.message + l.ts, line);
      t = this.lastTsValue = r;
      this.lastTs = tsv;
      this.lastTsDst = sink.dst;
    }

    const s = this.sid(o);
    let id: string;
    if (typeof s === 'string' && s !== '' && !isBlank(s)) id = s;
    else if (typeof s === 'number') id = String(s);
    else if (s === undefined || s === null || typeof s === 'string') return sink.reject(textOf(raw), 'missing_sensor_id', `missing sensor_id${l.sensor_id}`, line);
    else return sink.reject(textOf(raw), 'type_mismatch', `sensor_id ${show(s)} is not text or a number${l.sensor_id}`, line);

    const xt = this.vt?.(o);
    let vt = typeof xt === 'string' && xt !== '' ? xt : null;
    let v: number | null = null;
    const x = this.val(o);
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) return sink.rejectValue(textOf(raw), 'non_finite', `${x} is not a finite number`, line, l);
      v = x;
    } else if (typeof x === 'string') {
      const r = sink.parseValue(x);
      if (typeof r === 'number') v = r;
      else if (typeof r === 'string') vt ??= r;
      else if (r.reason !== 'bad_value' || vt === null) return sink.rejectValue(textOf(raw), r.reason, r.message, line, l);
    } else if (typeof x === 'boolean') {
      v = x ? 1 : 0;
      vt = x ? 'true' : 'false';
    } else if (x === undefined || x === null) {
      if (vt === null) return sink.rejectValue(textOf(raw), 'bad_value', 'missing value', line, l);
    } else return sink.reject(textOf(raw), 'type_mismatch', `value ${show(x)} is a ${Array.isArray(x) ? 'list' : 'record'}, expected a number or text${l.value}`, line);

    let q: number | null = null;
    const qv = this.q?.(o);
    if (typeof qv === 'string' || typeof qv === 'number') {
      if (qv !== '' && !(typeof qv === 'string' && isBlank(qv))) {
        q = sink.parseQuality(qv);
        if (q === null) return sink.rejectQuality(textOf(raw), qv, line, l);
      }
    } else if (typeof qv === 'boolean') q = qv ? GOOD : BAD;
    else if (qv !== undefined && qv !== null) return sink.rejectQuality(textOf(raw), qv, line, l);
    sink.append(sink.sensorId(id), t, v, vt, q, line, sink.dst);
  }
}
