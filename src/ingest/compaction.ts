// Background compaction for live ingest: the server runs OPTIMIZE on `readings` partitions that compaction-policy.ts
// calls due, one optimize at a time, woken by the ingestor's commits and by a timer. It never throws into the
// server: failures are logged with pino and retried on the next wake.
//
// Why no checkpoint or vacuum here. Checkpoints: the engine writes one every delta.checkpointInterval commits in
// whichever writer lands that version (ingestor or compactor), and compaction is what keeps them cheap, since a
// checkpoint holds every live file. Vacuum: it deletes the files compaction removed, which time travel and readers
// still on an older snapshot (a Spark job started before the compaction) need for the retention period; how long
// to keep history is the operator's call, so it stays a command (`sensorlake table vacuum`) run on a schedule.

import { Worker } from 'node:worker_threads';
import { DeltaTable, type OptimizeOptions, type OptimizeResult } from '../delta/table.js';
import { lakePaths } from '../backfill/lake.js';
import { logger } from '../log.js';
import { ConflictError, NotFoundError, SensorlakeError } from '../errors.js';
import type { OptimizeJob, OptimizeReply } from './compaction-worker.js';
import type { Ingest } from './contract.js';
import {
  isClosed,
  isDue,
  partitionOfDate,
  partitionStates,
  periodColumn,
  planCompaction,
  resolvePolicy,
  type CompactionPolicy,
  type DuePartition,
  type PeriodColumn,
} from './compaction-policy.js';

export interface CompactorOptions {
  /** Wakes the compactor when a commit may have made a partition due (wire the server's ingestor here). */
  ingest?: Pick<Ingest, 'onCommit'>;
  /** The clock, ms since the epoch (tests pass a fixed day). Default Date.now. */
  now?: () => number;
  /** Whether the timer runs. Default true; false leaves only commits and runOnce() to wake it. */
  timer?: boolean;
  /**
   * Where OPTIMIZE runs: on a worker thread (default), so seconds of reading and sorting a partition never delay the
   * acknowledgements of the event loop it shares with the server, or on this thread.
   */
  thread?: 'worker' | 'main';
}

export interface PartitionOutcome extends DuePartition {
  /** The optimize's result, when it ran to the end (version null: nothing left to merge). */
  result?: OptimizeResult;
  /** Why it failed; a conflict (another optimize or a delete took the files first) is retried on the next wake. */
  error?: string;
  conflict?: boolean;
  seconds: number;
}

export interface CompactionRun {
  /** The table version the plan was made from, or null when there is no table yet. */
  checkedVersion: number | null;
  partitions: PartitionOutcome[];
  /** Partitions not reached because stop() was called. */
  skipped: number;
  /** Set when the run failed before any partition (e.g. the log could not be read). */
  error?: string;
  seconds: number;
}

export interface CompactorStats {
  runs: number;
  optimizeCommits: number;
  filesRemoved: number;
  filesAdded: number;
  rowsRewritten: number;
  errors: number;
  conflicts: number;
  running: boolean;
  /** The partition being compacted now, or null. */
  compacting: string | null;
  /** Seconds each optimize took, for a latency histogram (drained by the reader). */
  drainOptimizeSeconds(): number[];
}

export interface Compactor {
  /** Runs one pass now (after the one in progress, if any) and resolves with what it did; never rejects. */
  runOnce(): Promise<CompactionRun>;
  /** Stops the timer and the listener, lets the optimize in progress finish, skips the rest; resolves when idle. */
  stop(): Promise<void>;
  readonly stats: CompactorStats;
  readonly policy: Readonly<CompactionPolicy>;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

class BackgroundCompactor implements Compactor {
  readonly policy: CompactionPolicy;
  private readonly log;
  private readonly now: () => number;
  private readonly thread: 'worker' | 'main';
  private table: DeltaTable | null;
  private column: PeriodColumn | null = null;
  /** The pass in progress, chained so passes never overlap. */
  private tail: Promise<unknown> = Promise.resolve();
  /** A pass already queued behind the one running: further wakes join it instead of queueing more. */
  private queued: Promise<CompactionRun> | null = null;
  private stopped = false;
  private wokenByCommit = false;
  private timer: NodeJS.Timeout | null = null;
  /** Small files per partition as of the last pass, plus one per commit since that touched it. */
  private readonly estimate = new Map<string, { small: number; closed: boolean }>();
  private readonly optimizeSeconds: number[] = [];
  readonly stats: CompactorStats;

