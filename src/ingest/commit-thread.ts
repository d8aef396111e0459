// The main thread's side of commit-worker.ts: sends a micro-batch's WAL entries (their bytes, copied) to the worker
// and resolves with its outcome, rebuilding our typed errors from what the worker reports.

import { Worker } from 'node:worker_threads';
import * as errors from '../errors.js';
import type { BatchOutcome, PendingEntry } from './micro-batch.js';

export interface CommitWorkerInit {
  lake: string;
  serverId: string;
  partition: string;
}

export type CommitRequest =
  | { kind: 'commit'; id: number; entries: { payload: Uint8Array; position: number; rowsDone: boolean; rejectsDone: boolean }[] }
  | { kind: 'close'; id: number };

export type CommitReply = { id: number; ok: true; outcome: BatchOutcome | null } | { id: number; ok: false; error: { name: string; message: string; stack: string } };

/** Errors whose constructor takes just a message, so the worker's can be rebuilt as the same class here. */
const REBUILT: Record<string, new (message: string) => Error> = {
  SensorlakeError: errors.SensorlakeError,
  ConflictError: errors.ConflictError,
  CommitVersionTakenError: errors.CommitVersionTakenError,
  SchemaMismatchError: errors.SchemaMismatchError,
  CorruptLogError: errors.CorruptLogError,
  InvalidRecordError: errors.InvalidRecordError,
  NotFoundError: errors.NotFoundError,
  InvalidArgumentError: errors.InvalidArgumentError,
  PredicateViolationError: errors.PredicateViolationError,
};

function rebuild(e: { name: string; message: string; stack: string }): Error {
  const Ctor = REBUILT[e.name];
  const err = Ctor ? new Ctor(e.message) : Object.assign(new errors.SensorlakeError(e.message), { name: e.name });
  err.stack = `${e.stack}\n    (on the ingest commit worker)`;
  return err;
}

export class CommitThread {
  private worker!: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (o: BatchOutcome | null) => void; reject: (e: unknown) => void }>();
  private dead: Error | null = null;

  constructor(private readonly init: CommitWorkerInit) {
    this.spawn();
  }

  private spawn(): void {
    // Workers inherit the parent's flags; --input-type (from `node -e`) is invalid for a worker file.
    const execArgv = process.execArgv.filter((a, i, all) => !a.startsWith('--input-type') && all[i - 1] !== '--input-type');
    const worker = new Worker(new URL('./commit-worker.js', import.meta.url), { workerData: this.init, execArgv });
    this.worker = worker;
    this.dead = null;
    // Held open only while a commit is under way: an idle ingestor does not keep the process alive by itself.
    worker.unref();
    worker.on('message', (reply: CommitReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.ok) p.resolve(reply.outcome);
      else p.reject(rebuild(reply.error));
    });
    const fail = (e: Error): void => {
      if (this.worker !== worker || this.dead) return;
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new errors.SensorlakeError(`ingest commit worker exited (code ${code})`)));
  }

  private send(req: CommitRequest): Promise<BatchOutcome | null> {
    // A worker that died (out of memory, a bug) is replaced: the batch is still queued, and the WAL holds it anyway.
    if (this.dead) this.spawn();
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(req);
    });
  }

  async commit(batch: PendingEntry[]): Promise<BatchOutcome> {
    const entries = batch.map((p) => ({ payload: p.entry.payload, position: p.entry.position, rowsDone: p.rowsDone, rejectsDone: p.rejectsDone }));
    return (await this.send({ kind: 'commit', id: this.nextId++, entries }))!;
  }

  async close(): Promise<void> {
    if (!this.dead) await this.send({ kind: 'close', id: this.nextId++ });
    this.dead = new errors.SensorlakeError('ingest commit worker closed');
    await this.worker.terminate();
  }
}
