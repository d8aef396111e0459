// Runs Parquet encoding (synchronous and CPU-bound in wasm) on worker threads so writes use every core and the
// event loop stays free. Arrow IPC goes in and Parquet comes back, both transferred, never copied; the IPC buffer
// comes back too and carries the next file's rows, so a long write does not fault in fresh memory for every file.

import type * as arrow from 'apache-arrow';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { InvalidArgumentError, SensorlakeError } from '../../errors.js';
import { deltaEncodedColumns, plainEncodedColumns, type ParquetWriteOptions } from './parquet.js';
import type { EncodeReply, EncodeRequest } from './parquet-worker.js';
import { tableToIpcStream } from './ipc-stream.js';

interface Job {
  id: number;
  ipc: Uint8Array;
  opts: ParquetWriteOptions;
  plainColumns: string[];
  deltaColumns: string[];
  resolve: (bytes: Uint8Array) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

const ERRORS: Record<string, new (message: string) => SensorlakeError> = { InvalidArgumentError };

export class ParquetEncoderPool {
  private readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  /** IPC buffers the workers handed back, to write the next files' rows into; dropped when the pool goes idle. */
  private spare: ArrayBuffer[] = [];
  private nextId = 0;
  private closing: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  constructor(size: number = os.availableParallelism()) {
    if (!Number.isInteger(size) || size < 1) throw new InvalidArgumentError(`ParquetEncoderPool size ${size} must be a positive integer`);
    this.size = size;
  }

  /** How many encodes run at once (the number of worker threads). */
  get concurrency(): number {
    return this.size;
  }

  /**
   * Starts up to `workers` worker threads before any encode is queued, so their start-up (loading the wasm encoder,
   * ~0.1 s of CPU each) overlaps the caller's preparation of the first file instead of delaying it.
   */
  warm(workers: number = this.size): void {
    if (this.closing) return;
    while (this.slots.length < Math.min(workers, this.size)) this.spawn();
  }

  /** Encodes on a worker; the table is serialised to IPC here, the Parquet work happens off this thread. */
  encode(table: arrow.Table, opts: ParquetWriteOptions = {}): Promise<Uint8Array> {
    if (this.closing) return Promise.reject(new SensorlakeError('ParquetEncoderPool is closed'));
    const ipc = tableToIpcStream(table, this.takeSpare());
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, ipc, opts: { ...opts }, plainColumns: plainEncodedColumns(table.schema, opts.compression), deltaColumns: deltaEncodedColumns(table.schema), resolve, reject });
      this.pump();
    });
  }

  /** Lets queued and running encodes finish, then stops every worker. Later encode() calls reject. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.drained = resolve;
      this.maybeFinishClose();
    });
    return this.closing;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref(); // a pending encode keeps the process alive; an idle worker never does
      const req: EncodeRequest = { id: job.id, ipc: job.ipc, opts: job.opts, plainColumns: job.plainColumns, deltaColumns: job.deltaColumns };
      slot.worker.postMessage(req, [job.ipc.buffer as ArrayBuffer]);
    }
  }

  private takeSpare(): ArrayBuffer | undefined {
    // The largest, so a buffer too small for this file is the one dropped when the workers hand back more.
    if (this.spare.length === 0) return undefined;
    this.spare.sort((a, b) => a.byteLength - b.byteLength);
    return this.spare.pop();
  }

  private spawn(): Slot {
    // Workers inherit the parent's flags; --input-type (from `node -e`) is invalid for a worker file.
    const execArgv = process.execArgv.filter((a, i, all) => !a.startsWith('--input-type') && all[i - 1] !== '--input-type');
    const worker = new Worker(new URL('./parquet-worker.js', import.meta.url), { execArgv });
    const slot: Slot = { worker, job: null };
    worker.unref();
    worker.on('message', (reply: EncodeReply) => {
      const job = slot.job;
      if (!job || job.id !== reply.id) return;
      slot.job = null;
      worker.unref();
      if (reply.spare && this.spare.length < this.size) this.spare.push(reply.spare.buffer as ArrayBuffer);
      if (reply.ok) job.resolve(new Uint8Array(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength));
      else {
        const Ctor = ERRORS[reply.name] ?? SensorlakeError;
        job.reject(new Ctor(`Parquet encoding on a worker thread failed: ${reply.message}`));
        if (reply.fatal) this.retire(slot);
      }
      this.pump();
      if (this.queue.length === 0 && this.slots.every((s) => s.job === null)) this.spare = []; // idle: free the memory
      this.maybeFinishClose();
    });
    const onDeath = (why: string): void => {
      if (!this.slots.includes(slot)) return;
      this.slots.splice(this.slots.indexOf(slot), 1);
      slot.job?.reject(new SensorlakeError(`Parquet encoder worker ${why}`));
      slot.job = null;
      this.pump();
      this.maybeFinishClose();
    };
    worker.on('error', (e) => onDeath(`crashed: ${e.message}`));
    worker.on('exit', (code) => onDeath(`exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }

  private retire(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate();
  }

  private maybeFinishClose(): void {
    if (!this.drained || this.queue.length > 0 || this.slots.some((s) => s.job !== null)) return;
    const done = this.drained;
    this.drained = null;
    const slots = this.slots.splice(0);
    void Promise.all(slots.map((s) => s.worker.terminate())).then(() => done());
  }
}
