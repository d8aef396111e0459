// Runs the PySpark job (src/spark/backfill_job.py) through spark-submit: the right jars or Maven packages, the job's
// Python package as --py-files, its progress lines relayed to a callback, and its JSON report returned. The job runs
// in its own process group, so stopping it stops the whole tree (driver JVM, Python driver, Python workers).

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BackfillOptions } from '../backfill/options.js';
import type { BackfillProgress } from '../backfill/progress.js';
import type { BackfillReport } from '../backfill/report.js';
import { InvalidArgumentError, SensorlakeError } from '../errors.js';
import { SPARK_VERSIONS } from './contract.js';
import { buildSparkPlan, SPARK_FORMATS } from './plan.js';
import { writeZip } from './zip.js';

/** spark-submit or the job failed (its exit code and the tail of Spark's log say how). */
export class SparkJobError extends SensorlakeError {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly logFile: string,
    /** Reports of the jobs that finished before the failure (several jobs run in one application in turn). */
    readonly reports: BackfillReport[] = [],
  ) {
    super(message);
  }
}

const PROGRESS_TAG = 'SENSORLAKE_PROGRESS ';
const REPORT_TAG = 'SENSORLAKE_REPORT ';
const STREAM_TAG = 'SENSORLAKE_STREAM ';

/** The repository (or installed package) root: the directory holding src/spark/backfill_job.py. */
export function sparkHome(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'src', 'spark', 'backfill_job.py'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new SparkJobError(`no src/spark/backfill_job.py above ${fileURLToPath(import.meta.url)}`, null, '');
    dir = parent;
  }
}

export const JOB_FILE = (): string => path.join(sparkHome(), 'src', 'spark', 'backfill_job.py');

/** Maven coordinates of what the job needs besides pyspark itself. */
export function sparkPackages(): string[] {
  const v = SPARK_VERSIONS;
  return [`io.delta:delta-spark_${v.scala}:${v.delta_spark}`, `org.apache.spark:spark-avro_${v.scala}:${v.spark_avro}`];
}

/** The jars cached by scripts/setup-peers.sh, or null when any is missing (then --packages fetches them). */
export function cachedJars(root = sparkHome()): string[] | null {
  const v = SPARK_VERSIONS;
  const dir = path.join(root, '.cache', 'jars');
  const jars = [`delta-spark_${v.scala}-${v.delta_spark}.jar`, `delta-storage-${v.delta_spark}.jar`, `spark-avro_${v.scala}-${v.spark_avro}.jar`].map((j) => path.join(dir, j));
  return jars.every((j) => existsSync(j)) ? jars : null;
}

/** The LogStore jar scripts/setup-peers.sh compiles (null without a JDK there). */
export function linkLogStore(root = sparkHome()): string | null {
  const jar = path.join(root, '.cache', 'jars', 'sensorlake-logstore.jar');
  return existsSync(jar) ? jar : null;
}

/** Zips the job's Python package (with contract.json inside) for --py-files; returns the zip's path. */
export function packageZip(dir: string): string {
  const src = path.join(sparkHome(), 'src', 'spark');
  const pkg = path.join(src, 'sensorlake_spark');
  const entries = readdirSync(pkg)
    .filter((n) => n.endsWith('.py'))
    .sort()
    .map((n) => ({ name: `sensorlake_spark/${n}`, data: readFileSync(path.join(pkg, n)) }));
  entries.push({ name: 'sensorlake_spark/contract.json', data: readFileSync(path.join(src, 'contract.json')) });
  const file = path.join(dir, 'sensorlake_spark.zip');
  writeZip(file, entries);
  return file;
}

export interface SparkRunOptions {
  /** local[N], spark://host:7077, yarn, k8s://... Default local[*]. */
  master?: string;
  /** Extra --conf pairs (they win over the defaults set here). */
  conf?: Record<string, string>;
  onProgress?: (p: BackfillProgress) => void;
  /** Where Spark's stderr goes (default: a file in a new temp directory). */
  logFile?: string;
  /** Called with the spark-submit process once it runs (tests kill its process group to simulate a crash). */
  onSpawn?: (child: ChildProcess) => void;
  /** Called with each line the streaming job prints per micro-batch. */
  onStreamBatch?: (batch: Record<string, unknown>) => void;
}

export interface SparkRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The first job's report (null when none came). */
  report: BackfillReport | null;
  /** Every job's report in the order the jobs ran (one per --plan). */
  reports: BackfillReport[];
  logFile: string;
  /** The run's temp directory (package zip, default log); remove it once the log is not wanted. */
  workDir: string;
}

