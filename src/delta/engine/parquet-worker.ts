// Worker thread of ParquetEncoderPool: receives Arrow IPC bytes, answers with Parquet bytes (both transferred) and
// hands the IPC buffer back for the pool to reuse once its bytes are in the encoder's memory.
// A wasm trap may leave the module's memory broken, so such errors are flagged fatal and the pool retires the worker.

import { parentPort } from 'node:worker_threads';
import { encodeParquetIpc } from './parquet-encode.js';
import type { ParquetWriteOptions } from './parquet.js';

export interface EncodeRequest {
  id: number;
  ipc: Uint8Array;
  opts: ParquetWriteOptions;
  plainColumns: string[];
  deltaColumns: string[];
}

export type EncodeReply = { id: number; spare?: Uint8Array } & (
  | { ok: true; bytes: Uint8Array }
  | { ok: false; name: string; message: string; fatal: boolean }
);

if (!parentPort) throw new Error('parquet-worker.js must run as a worker thread');
const port = parentPort;

port.on('message', (req: EncodeRequest) => {
  let reply: EncodeReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const bytes = encodeParquetIpc(req.ipc, req.opts, req.plainColumns, req.deltaColumns);
    reply = { id: req.id, ok: true, bytes };
    transfer.push(bytes.buffer as ArrayBuffer);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const cause = err.cause instanceof Error ? err.cause : err;
    reply = { id: req.id, ok: false, name: err.name, message: err.message, fatal: cause.name === 'RuntimeError' }; // WebAssembly.RuntimeError: a trap
  }
  // The IPC bytes were copied into wasm memory before encoding, so the buffer is free to go back.
  reply.spare = req.ipc;
  transfer.push(req.ipc.buffer as ArrayBuffer);
  port.postMessage(reply, transfer);
});