  constructor(
    private readonly location: DeltaTable | string,
    policy: Partial<CompactionPolicy>,
    opts: CompactorOptions,
  ) {
    this.table = location instanceof DeltaTable ? location : null;
    const where = location instanceof DeltaTable ? location.location : lakePaths(location).readings;
    this.policy = resolvePolicy(policy, `${where}: compaction policy`);
    this.log = logger.child({ component: 'compactor', table: where });
    this.now = opts.now ?? Date.now;
    this.thread = opts.thread ?? 'worker';
    const seconds = this.optimizeSeconds;
    this.stats = {
      runs: 0,
      optimizeCommits: 0,
      filesRemoved: 0,
      filesAdded: 0,
      rowsRewritten: 0,
      errors: 0,
      conflicts: 0,
      running: false,
      compacting: null,
      drainOptimizeSeconds: () => seconds.splice(0),
    };
    opts.ingest?.onCommit((info) => this.onCommit(info.dates));
    if (opts.timer !== false) this.schedule();
  }

  runOnce(): Promise<CompactionRun> {
    return this.enqueue();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.tail;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.enqueue().finally(() => this.schedule());
    }, this.policy.intervalMs);
    this.timer.unref(); // the compactor alone never holds a process open
  }

  /** One commit added about one file to each partition it touched: wake up when that may make one due. */
  private onCommit(dates: string[]): void {
    if (this.stopped) return;
    if (this.column === null) {
      // No pass yet, so no estimate: the first commit wakes one (it also learns the partitioning).
      if (!this.wokenByCommit) void this.enqueue();
      this.wokenByCommit = true;
      return;
    }
    let wake = false;
    for (const date of dates) {
      const value = partitionOfDate(this.column, date);
      const e = this.estimate.get(value) ?? { small: 0, closed: isClosed(this.column, value, this.policy, this.now()) };
      e.small++;
      this.estimate.set(value, e);
      if (isDue(e.closed, e.small, this.policy)) wake = true;
    }
    if (wake && this.queued === null) void this.enqueue();
  }

  private enqueue(): Promise<CompactionRun> {
    if (this.queued) return this.queued;
    const run = this.tail.then(() => {
      this.queued = null;
      return this.pass();
    });
    this.queued = run;
    this.tail = run;
    return run;
  }

  private async openTable(): Promise<DeltaTable | null> {
    if (this.table) return this.table;
    try {
      this.table = await DeltaTable.open(lakePaths(this.location as string).readings);
    } catch (e) {
      if (e instanceof NotFoundError) return null; // no reading was committed yet
      throw e;
    }
    return this.table;
  }

  private async pass(): Promise<CompactionRun> {
    const started = performance.now();
    const run: CompactionRun = { checkedVersion: null, partitions: [], skipped: 0, seconds: 0 };
    this.stats.running = true;
    this.stats.runs++;
    try {
      const table = await this.openTable();
      if (table === null || this.stopped) return run;
      const snap = await table.snapshot();
      run.checkedVersion = snap.version;
      const column = (this.column ??= periodColumn(snap.partitionColumns, table.location));
      const files = snap.files();
      const nowMs = this.now();
      this.estimate.clear();
      for (const s of partitionStates(files, column, this.policy, nowMs)) this.estimate.set(s.value, { small: s.smallFiles, closed: s.closed });
      const due = planCompaction(files, column, this.policy, nowMs);
      for (const [i, p] of due.entries()) {
        if (this.stopped) {
          run.skipped = due.length - i;
          break;
        }
        run.partitions.push(await this.compact(table, p));
      }
    } catch (e) {
      run.error = errorText(e);
      this.stats.errors++;
      this.log.error({ err: e }, 'compaction pass failed; retrying on the next wake');
    } finally {
      this.stats.running = false;
      run.seconds = (performance.now() - started) / 1000;
    }
    return run;
  }

  private async compact(table: DeltaTable, p: DuePartition): Promise<PartitionOutcome> {
    const started = performance.now();
    const outcome: PartitionOutcome = { ...p, seconds: 0 };
    this.stats.compacting = p.value;
    try {
      const options: OptimizeOptions = {
        where: `${p.column} = '${p.value}'`,
        targetFileBytes: this.policy.targetFileBytes,
        maxRowsPerFile: this.policy.maxRowsPerFile,
      };
      const result = this.thread === 'worker' ? await optimizeOnWorker({ table: table.location, options }) : await table.optimize(options);
      outcome.result = result;
      this.estimate.set(p.value, { small: 0, closed: p.closed });
      if (result.version !== null) {
        this.stats.optimizeCommits++;
        this.stats.filesRemoved += result.filesRemoved;
        this.stats.filesAdded += result.filesAdded;
        this.stats.rowsRewritten += result.rowsRewritten;
      }
      this.log.info(
        { partition: p.value, reason: p.reason, version: result.version, filesRemoved: result.filesRemoved, filesAdded: result.filesAdded, rows: result.rowsRewritten },
        'compacted a partition',
      );
    } catch (e) {
      outcome.error = errorText(e);
      if (e instanceof ConflictError) {
        // Another optimize (a second server, `sensorlake table optimize`) or a delete took these files first.
        outcome.conflict = true;
        this.stats.conflicts++;
        this.log.warn({ err: e, partition: p.value }, 'compaction conflicted with another writer; retrying on the next wake');
      } else {
        this.stats.errors++;
        this.log.error({ err: e, partition: p.value }, 'compaction of a partition failed; retrying on the next wake');
      }
    }
    this.stats.compacting = null;
    outcome.seconds = (performance.now() - started) / 1000;
    this.optimizeSeconds.push(outcome.seconds);
    if (this.optimizeSeconds.length > 10_000) this.optimizeSeconds.splice(0, this.optimizeSeconds.length - 10_000);
    return outcome;
  }
}

