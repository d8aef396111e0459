// InfluxDB line protocol source: `measurement[,tag=v...] field=v[,field=v...] [timestamp]`, every field one reading
// with its sensor id from a template. A line that is not line protocol is one malformed record; '#' lines are comments.

import { InvalidArgumentError } from '../errors.js';
import type { SourceChunk, SourceInput, SourceOptions } from './batch.js';
import type { InfluxOptions, QualityOptions } from './options.js';
import { driveBlocks, isBlank, own, TextSink, type BlockParser, type Labels } from './text-sink.js';
import type { TimestampFailure } from './timestamps.js';

export interface InfluxReadOptions extends InfluxOptions, SourceOptions {
  quality?: QualityOptions;
}

/** The readings of a line protocol file (location: 1-based line). Timestamps are in time.epochUnit, default ns. */
export async function* readInflux(input: SourceInput, opts: InfluxReadOptions = {}): AsyncGenerator<SourceChunk> {
  yield* driveBlocks(input, new Influx(input.file, opts));
}

interface Field {
  key: string;
  /** The number (floats, integers, booleans as 1/0), or NaN when `text` holds a string value or `bad` a problem. */
  num: number;
  text: string | null;
  bad: string | null;
}

interface Line {
  measurement: string;
  tags: Map<string, string> | null;
  fields: Field[];
  ts: string | null;
}

type Part = { lit: string } | { tag: string } | 'measurement' | 'field';
const PLACEHOLDER = /\{(measurement|field|tag:[^}]+)\}/g;

/** '{measurement}/{field}' -> parts; literal text is kept as is. */
export function compileTemplate(t: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of t.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ lit: t.slice(last, m.index) });
    parts.push(m[1] === 'measurement' || m[1] === 'field' ? m[1] : { tag: m[1].slice(4) });
    last = m.index + m[0].length;
  }
  if (last < t.length) parts.push({ lit: t.slice(last) });
  if (/[{}]/.test(t.replace(PLACEHOLDER, ''))) throw new InvalidArgumentError(`influx.sensorId '${t}' has an unknown placeholder (known: {measurement}, {field}, {tag:NAME})`);
  return parts;
}

const LABELS: Labels = { ts: ' (line protocol timestamp)', sensor_id: '', value: '', quality: '' };

class Influx implements BlockParser {
  readonly sink: TextSink;
  private line = 0;
  private readonly parts: Part[];
  /** The line being delivered: its fields from `next` on. */
  private cur: Line | null = null;
  private curTs: number | TimestampFailure = 0;
  private curRaw = '';
  private next = 0;
  /** measurement -> field -> sensor id, when the template uses no tags (ids then depend on those two alone). */
  private readonly ids: Map<string, Map<string, string>> | null;

  constructor(file: string, opts: InfluxReadOptions) {
    const time = { ...opts.time, format: 'epoch' as const, epochUnit: opts.time?.epochUnit ?? 'ns' };
    this.sink = new TextSink(file, 'line', { ...opts, time });
    this.parts = compileTemplate(opts.sensorId ?? '{measurement}/{field}');
    this.ids = this.parts.some((p) => typeof p === 'object' && 'tag' in p) ? null : new Map();
  }

  get busy(): boolean {
    return this.cur !== null;
  }

  run(text: string, pos: number): number {
    const len = text.length;
    const sink = this.sink;
    for (;;) {
      if (this.cur !== null && !this.deliver()) return pos;
      if (pos >= len || sink.full) return Math.min(pos, len);
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = len;
      const end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line++;
      const raw = text.slice(pos, end);
      pos = nl + 1;
      const c = raw.charCodeAt(0);
      if (raw === '' || c === 35 || ((c === 32 || c === 9) && (isBlank(raw) || raw.trimStart().startsWith('#')))) continue;
      const parsed = parseLine(raw);
      if (typeof parsed === 'string') {
        sink.reject(raw, 'malformed_record', `not line protocol: ${parsed}`, this.line);
        continue;
      }
      this.cur = parsed;
      this.curRaw = raw;
      this.curTs = parsed.ts === null ? { reason: 'bad_timestamp', message: 'missing timestamp' } : sink.time(parsed.ts);
      this.next = 0;
    }
  }

  /** Delivers the current line's fields; false when the sink filled up first (resumed after the flush). */
  private deliver(): boolean {
    const sink = this.sink;
    const l = this.cur!;
    const ts = this.curTs;
    for (let k = this.next; k < l.fields.length; k++) {
      if (sink.full) {
        this.next = k;
        return false;
      }
      const f = l.fields[k];
      if (typeof ts !== 'number') {
        sink.reject(this.curRaw, ts.reason, `${ts.message}${LABELS.ts} for field ${JSON.stringify(f.key)}`, this.line);
        continue;
      }
      const id = this.cachedId(l, f.key);
      if (typeof id !== 'string') sink.reject(this.curRaw, 'missing_sensor_id', `missing sensor_id: no tag ${JSON.stringify(id.tag)} on this line for influx.sensorId`, this.line);
      else if (f.bad !== null) sink.reject(this.curRaw, 'non_finite', `field ${JSON.stringify(f.key)} ${f.bad}`, this.line);
      else sink.append(id, ts, f.text === null || f.num === f.num ? f.num : null, f.text, null, this.line, null);
    }
    this.cur = null;
    return true;
  }

