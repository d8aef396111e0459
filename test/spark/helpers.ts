// Spark engine test helpers: the settings of the tests' small local Spark runs, one simulated plant written in every
// format the Spark job reads (a day each, so their keys are disjoint and each reader's rules show), the lake's tables
// as canonical sorted rows, and reports compared key by key without the fields that differ by nature (lake path, timing).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeltaTable } from '../../src/delta/table.js';
import type { BackfillReport } from '../../src/backfill/report.js';
import type { SparkRunOptions } from '../../src/spark/launcher.js';
import { simulate } from '../../src/sim/simulate.js';
import type { SourceFormat } from '../../src/sources/options.js';
import { canonicalRows, type CanonicalRow } from '../interop/canonical.js';
import { REPO_ROOT } from '../helpers.js';

export const FORMATS: SourceFormat[] = ['csv', 'wide-csv', 'jsonl', 'parquet', 'avro'];

/** Whether the Spark peers are installed (scripts/setup-peers.sh): the venv's spark-submit and the cached jars. */
export function sparkReady(): boolean {
  return existsSync(path.join(REPO_ROOT, '.venv', 'bin', 'spark-submit')) && existsSync(path.join(REPO_ROOT, '.cache', 'jars', 'spark-avro_2.12-3.5.6.jar'));
}

/**
 * JVM flags for short local runs: on inputs of a few thousand rows a Spark job is mostly planning and Delta log work
 * done once, so C2's compile threads cost more than they save (measured: about half the CPU of a run goes away with
 * C1 only and the serial collector). They are the tests' choice, not the launcher's: a real backfill runs hot code long
 * enough for C2 to pay.
 */
export const TEST_JVM_OPTS = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC';

/** Spark settings of every test run: one shuffle partition per core and one for Delta's snapshot state. */
export const TEST_SPARK_CONF: Record<string, string> = {
  'spark.sql.shuffle.partitions': '2',
  'spark.databricks.delta.snapshotPartitions': '1',
  'spark.driver.extraJavaOptions': TEST_JVM_OPTS,
};

/** How the tests run the job: local[2], as the issue asks, with the settings above. */
export const LOCAL_SPARK: SparkRunOptions = { master: 'local[2]', conf: TEST_SPARK_CONF };

/** The same settings as `backfill --engine spark` flags. */
export const SPARK_CONF_FLAGS: string[] = Object.entries(TEST_SPARK_CONF).flatMap(([k, v]) => ['--spark-conf', `${k}=${v}`]);

export interface Plant {
  /** Input files in the order they are given to both engines. */
  files: string[];
  sensors: string;
}

const day = (d: number): string => new Date(Date.UTC(2024, 2, 1 + d)).toISOString();

/** A plant of `sensors` sensors at `interval`, one day per format from 2024-03-01 on, default faults. */
export async function simulatePlant(dir: string, sensors = 6, interval = '5m'): Promise<Plant> {
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

/** A table of the lake (at `version`, default the latest) as canonical rows sorted by their JSON, without `drop` columns. */
export async function tableRows(lake: string, table: string, drop: string[] = [], version?: number): Promise<CanonicalRow[]> {
  const t = await DeltaTable.open(path.join(lake, table));
  const rows = canonicalRows(await t.read(version === undefined ? {} : { version }), READINGS_TYPES);
  for (const r of rows) for (const c of drop) delete r[c];
  return rows.map((r) => JSON.stringify(r)).sort().map((s) => JSON.parse(s) as CanonicalRow);
}

/** The report without what differs between two runs of equal work: where the lake is and how long it took. */
export function comparable(r: BackfillReport): Omit<BackfillReport, 'lake' | 'seconds' | 'rows_per_second' | 'mb_per_second'> {
  const { lake: _l, seconds: _s, rows_per_second: _r, mb_per_second: _m, ...rest } = r;
  return rest;
}

/** Each commit to a table after `version`, in order, with the appIds of its txn actions, read from the log itself. */
export function txnCommits(table: string, version: number): { version: number; appIds: string[] }[] {
  const log = path.join(table, '_delta_log');
  return readdirSync(log)
    .filter((f) => /^\d{20}\.json$/.test(f) && Number(f.slice(0, 20)) > version)
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 20)),
      appIds: readFileSync(path.join(log, f), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{"txn"'))
        .map((l) => (JSON.parse(l) as { txn: { appId: string } }).txn.appId),
    }));
}

/** A copy of a narrow CSV file (ts,sensor_id,value,quality) at `out` with `delta` added to the value of every `every`th line. */
export function editValues(file: string, out: string, every: number, delta: number): string {
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const edited = lines.map((l, i) => {
    if (i === 0 || i % every !== 0) return l;
    const c = l.split(',');
    const v = Number(c[2]);
    return c.length === 4 && c[2].trim() !== '' && Number.isFinite(v) ? [c[0], c[1], String(v + delta), c[3]].join(',') : l;
  });
  writeFileSync(out, edited.join('\n') + '\n');
  return out;
}

/** Pids still in a process group (none once the whole tree is gone; dying takes a moment after SIGKILL). */
export async function groupMembers(pgid: number): Promise<number[]> {
  let left: number[] = [];
  for (let i = 0; i < 50; i++) {
    const r = spawnSync('ps', ['-eo', 'pid=,pgid=,stat='], { encoding: 'utf8' });
    left = r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((c) => Number(c[1]) === pgid && !c[2]?.startsWith('Z')).map((c) => Number(c[0]));
    if (left.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return left;
}
