// Parsers of the simulator's text formats, written from the format descriptions (CSV, JSON Lines, wide CSV, Influx
// line protocol, PI Web API JSON) to recount what a run wrote, independently of the writers' code.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readSensors, splitCsv, Tally } from './tally.js';

/** Data files of an output directory (everything but sensors.csv and truth.json), sorted, with their text. */
export function dataFiles(dir: string): { name: string; text: string }[] {
  return readdirSync(dir)
    .filter((f) => f !== 'sensors.csv' && f !== 'truth.json')
    .sort()
    .map((name) => {
      const raw = readFileSync(path.join(dir, name));
      return { name, text: (name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8') };
    });
}

function lines(text: string): string[] {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

export function recountCsv(dir: string): Tally {
  const t = new Tally(readSensors(dir));
  for (const f of dataFiles(dir)) {
    const ls = lines(f.text);
    if (ls[0] !== 'ts,sensor_id,value,quality') throw new Error(`${f.name}: header ${ls[0]}`);
    for (let i = 1; i < ls.length; i++) {
      const c = ls[i].split(',');
      if (c.length !== 4) t.reject('malformed_record', f.name, i + 1);
      else t.record(f.name, i + 1, { ts: c[0], id: c[1], value: c[2], quality: c[3] });
    }
  }
  return t;
}

export function recountJsonl(dir: string): Tally {
  const t = new Tally(readSensors(dir));
  for (const f of dataFiles(dir)) {
    lines(f.text).forEach((line, i) => {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return t.reject('malformed_record', f.name, i + 1);
      }
      t.record(f.name, i + 1, { ts: o.ts, id: o.sensor_id, value: o.value, quality: o.quality });
    });
  }
  return t;
}

export function recountWide(dir: string): Tally {
  const t = new Tally(readSensors(dir));
  for (const f of dataFiles(dir)) {
    const ls = lines(f.text);
    const head = splitCsv(ls[0]);
    if (head[0] !== 'ts') throw new Error(`${f.name}: first column ${head[0]}`);
    for (let i = 1; i < ls.length; i++) {
      const c = ls[i].split(',');
      if (c.length !== head.length) {
        t.reject('malformed_record', f.name, i + 1);
        continue;
      }
      for (let k = 1; k < c.length; k++) if (c[k] !== '') t.record(f.name, i + 1, { ts: c[0], id: head[k], value: c[k] });
    }
  }
  return t;
}

const FLOAT = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const STRING = /^"((?:[^"\\]|\\.)*)"$/;

/** Line protocol without escapes (the simulator's names need none): `measurement field=value[,...] ns`. */
export function recountInflux(dir: string): Tally {
  const t = new Tally(readSensors(dir));
  for (const f of dataFiles(dir)) {
    lines(f.text).forEach((line, i) => {
      const parts = splitOutsideQuotes(line, ' ');
      const fields = parts.length === 3 ? splitOutsideQuotes(parts[1], ',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]) : [];
      const ok = parts.length === 3 && /^\d+$/.test(parts[2]) && fields.every((kv) => kv[0] !== '' && (FLOAT.test(kv[1]) || STRING.test(kv[1])));
      if (!ok) return t.reject('malformed_record', f.name, i + 1);
      const ns = BigInt(parts[2]);
      const ts = new Date(Number(ns / 1_000_000n)).toISOString();
      for (const [k, v] of fields) {
        const str = STRING.exec(v);
        t.record(f.name, i + 1, { ts, id: `${parts[0]}/${k}`, value: str ? str[1] : Number(v) });
      }
    });
  }
  return t;
}

/** Splits on `sep` outside double-quoted string field values (which may hold spaces and commas). */
function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && quoted) {
      cur += ch + s[++i];
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === sep && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function recountPi(dir: string): Tally {
  const t = new Tally(readSensors(dir));
  for (const f of dataFiles(dir)) {
    const doc = JSON.parse(f.text) as { Name: string; Items: unknown[] };
    doc.Items.forEach((item, k) => {
      if (typeof item !== 'object' || item === null) return t.reject('malformed_record', f.name, k);
      const it = item as { Timestamp: unknown; Value: unknown; Good: boolean; Questionable: boolean };
      const v = it.Value;
      const value = typeof v === 'object' && v !== null && 'Name' in v ? (v as { Name: string }).Name : v;
      const quality = !it.Good ? 'bad' : it.Questionable ? 'uncertain' : 'good';
      t.record(f.name, k, { ts: it.Timestamp, id: doc.Name, value, quality });
    });
  }
  return t;
}
