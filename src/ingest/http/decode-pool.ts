// Decodes request bodies off the event loop: the main thread of `sensorlake serve` also parses HTTP, writes the WAL
// and serves reads, and decoding (JSON.parse and the sources' record rules) is most of its work per reading. With
// `size` 0 bodies are decoded inline, on the calling thread.

import { Worker } from 'node:worker_threads';
import * as errors from '../../errors.js';
import type { SourceChunk } from '../../sources/batch.js';
import type { AvroSchemas } from './avro-schemas.js';
import { BodyTooLargeError, decodeBody, undoContentEncoding, type BodyFormat } from './decode.js';
import { fromPortable } from './chunk-transfer.js';
import type { DecodeJob, DecodeReply } from './decode-worker.js';

/** The Content-Encoding is not one we speak. */
export class UnsupportedEncodingError extends errors.SensorlakeError {}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (c: SourceChunk[]) => void; reject: (e: Error) => void }>;
}

export class DecodePool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    readonly size: number,
    private readonly schemas: AvroSchemas,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  /** The chunks of a body (its Content-Encoding undone, at most `limit` bytes decompressed). */
  decode(format: BodyFormat, body: Buffer, encoding: string | undefined, limit: number, name: string): Promise<SourceChunk[]> {
    if (this.slots.length === 0 || this.closed) return this.inline(format, body, encoding, limit, name);
    // The least busy worker; ties go to the first.
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    // Transfer the body when it owns its memory whole (Fastify concatenates a body into a buffer of its own).
    const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && !(body.buffer instanceof SharedArrayBuffer);
    const bytes = owned ? body : new Uint8Array(body);
    const job: DecodeJob = { id, format, body: bytes, encoding, limit, name };
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage(job, [bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private async inline(format: BodyFormat, body: Buffer, encoding: string | undefined, limit: number, name: string): Promise<SourceChunk[]> {
    const raw = undoContentEncoding(body, encoding, limit, name);
    if (!raw) throw new UnsupportedEncodingError(`Content-Encoding ${encoding} is not supported; send gzip, deflate or identity`);
    return decodeBody(format, raw, { name, schemas: this.schemas });
  }

  private spawn(): Slot {
    // Workers inherit the parent's flags; --input-type (from `node -e`) is invalid for a worker file.
    const execArgv = process.execArgv.filter((a, i, all) => !a.startsWith('--input-type') && all[i - 1] !== '--input-type');
    const worker = new Worker(new URL('./decode-worker.js', import.meta.url), { execArgv, workerData: { schemasDir: this.schemas.dir } });
    worker.unref(); // the server's sockets keep the process alive while requests wait on a decode
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (m: DecodeReply) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if ('chunks' in m) p.resolve(m.chunks.map(fromPortable));
      else if ('unsupportedEncoding' in m) p.reject(new UnsupportedEncodingError('Content-Encoding is not supported; send gzip, deflate or identity'));
      else p.reject(rebuild(m.error));
    });
    const fail = (e: Error): void => {
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
      // A worker that died is replaced, so one poisoned body does not take decoding down for everyone.
      const i = this.slots.indexOf(slot);
      if (i >= 0 && !this.closed) this.slots[i] = this.spawn();
    };
    worker.on('error', (e) => fail(new errors.SensorlakeError(`body decoder worker failed: ${e.message}`)));
    worker.on('exit', (code) => fail(new errors.SensorlakeError(`body decoder worker exited with code ${code}`)));
    return slot;
  }
}

/** The worker's error as the same class: ours from errors.ts, the body-size one, or a plain Error with its name. */
function rebuild(e: { name: string; message: string; code?: string }): Error {
  const Ctor = e.name === 'BodyTooLargeError' ? BodyTooLargeError : (errors as Record<string, unknown>)[e.name];
  let err: Error;
  if (typeof Ctor === 'function' && Ctor.prototype instanceof Error && Ctor !== errors.UnsupportedFeatureError && Ctor !== errors.BufferFullError) {
    err = new (Ctor as new (msg: string) => Error)(e.message);
  } else {
    err = new Error(e.message);
    err.name = e.name;
  }
  if (e.code !== undefined) (err as NodeJS.ErrnoException).code = e.code;
  return err;
}
