// JSON Lines source: one JSON object per line, fields found by dotted path. Typed JSON values are read here (numbers,
// booleans, text, records); timestamps, numeric text and quality go through the shared parsers of text-sink.ts.

import { InvalidArgumentError } from '../errors.js';
import type { SourceChunk, SourceInput, SourceOptions } from './batch.js';
import { DEFAULT_FIELDS, type JsonlOptions, type QualityOptions } from './options.js';
import { BAD, GOOD } from './quality.js';
import { driveBlocks, isBlank, show, TextSink, type BlockParser, type Labels } from './text-sink.js';

export interface JsonlReadOptions extends JsonlOptions, SourceOptions {
  quality?: QualityOptions;
}

/** The readings of a JSON Lines file (location: 1-based line). */
export async function* readJsonl(input: SourceInput, opts: JsonlReadOptions = {}): AsyncGenerator<SourceChunk> {
  yield* driveBlocks(input, new Jsonl(input.file, opts));
}

type Getter = (o: Record<string, unknown>) => unknown;

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

  constructor(file: string, opts: JsonlReadOptions) {
    this.sink = new TextSink(file, 'line', opts);
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

  private record(o: Record<string, unknown>, raw: string, line: number): void {
    const sink = this.sink;
    const l = this.l;
    const tsv = this.ts(o);
    if (typeof tsv !== 'string' && typeof tsv !== 'number') {
      const what = tsv === undefined || tsv === null ? 'missing ts' : `ts ${show(tsv)} is neither text nor a number`;
      return sink.reject(raw, 'bad_timestamp', what + l.ts, line);
    }
    const t = sink.time(tsv);
    if (typeof t !== 'number') return sink.reject(raw, t.reason, t.message + l.ts, line);

    const s = this.sid(o);
    let id: string;
    if (typeof s === 'string' && s !== '' && !isBlank(s)) id = s;
    else if (typeof s === 'number') id = String(s);
    else if (s === undefined || s === null || typeof s === 'string') return sink.reject(raw, 'missing_sensor_id', `missing sensor_id${l.sensor_id}`, line);
    else return sink.reject(raw, 'type_mismatch', `sensor_id ${show(s)} is not text or a number${l.sensor_id}`, line);

    const xt = this.vt?.(o);
    let vt = typeof xt === 'string' && xt !== '' ? xt : null;
    let v: number | null = null;
    const x = this.val(o);
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) return sink.rejectValue(raw, 'non_finite', `${x} is not a finite number`, line, l);
      v = x;
    } else if (typeof x === 'string') {
      const r = sink.parseValue(x);
      if (typeof r === 'number') v = r;
      else if (typeof r === 'string') vt ??= r;
      else if (r.reason !== 'bad_value' || vt === null) return sink.rejectValue(raw, r.reason, r.message, line, l);
    } else if (typeof x === 'boolean') {
      v = x ? 1 : 0;
      vt = x ? 'true' : 'false';
    } else if (x === undefined || x === null) {
      if (vt === null) return sink.rejectValue(raw, 'bad_value', 'missing value', line, l);
    } else return sink.reject(raw, 'type_mismatch', `value ${show(x)} is a ${Array.isArray(x) ? 'list' : 'record'}, expected a number or text${l.value}`, line);

    let q: number | null = null;
    const qv = this.q?.(o);
    if (typeof qv === 'string' || typeof qv === 'number') {
      if (qv !== '' && !(typeof qv === 'string' && isBlank(qv))) {
        q = sink.parseQuality(qv);
        if (q === null) return sink.rejectQuality(raw, qv, line, l);
      }
    } else if (typeof qv === 'boolean') q = qv ? GOOD : BAD;
    else if (qv !== undefined && qv !== null) return sink.rejectQuality(raw, qv, line, l);
    sink.append(sink.sensorId(id), t, v, vt, q, line, sink.dst);
  }
}
