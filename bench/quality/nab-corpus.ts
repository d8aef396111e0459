// The NAB corpus as shipped in ../shared/data/nab: the data files (timestamp,value; naive times read as UTC) and the
// label windows of labels/combined_windows.json. Read in place at run time, never copied into the repo.

import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidRecordError, NotFoundError } from '../../src/errors.js';

/** ../shared/data/nab relative to the repo root (dist/bench/quality -> repo is three levels up from here compiled). */
export function defaultNabDir(): string {
  if (process.env.SENSORLAKE_NAB_DIR) return process.env.SENSORLAKE_NAB_DIR;
  const here = path.dirname(fileURLToPath(import.meta.url));
  // Compiled to dist/bench/quality: the repo is three levels up; from the sources it is two.
  const repo = here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '../../..') : path.resolve(here, '../..');
  return path.resolve(repo, '../shared/data/nab');
}

/** NAB's naive "YYYY-MM-DD HH:MM:SS[.ffffff]" as µs since the epoch, UTC. */
export function nabTimeUs(text: string, where: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!m) throw new InvalidRecordError(`${where}: timestamp '${text}' is not YYYY-MM-DD HH:MM:SS`);
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  const frac = m[7] ? Number(m[7].padEnd(6, '0')) : 0;
  return ms * 1000 + frac;
}

export interface NabDataFile {
  /** Relative path without .csv, e.g. realKnownCause/nyc_taxi: the sensor id it is backfilled under. */
  name: string;
  file: string;
  ts: Float64Array;
  values: Float64Array;
  /** Inclusive label windows, µs. */
  windows: [number, number][];
}

/** The label windows of every corpus file, keyed by name without .csv. */
export async function readNabWindows(dir = defaultNabDir()): Promise<Map<string, [number, number][]>> {
  const file = path.join(dir, 'labels', 'combined_windows.json');
  const text = await readFile(file, 'utf8').catch((e: unknown) => {
    throw new NotFoundError(`NAB labels ${file} cannot be read (is ../shared/data/nab there?)`, { cause: e });
  });
  const raw = JSON.parse(text) as Record<string, [string, string][]>;
  const out = new Map<string, [number, number][]>();
  for (const [rel, ws] of Object.entries(raw)) {
    out.set(rel.replace(/\.csv$/, ''), ws.map(([a, b]) => [nabTimeUs(a, file), nabTimeUs(b, file)]));
  }
  return out;
}

/** One data file read straight from its CSV (the bench reads the lake instead; tests and experiments use this). */
export async function readNabCsv(dir: string, name: string): Promise<{ ts: Float64Array; values: Float64Array }> {
  const file = path.join(dir, `${name}.csv`);
  const lines = (await readFile(file, 'utf8')).split(/\r?\n/).filter((l) => l.trim() !== '');
  const n = lines.length - 1;
  const ts = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const line = lines[i + 1];
    const comma = line.indexOf(',');
    ts[i] = nabTimeUs(line.slice(0, comma), `${file}:${i + 2}`);
    values[i] = Number(line.slice(comma + 1));
    if (!Number.isFinite(values[i])) throw new InvalidRecordError(`${file}:${i + 2}: value '${line.slice(comma + 1)}' is not a number`);
  }
  return { ts, values };
}

/** Every labelled file of the corpus, read from its CSV. */
export async function readNabCorpus(dir = defaultNabDir()): Promise<NabDataFile[]> {
  const windows = await readNabWindows(dir);
  const out: NabDataFile[] = [];
  for (const [name, ws] of [...windows].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const { ts, values } = await readNabCsv(dir, name);
    out.push({ name, file: path.join(dir, `${name}.csv`), ts, values, windows: ws });
  }
  return out;
}
