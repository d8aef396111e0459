// PI Web API source: recorded-values responses ({"Items":[{Timestamp, Value, Good, ...}]}) and stream sets
// ({"Items":[{Name, Path, WebId, Items:[...]}]}), read item by item through json-items.ts in bounded memory.

import * as path from 'node:path';
import { InvalidRecordError } from '../errors.js';
import type { SourceChunk, SourceInput, SourceOptions } from './batch.js';
import { JsonItemScanner } from './json-items.js';
import type { PiWebOptions, QualityOptions } from './options.js';
import { BAD, GOOD, UNCERTAIN } from './quality.js';
import { show, TextSink, type Labels } from './text-sink.js';

export interface PiWebReadOptions extends PiWebOptions, SourceOptions {
  /** Accepted for symmetry; PI items carry their quality as the Good / Questionable / Substituted flags. */
  quality?: QualityOptions;
}

const L: Labels = { ts: ' (field "Timestamp")', sensor_id: '', value: ' (field "Value")', quality: '' };

/**
 * The readings of a PI Web API JSON file (location: 0-based index of the value item in the file). The sensor id of a
 * stream is its Name, else Path, else WebId; a file without them uses piWeb.sensorId, else the file name without
 * extensions. Names must come before the stream's "Items" (as PI writes them); a different one after it is an error,
 * since readings before it were already read under the other id.
 */
export async function* readPiWeb(input: SourceInput, opts: PiWebReadOptions = {}): AsyncGenerator<SourceChunk> {
  const sink = new TextSink(input.file, 'record', opts);
  const scanner = new JsonItemScanner(input.file);
  const fallback = opts.sensorId ?? path.basename(input.file).replace(/\..*$/, '');
  const ids: string[] = [fallback, fallback]; // by level: the top object's id, the current stream's id
  let index = 0;
  let yielded = false;
  const chunks = input.open()[Symbol.asyncIterator]();
  for (;;) {
    const { value: chunk, done } = await chunks.next();
    const events = done ? scanner.end() : scanner.push(chunk as Buffer);
    for (const e of events) {
      if (e.kind === 'head') ids[e.level] = nameOf(e.members) ?? (e.level === 1 ? ids[0] : fallback);
      else if (e.kind === 'tail') {
        const late = nameOf(e.members);
        if (late !== undefined && late !== ids[e.level]) {
          throw new InvalidRecordError(`${input.file}: a stream is named ${JSON.stringify(late)} after its Items, which were read as ${JSON.stringify(ids[e.level])}; put Name/Path/WebId before Items or set piWeb.sensorId`);
        }
      } else if (e.kind === 'item') {
        item(sink, e.raw, ids[e.level], index++);
        if (sink.full) {
          yield sink.flush(input.bytesRead());
          yielded = true;
        }
      } else {
        const what = e.raw === '' ? 'the file ends before its JSON closes (truncated?)' : 'the file ends inside this item (truncated?)';
        sink.reject(e.raw, 'malformed_record', what, index++);
      }
    }
    if (done) break;
  }
  if (sink.builder.pending > 0 || !yielded) yield sink.flush(input.bytesRead());
}

function nameOf(m: Record<string, unknown>): string | undefined {
  for (const k of ['Name', 'Path', 'WebId']) {
    const v = m[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/**
 * One value item. Value: a number; numeric text; other text (value_text); true/false (1/0); a digital state
 * {"Name","Value"} (value and value_text); a system state {"IsSystem": true, "Name": "No Data"} (value null, value_text
 * the name, quality bad). Quality: Good false -> bad; Questionable or Substituted -> uncertain; else good; none of the
 * flags -> no quality.
 */
function item(sink: TextSink, raw: string, id: string, loc: number): void {
  let o: unknown;
  try {
    o = JSON.parse(raw);
  } catch (e) {
    return sink.reject(raw, 'malformed_record', `not valid JSON: ${(e as Error).message}`, loc);
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return sink.reject(raw, 'malformed_record', `an item is ${Array.isArray(o) ? 'a list' : show(o)}, expected an object`, loc);
  const it = o as Record<string, unknown>;
  const tsv = it.Timestamp;
  if (typeof tsv !== 'string' && typeof tsv !== 'number') return sink.reject(raw, 'bad_timestamp', `${tsv === undefined || tsv === null ? 'missing ts' : `ts ${show(tsv)} is neither text nor a number`}${L.ts}`, loc);
  const t = sink.time(tsv);
  if (typeof t !== 'number') return sink.reject(raw, t.reason, t.message + L.ts, loc);

  let q: number | null = null;
  const good = it.Good;
  if (good === false) q = BAD;
  else if (it.Questionable === true || it.Substituted === true) q = UNCERTAIN;
  else if (good === true || it.Questionable === false || it.Substituted === false) q = GOOD;

  let v: number | null = null;
  let vt: string | null = null;
  const x = it.Value;
  if (typeof x === 'number') v = x;
  else if (typeof x === 'boolean') {
    v = x ? 1 : 0;
    vt = x ? 'true' : 'false';
  } else if (typeof x === 'string') {
    const r = sink.parseValue(x);
    if (typeof r === 'number') v = r;
    else if (typeof r === 'string') vt = r;
    else return sink.rejectValue(raw, r.reason, r.message, loc, L);
  } else if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
    const s = x as Record<string, unknown>;
    if (typeof s.Name !== 'string' && typeof s.Value !== 'number') return sink.reject(raw, 'type_mismatch', `value ${show(x)} is a record without Name or a numeric Value${L.value}`, loc);
    vt = typeof s.Name === 'string' ? s.Name : null;
    // A system state ("No Data", "Shutdown", "Bad Input", ...) says why there is no value: kept, marked bad.
    if (s.IsSystem === true) q = BAD;
    else if (typeof s.Value === 'number') v = s.Value;
  } else if (x === null || x === undefined) return sink.rejectValue(raw, 'bad_value', 'missing value', loc, L);
  else return sink.reject(raw, 'type_mismatch', `value ${show(x)} is a list, expected a number, text or a state${L.value}`, loc);
  sink.append(sink.sensorId(id), t, v, vt, q, loc, sink.dst);
}