  private cachedId(l: Line, field: string): string | { tag: string } {
    if (this.ids === null) {
      const id = this.sensorId(l, field);
      return typeof id === 'string' ? this.sink.sensorId(id) : id;
    }
    let byField = this.ids.get(l.measurement);
    // Keys are copied: the parsed names are slices of a whole text block.
    if (byField === undefined) this.ids.set(own(l.measurement), (byField = new Map()));
    let id = byField.get(field);
    if (id === undefined) byField.set(own(field), (id = this.sink.sensorId(this.sensorId(l, field) as string)));
    return id;
  }

  /** The id of one field; the missing tag when the template names one the line lacks. */
  private sensorId(l: Line, field: string): string | { tag: string } {
    let id = '';
    for (const p of this.parts) {
      if (p === 'measurement') id += l.measurement;
      else if (p === 'field') id += field;
      else if ('lit' in p) id += p.lit;
      else {
        const v = l.tags?.get(p.tag);
        if (v === undefined) return p;
        id += v;
      }
    }
    return id;
  }
}

const BOOL = new Map([
  ['t', 1], ['T', 1], ['true', 1], ['True', 1], ['TRUE', 1],
  ['f', 0], ['F', 0], ['false', 0], ['False', 0], ['FALSE', 0],
]);
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INT = /^[+-]?\d+[iu]$/;
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;

/** One line -> its parts, or what makes it not line protocol. */
export function parseLine(s: string): Line | string {
  const n = s.length;
  let i = 0;
  // Identifiers end at an unescaped stop character; a backslash escapes the next character.
  const ident = (stops: string): string => {
    let out = '';
    let from = i;
    for (; i < n; i++) {
      const ch = s[i];
      if (ch === '\\' && i + 1 < n && (s[i + 1] === ',' || s[i + 1] === ' ' || s[i + 1] === '=' || s[i + 1] === '\\' || s[i + 1] === '"')) {
        out += s.slice(from, i);
        from = ++i;
      } else if (stops.includes(ch)) break;
    }
    return out + s.slice(from, i);
  };
  const measurement = ident(', ');
  if (measurement === '') return 'no measurement';
  let tags: Map<string, string> | null = null;
  while (s[i] === ',') {
    i++;
    const k = ident('=, ');
    if (s[i] !== '=' || k === '') return `tag ${JSON.stringify(k)} has no value`;
    i++;
    const v = ident(', ');
    if (v === '') return `tag ${JSON.stringify(k)} has an empty value`;
    (tags ??= new Map()).set(k, v);
  }
  if (s[i] !== ' ') return 'no fields';
  while (s[i] === ' ') i++;
  const fields: Field[] = [];
  for (;;) {
    const key = ident('=, ');
    if (s[i] !== '=' || key === '') return `field ${JSON.stringify(key)} has no value`;
    i++;
    if (s[i] === '"') {
      let text = '';
      let from = ++i;
      for (; i < n && s[i] !== '"'; i++) {
        if (s[i] === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) {
          text += s.slice(from, i);
          from = ++i;
        }
      }
      if (i >= n) return `field ${JSON.stringify(key)} has an unclosed string`;
      fields.push({ key, num: NaN, text: text + s.slice(from, i), bad: null });
      i++;
    } else {
      const start = i;
      while (i < n && s[i] !== ',' && s[i] !== ' ') i++;
      const raw = s.slice(start, i);
      const b = BOOL.get(raw);
      if (b !== undefined) fields.push({ key, num: b, text: b ? 'true' : 'false', bad: null });
      else if (FLOAT.test(raw)) {
        const v = Number(raw);
        fields.push({ key, num: v, text: null, bad: Number.isFinite(v) ? null : `value ${raw} overflows a double` });
      } else if (INT.test(raw)) fields.push({ key, num: Number(raw.slice(0, -1)), text: null, bad: null });
      else if (NON_FINITE.test(raw)) fields.push({ key, num: NaN, text: null, bad: `value ${raw} is not a finite number` });
      else return `field ${JSON.stringify(key)} has the value ${JSON.stringify(raw.slice(0, 40))}, which is no number, boolean or "string"`;
    }
    if (s[i] === ',') {
      i++;
      continue;
    }
    break;
  }
  if (i >= n) return { measurement, tags, fields, ts: null };
  while (s[i] === ' ') i++;
  const rest = s.slice(i).trimEnd();
  if (rest === '') return { measurement, tags, fields, ts: null };
  if (!/^-?\d+$/.test(rest)) return `unexpected text ${JSON.stringify(rest.slice(0, 40))} after the fields (expected an integer timestamp)`;
  return { measurement, tags, fields, ts: rest };
}
