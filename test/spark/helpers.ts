// Spark engine test helpers: one simulated plant written in every format the Spark job reads (a day each, so their
// keys are disjoint and each reader's rules show), the lake's tables as canonical sorted rows, and reports compared
// key by key without the fields that differ by nature (lake path, timing).
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DeltaTable } from '../../src/delta/table.js';
import type { BackfillReport } from '../../src/backfill/report.js';
import { simulate } from '../../src/sim/simulate.js';
import type { SourceFormat } from '../../src/sources/options.js';
import { canonicalRows, type CanonicalRow } from '../interop/canonical.js';
import { REPO_ROOT } from '../helpers.js';

export const FORMATS: SourceFormat[] = ['csv', 'wide-csv', 'jsonl', 'parquet', 'avro'];

/** Whether the Spark peers are installed (scripts/setup-peers.sh): the venv's spark-submit and the cached jars. */
export function sparkReady(): boolean {
  return existsSync(path.join(REPO_ROOT, '.venv', 'bin', 'spark-submit')) && existsSync(path.join(REPO_ROOT, '.cache', 'jars', 'spark-avro_2.12-3.5.6.jar'));
}

export interface Plant {
  /** Input files in the order they are given to both engines. */
  files: string[];
  sensors: string;
}

const day = (d: number): string => new Date(Date.UTC(2024, 2, 1 + d)).toISOString();

/** A plant of `sensors` sensors at `interval`, one day per format from 2024-03-01 on, default faults. */
export async function simulatePlant(dir: string, sensors = 6, interval = '2m'): Promise<Plant> {
  const files: string[] = [];
  let list = '';
  for (const [k, format] of FORMATS.entries()) {
    const sim = await simulate({ out: path.join(dir, format), format, sensors, interval, from: day(k), to: day(k + 1), seed: 40 + k, faults: 'default' });
    files.push(...sim.files.map((f) => path.join(sim.dir, f.path)));
    list = sim.sensorsFile;
  }
  return { files, sensors: list };
}

const READINGS_TYPES = { ts: 'timestamp', date: 'date', quality: 'long', value: 'double' };

/** A table of the lake as canonical rows sorted by their JSON, without `drop` columns. */
export async function tableRows(lake: string, table: string, drop: string[] = []): Promise<CanonicalRow[]> {
  const t = await DeltaTable.open(path.join(lake, table));
  const rows = canonicalRows(await t.read(), READINGS_TYPES);
  for (const r of rows) for (const c of drop) delete r[c];
  return rows.map((r) => JSON.stringify(r)).sort().map((s) => JSON.parse(s) as CanonicalRow);
}

/** The report without what differs between two runs of equal work: where the lake is and how long it took. */
export function comparable(r: BackfillReport): Omit<BackfillReport, 'lake' | 'seconds' | 'rows_per_second' | 'mb_per_second'> {
  const { lake: _l, seconds: _s, rows_per_second: _r, mb_per_second: _m, ...rest } = r;
  return rest;
}