function submitCommand(): { submit: string; python: string | undefined } {
  const root = sparkHome();
  const venvSubmit = path.join(root, '.venv', 'bin', 'spark-submit');
  const venvPython = path.join(root, '.venv', 'bin', 'python');
  return {
    submit: process.env.SENSORLAKE_SPARK_SUBMIT ?? (existsSync(venvSubmit) ? venvSubmit : 'spark-submit'),
    python: process.env.PYSPARK_PYTHON ?? (existsSync(venvPython) ? venvPython : undefined),
  };
}

/** spark-submit's arguments up to (not including) the job file. */
export function submitArgs(master: string, conf: Record<string, string>, zip: string): string[] {
  const local = master.startsWith('local');
  const defaults: Record<string, string> = local ? { 'spark.ui.enabled': 'false', 'spark.ui.showConsoleProgress': 'false', 'spark.driver.memory': '2g' } : { 'spark.ui.showConsoleProgress': 'false' };
  const logStore = linkLogStore();
  // file: lakes commit by hard link when the LogStore is built (see src/spark/java/LinkLogStore.java): exclusive
  // against our own writers in other processes, which Spark's default (check, then rename) is not.
  if (logStore) defaults['spark.delta.logStore.file.impl'] = 'sensorlake.delta.LinkLogStore';
  const all = { ...defaults, ...conf };
  const args = ['--master', master, '--name', 'sensorlake-backfill'];
  const jars = cachedJars();
  const extra = logStore ? [logStore] : [];
  if (jars) args.push('--jars', [...jars, ...extra].join(','));
  else args.push('--packages', sparkPackages().join(','), ...(extra.length ? ['--jars', extra.join(',')] : []));
  if (all['spark.driver.memory']) {
    args.push('--driver-memory', all['spark.driver.memory']);
    delete all['spark.driver.memory'];
  }
  for (const [k, v] of Object.entries(all)) args.push('--conf', `${k}=${v}`);
  args.push('--py-files', zip);
  return args;
}

/** Runs backfill_job.py with `jobArgs`; resolves when spark-submit exits (whatever its code). */
export async function runSparkJob(jobArgs: string[], run: SparkRunOptions = {}): Promise<SparkRun> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sensorlake-spark-'));
  const logFile = run.logFile ?? path.join(work, 'spark.log');
  const { submit, python } = submitCommand();
  const args = [...submitArgs(run.master ?? 'local[*]', run.conf ?? {}, packageZip(work)), JOB_FILE(), ...jobArgs];
  const env = { ...process.env, ...(python ? { PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python } : {}) };
  const child = spawn(submit, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  const log = createWriteStream(logFile);
  child.stderr.pipe(log);
  const stopTree = (): void => {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  // The job has its own process group (so that it can be stopped whole): a Ctrl-C reaches only us, and is passed on.
  const onSignal = (sig: NodeJS.Signals): void => {
    stopTree();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    process.kill(process.pid, sig);
  };
  process.once('exit', stopTree).once('SIGINT', onSignal).once('SIGTERM', onSignal);
  run.onSpawn?.(child);
  const reports: BackfillReport[] = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (line.startsWith(PROGRESS_TAG)) run.onProgress?.(JSON.parse(line.slice(PROGRESS_TAG.length)) as BackfillProgress);
    else if (line.startsWith(REPORT_TAG)) reports.push(JSON.parse(line.slice(REPORT_TAG.length)) as BackfillReport);
    else if (line.startsWith(STREAM_TAG)) run.onStreamBatch?.(JSON.parse(line.slice(STREAM_TAG.length)) as Record<string, unknown>);
    else log.write(`[stdout] ${line}\n`);
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  });
  process.off('exit', stopTree).off('SIGINT', onSignal).off('SIGTERM', onSignal);
  await new Promise<void>((resolve) => log.end(resolve));
  return { code, signal, report: reports[0] ?? null, reports, logFile, workDir: work };
}

function logTail(file: string, n = 25): string {
  try {
    // The Python driver's stderr reaches us through spark-submit's stdout, which the log keeps as "[stdout] ...".
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => l.replace(/^\[stdout\] /, ''));
    const ours = lines.filter((l) => l.startsWith('sensorlake spark job:'));
    return (ours.length ? ours : lines.slice(-n)).join('\n');
  } catch {
    return '';
  }
}

/**
 * backfill() on Spark: the plan is built by the TypeScript engine's own option, input and job-id code, then the job
 * runs under spark-submit. Resolves with the same report as backfill(); throws InvalidArgumentError when the job
 * refused its arguments (exit 2) and SparkJobError when it failed.
 */