/** Runs one optimize on a fresh worker thread; its ConflictError comes back as one, any other error as a SensorlakeError. */
function optimizeOnWorker(job: OptimizeJob): Promise<OptimizeResult> {
  // Workers inherit the parent's flags; --input-type (from `node -e`) is invalid for a worker file.
  const execArgv = process.execArgv.filter((a, i, all) => !a.startsWith('--input-type') && all[i - 1] !== '--input-type');
  const worker = new Worker(new URL('./compaction-worker.js', import.meta.url), { workerData: { compactionJob: job }, execArgv });
  return new Promise<OptimizeResult>((resolve, reject) => {
    let reply: OptimizeReply | null = null;
    worker.once('message', (r: OptimizeReply) => (reply = r));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (reply === null) return reject(new SensorlakeError(`${job.table}: the compaction worker exited (code ${code}) without an answer`));
      if (reply.ok) return resolve(reply.result);
      const e = reply.error;
      const err = e.name === 'ConflictError' ? new ConflictError(e.message) : Object.assign(new SensorlakeError(e.message), { name: e.name });
      err.stack = `${e.stack}\n    (on the compaction worker)`;
      reject(err);
    });
  });
}

/**
 * Starts background compaction of a lake's `readings` table (a lake directory; the table may not exist yet) or of a
 * given table partitioned by `date` or `month`. The policy's defaults are in compaction-policy.ts.
 */
export function startCompactor(target: DeltaTable | string, policy: Partial<CompactionPolicy> = {}, opts: CompactorOptions = {}): Compactor {
  return new BackgroundCompactor(target, policy, opts);
}
