// Backfill test helpers: a temp lake and input directory, narrow CSV files written line by line, the lake's tables
// read back as plain sorted rows, and the CLI run as a user runs it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeltaTable } from '../../src/delta/table.js';
import { backfill, type BackfillOptions, type BackfillReport } from '../../src/backfill/run.js';
import { REPO_ROOT, tempDir } from '../helpers.js';

export interface Env {
  dir: string;
  lake: string;
  input: string;
  cleanup: () => void;
}

export function setup(): Env {
  const t = tempDir('sensorlake-backfill-');
  const input = path.join(t.dir, 'in');
  mkdirSync(input);
  return { dir: t.dir, lake: path.join(t.dir, 'lake'), input, cleanup: t.cleanup };
}

/** Writes a narrow CSV (header ts,sensor_id,value,quality) with these lines; returns its path. */
export function writeCsv(file: string, lines: string[]): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, ['ts,sensor_id,value,quality', ...lines].join('\n') + '\n');
  return file;
}

/** A reading line; ts in minutes after 2024-01-01T00:00Z. */
export function line(sensor: string, minute: number, value: string | number, quality = 'good'): string {
  return `${iso(minute)},${sensor},${value},${quality}`;
}

export const JAN1_MS = Date.UTC(2024, 0, 1);
export function iso(minute: number): string {
  return new Date(JAN1_MS + minute * 60_000).toISOString();
}

export async function run(env: Env, opts: Partial<BackfillOptions> = {}): Promise<BackfillReport> {
  return backfill({ source: env.input, lake: env.lake, ...opts });
}

export interface ReadingRow {
  ts: string;
  sensor_id: string;
  value: number | null;
  value_text: string | null;
  quality: number;
  source: string | null;
  date: string;
}

/** The readings table as plain rows sorted by (sensor_id, ts). */
export async function readings(lake: string): Promise<ReadingRow[]> {
  const t = await (await DeltaTable.open(path.join(lake, 'readings'))).read();
  const out: ReadingRow[] = [];
  for (const r of t) {
    const o = r.toJSON() as Record<string, unknown>;
    out.push({
      ts: new Date(o.ts as number).toISOString(),
      sensor_id: o.sensor_id as string,
      value: o.value as number | null,
      value_text: o.value_text as string | null,
      quality: Number(o.quality),
      source: o.source as string | null,
      date: new Date(o.date as number).toISOString().slice(0, 10),
    });
  }
  return out.sort((a, b) => (a.sensor_id < b.sensor_id ? -1 : a.sensor_id > b.sensor_id ? 1 : a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}

/** Expected readings rows from (sensor, minute, value) triples. */
export function expected(rows: [string, number, number | string, number?][], source: string): ReadingRow[] {
  return rows
    .map(([sensor, minute, v, q]) => ({
      ts: iso(minute),
      sensor_id: sensor,
      value: typeof v === 'number' ? v : null,
      value_text: typeof v === 'string' ? v : null,
      quality: q ?? 0,
      source,
      date: iso(minute).slice(0, 10),
    }))
    .sort((a, b) => (a.sensor_id < b.sensor_id ? -1 : a.sensor_id > b.sensor_id ? 1 : a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}

export async function tableRows(location: string): Promise<Record<string, unknown>[]> {
  const t = await (await DeltaTable.open(location)).read();
  return t.toArray().map((r) => r.toJSON() as Record<string, unknown>);
}

export async function version(location: string): Promise<number> {
  return (await DeltaTable.open(location)).version();
}

/** Runs the built CLI: `node bin/sensorlake.js ...args`. */
export function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'sensorlake.js'), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** One narrow CSV mixing every kind of bad row (line numbers in comments; header is line 1). */
export const MIXED = [
  line('s1', 10, 1), // 2: good
  'not-a-time,s1,1,good', // 3: bad_timestamp
  `${iso(11)},s1,,good`, // 4: bad_value
  `${iso(12)},s1,NaN,good`, // 5: non_finite
  `${iso(13)},s1,I/O Timeout,good`, // 6: type_mismatch (s1 is numeric)
  `${iso(14)},,1,good`, // 7: missing_sensor_id
  `${iso(15)},s1,1,sparkly`, // 8: bad_quality
  'a,b', // 9: malformed_record
  line('s1', -10, 1), // 10: out_of_range_time (before --from)
  line('s1', 10, 1), // 11: exact duplicate of line 2
  line('s2', 10, 2), // 12: good
];
