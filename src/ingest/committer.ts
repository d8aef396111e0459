// When micro-batches are committed: entries join a queue once durable; a batch goes every `commitRows` rows or when
// its oldest entry is `commitMs` old, one commit at a time, off the submit path. A failed commit is retried after a
// backoff (its txn makes a retry safe); flush() waits for everything queued up to now.

import { ConflictError } from '../errors.js';
import { logger } from '../log.js';
import type { BatchOutcome, PendingEntry } from './micro-batch.js';

export interface CommitterOptions {
  commitRows: number;
  commitMs: number;
  /** Commits one batch (micro-batch.ts's commitBatch, on the commit worker or on this thread). */
  commit: (batch: PendingEntry[]) => Promise<BatchOutcome>;
  /** After each batch's commits (stats, listeners, WAL segment release); awaited before the next batch. */
  onBatch: (outcome: BatchOutcome, seconds: number) => Promise<void>;
  /** After a failed attempt, before it is retried. */
  onFailure: (error: unknown) => void;
}

interface Waiter {
  position: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

const MAX_BACKOFF_MS = 5000;

export class Committer {
  private queue: (PendingEntry & { at: number })[] = [];
  private queuedRows = 0;
  private committed: number;
  private timer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private target = -Infinity;
  private waiters: Waiter[] = [];
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly opts: CommitterOptions,
    committedPosition: number,
  ) {
    this.committed = committedPosition;
  }

  /** Rows waiting for their commit. */
  get rows(): number {
    return this.queuedRows;
  }

  /** Position of the last entry whose commits are done. */
  get committedPosition(): number {
    return this.committed;
  }

  /** Position of the last entry queued (or committed, when none is queued). */
  get lastPosition(): number {
    return this.queue.length > 0 ? this.queue[this.queue.length - 1].entry.position : this.committed;
  }

  /** Queues a durable entry; entries must come in position order. */
  add(p: PendingEntry): void {
    this.queue.push({ ...p, at: performance.now() });
    this.queuedRows += p.rowsDone ? 0 : p.entry.rows.n;
    this.schedule();
  }

  /** Resolves once every entry queued now is committed; rejects if a commit attempt fails meanwhile. */
  flush(): Promise<void> {
    const position = this.lastPosition;
    if (position <= this.committed) return Promise.resolve();
    this.target = Math.max(this.target, position);
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ position, resolve, reject }));
    this.kick();
    return p;
  }

  /** No more commits start (one running is waited for). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.timer = null;
    this.retryTimer = null;
    while (this.running) await this.running;
  }

  private due(now: number): boolean {
    if (this.queue.length === 0) return false;
    return this.queuedRows >= this.opts.commitRows || this.target >= this.queue[0].entry.position || now - this.queue[0].at >= this.opts.commitMs;
  }

  private schedule(): void {
    if (this.running || this.stopped || this.queue.length === 0 || this.retryTimer) return;
    const now = performance.now();
    if (this.due(now)) return this.kick();
    if (this.timer === null) {
      const wait = Math.max(0, this.queue[0].at + this.opts.commitMs - now);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.kick();
      }, wait);
    }
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.loop().finally(() => {
      this.running = null;
      this.schedule();
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopped && this.due(performance.now())) {
      // Whole entries, in position order, up to commitRows rows (at least one entry).
      let take = 0;
      let rows = 0;
      while (take < this.queue.length && (take === 0 || rows < this.opts.commitRows)) {
        const p = this.queue[take++];
        rows += p.rowsDone ? 0 : p.entry.rows.n;
      }
      const batch = this.queue.slice(0, take);
      const started = performance.now();
      let outcome: BatchOutcome;
      try {
        outcome = await this.opts.commit(batch);
      } catch (e) {
        this.failed(e);
        return;
      }
      this.queue.splice(0, take);
      this.queuedRows -= rows;
      this.committed = outcome.position;
      this.failures = 0;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      if (this.target <= this.committed) this.target = -Infinity;
      try {
        await this.opts.onBatch(outcome, (performance.now() - started) / 1000);
      } catch (e) {
        // The batch is committed; what follows (segment release, listeners) is retried with the next batch.
        logger.warn({ err: e, position: outcome.position }, 'ingest: after-commit step failed');
      }
      const still: Waiter[] = [];
      for (const w of this.waiters) {
        if (w.position <= this.committed) w.resolve();
        else still.push(w);
      }
      this.waiters = still;
    }
  }

  private failed(e: unknown): void {
    this.failures++;
    this.opts.onFailure(e);
    const backoff = Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(this.failures, 10));
    logger.warn({ err: e, attempt: this.failures, retryInMs: backoff, conflict: e instanceof ConflictError }, 'ingest: micro-batch commit failed; retrying');
    // Whoever waits for a flush hears of it now; the entries stay queued (and in the WAL) for the retry.
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(e);
    this.target = -Infinity;
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, backoff);
  }
}