export async function sparkBackfill(options: BackfillOptions, run: SparkRunOptions = {}): Promise<BackfillReport> {
  const [report] = await sparkBackfillEach([options], run);
  return report;
}

/**
 * Several backfills one after the other in one Spark application (one spark-submit, one JVM and session start: on a
 * small input that start is most of the time), each with its own plan, txn appId and report. A job starts once the
 * one before it finished; when one fails, the later ones do not run. Resolves with the reports in order.
 */
export async function sparkBackfillEach(jobs: BackfillOptions[], run: SparkRunOptions = {}): Promise<BackfillReport[]> {
  if (jobs.length === 0) return [];
  const plans = [];
  for (const o of jobs) plans.push(await buildSparkPlan(o));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sensorlake-plan-'));
  const args = plans.flatMap((plan, k) => {
    const planFile = path.join(dir, `plan-${k}.json`);
    writeFileSync(planFile, JSON.stringify(plan));
    return ['--plan', planFile];
  });
  const r = await runSparkJob(args, { ...run, onProgress: run.onProgress ?? jobs[0].onProgress }).finally(() => rmSync(dir, { recursive: true, force: true }));
  if ((r.code === 0 || r.code === 3) && r.reports.length === jobs.length) {
    rmSync(r.workDir, { recursive: true, force: true }); // a failed run's log stays for the error message to point at
    return r.reports;
  }
  const why = logTail(r.logFile);
  if (r.code === 2) throw new InvalidArgumentError(why.replace(/^sensorlake spark job: \w+: /gm, '') || `the Spark job refused its arguments (log: ${r.logFile})`);
  const how = r.signal ? `was stopped by ${r.signal}` : r.code === 0 || r.code === 3 ? `gave ${r.reports.length} reports for ${jobs.length} jobs` : `exited with code ${r.code}`;
  throw new SparkJobError(`the Spark backfill ${how} (Spark log: ${r.logFile})${why ? `\n${why}` : ''}`, r.code, r.logFile, r.reports);
}

/** What the streaming job prints per micro-batch. */
export interface StreamBatch {
  batch_id: number;
  files: number;
  read: number;
  written: number;
  quarantined: number;
  /** False when the batch's txn was already in the table (a replay after a crash): nothing was written. */
  committed: boolean;
  readings_version: number;
}

export interface SparkStreamOptions {
  /** The folder new files land in (moved in whole). */
  landing: string;
  lake: string;
  /** Spark's checkpoint location: keep it, and the query name, across restarts. */
  checkpoint: string;
  format: (typeof SPARK_FORMATS)[number];
  sensors?: string;
  config?: string;
  /** The txn appId of the stream's commits (default stream-<landing folder name>). */
  queryName?: string;
  /** 'available-now' (default: take what has landed, then stop) or a processing-time interval such as '30 seconds'. */
  trigger?: string;
  maxFilesPerTrigger?: number;
  partition?: 'date' | 'month';
  onBatch?: (b: StreamBatch) => void;
}

/**
 * The Structured Streaming mode under spark-submit: each micro-batch of newly landed files is backfilled with the batch
 * rules and committed under txn(query name, batch id). Resolves when the query stops (with 'available-now', once the
 * landed files are done); throws InvalidArgumentError when the job refused its arguments and SparkJobError when it failed.
 */
export async function sparkStream(o: SparkStreamOptions, run: SparkRunOptions = {}): Promise<void> {
  const args = ['--stream', '--landing', o.landing, '--lake', o.lake, '--checkpoint', o.checkpoint, '--format', o.format];
  if (o.sensors) args.push('--sensors', o.sensors);
  if (o.config) args.push('--config', o.config);
  if (o.queryName) args.push('--query-name', o.queryName);
  if (o.trigger) args.push('--trigger', o.trigger);
  if (o.maxFilesPerTrigger !== undefined) args.push('--max-files-per-trigger', String(o.maxFilesPerTrigger));
  if (o.partition) args.push('--partition', o.partition);
  const r = await runSparkJob(args, { ...run, onStreamBatch: (b) => o.onBatch?.(b as unknown as StreamBatch) });
  if (r.code === 0) {
    rmSync(r.workDir, { recursive: true, force: true });
    return;
  }
  const why = logTail(r.logFile);
  if (r.code === 2) throw new InvalidArgumentError(why.replace(/^sensorlake spark job: \w+: /gm, '') || `the Spark job refused its arguments (log: ${r.logFile})`);
  const how = r.signal ? `was stopped by ${r.signal}` : `exited with code ${r.code}`;
  throw new SparkJobError(`the Spark stream ${how} (Spark log: ${r.logFile})${why ? `\n${why}` : ''}`, r.code, r.logFile);
}
