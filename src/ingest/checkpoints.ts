// Checkpoints of the live-ingest tables on their own schedule. Micro-batch commits pass autoCheckpoint: false, since
// a checkpoint holds every live file and every tombstone compaction left for the 7-day retention (~600k after a
// week: ~11 s to encode), and one every delta.checkpointInterval (10) commits would stall a commit a second. Here a
// table is checkpointed after `commits` commits or at its first commit `ms` after its last checkpoint, whichever
// comes first, never using more than `maxShare` of a core, and once more at close. The work runs on a thread of its
// own (checkpoint-worker.ts) whose DeltaTables advance commit by commit, so the commit thread never waits for it.

import { Worker } from 'node:worker_threads';
import { DeltaTable } from '../delta/table.js';
import { logger } from '../log.js';
import { SensorlakeError } from '../errors.js';

export interface CheckpointSchedule {
  /** Checkpoint a table after this many commits since its last checkpoint (default 100) ... */
  commits: number;
  /** ... or at its first commit this long after its last checkpoint (default 10 min), whichever comes first. */
  ms: number;
  /**
   * At most this share of one core on checkpoints (default 0.1): after one that took d ms, the next of that table
   * waits d × (1 / maxShare − 1) ms, so a checkpoint that grows with the tombstones stretches the cadence instead.
   */
  maxShare: number;
}

export const DEFAULT_CHECKPOINT_SCHEDULE: CheckpointSchedule = { commits: 100, ms: 600_000, maxShare: 0.1 };

/** Writes a checkpoint of a table's latest version; resolves with that version. */
export type CheckpointRunner = (table: string) => Promise<number>;

interface TableState {
  /** Commits since the last checkpoint began (or before a failed one). */
  pending: number;
  /** When the last successful checkpoint began (the first commit seen, before any). */
  lastAt: number;
  /** When the last attempt began and how long it took: the share-of-a-core rule. */
  lastStart: number;
  lastMs: number;
  running: Promise<void> | null;
}

export class CheckpointScheduler {
  private readonly tables = new Map<string, TableState>();
  private closed = false;
  /** Checkpoints written, for the ingestor's stats. */
  written = 0;
  lastVersion: number | null = null;

  constructor(
    private readonly schedule: CheckpointSchedule,
    private readonly run: CheckpointRunner,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a commit to `table`; starts its checkpoint (not awaited) when one is due. */
  committed(table: string): void {
    let s = this.tables.get(table);
    if (!s) this.tables.set(table, (s = { pending: 0, lastAt: this.now(), lastStart: this.now(), lastMs: 0, running: null }));
    s.pending++;
    if (s.running || this.closed) return;
    const t = this.now();
    const due = s.pending >= this.schedule.commits || t - s.lastAt >= this.schedule.ms;
    const rested = t - s.lastStart >= s.lastMs / this.schedule.maxShare;
    if (due && rested) s.running = this.checkpoint(table, s);
  }

  private async checkpoint(table: string, s: TableState): Promise<void> {
    const taken = s.pending;
    s.pending = 0;
    const started = this.now();
    try {
      this.lastVersion = await this.run(table);
      this.written++;
      s.lastAt = started;
    } catch (e) {
      // Readers only replay more commits meanwhile; it stays due, so the next commit (once rested) retries.
      s.pending += taken;
      logger.warn({ err: e, table }, 'ingest: checkpoint failed; retried after the next commit');
    } finally {
      s.lastStart = started;
      s.lastMs = this.now() - started;
      s.running = null;
    }
  }

  /** Waits for running checkpoints, then checkpoints every table with commits since its last one. No more start. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [table, s] of this.tables) {
      while (s.running) await s.running;
      if (s.pending > 0) await (s.running = this.checkpoint(table, s));
    }
  }
}

export type CheckpointRequest = { id: number; table: string };
export type CheckpointReply = { id: number; ok: true; version: number } | { id: number; ok: false; message: string };

/** Runs checkpoints on checkpoint-worker.ts, started on first use; an idle worker does not hold the process open. */
export class CheckpointThread {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: number) => void; reject: (e: unknown) => void }>();

  private start(): Worker {
    const execArgv = process.execArgv.filter((a, i, all) => !a.startsWith('--input-type') && all[i - 1] !== '--input-type');
    const worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { execArgv });
    worker.unref();
    worker.on('message', (r: CheckpointReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) worker.unref();
      if (r.ok) p.resolve(r.version);
      else p.reject(new SensorlakeError(r.message));
    });
    const fail = (e: Error): void => {
      if (this.worker !== worker) return;
      this.worker = null; // the next checkpoint starts a new one
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new SensorlakeError(`ingest checkpoint worker exited (code ${code})`)));
    return worker;
  }

  readonly run: CheckpointRunner = (table) => {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, table } satisfies CheckpointRequest);
    });
  };

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }
}

/** Checkpoints on this thread, with DeltaTables kept across runs (given ones first, e.g. the committer's own). */
export function inlineRunner(known: DeltaTable[]): CheckpointRunner {
  const tables = new Map(known.map((t) => [t.location, Promise.resolve(t)]));
  return async (table) => {
    let t = tables.get(table);
    if (!t) {
      tables.set(table, (t = DeltaTable.open(table)));
      t.catch(() => tables.delete(table)); // a table that could not be opened is tried again next time
    }
    return (await (await t).checkpoint()).version;
  };
}
