// Worker thread of readSourceInWorker: parses one input spec with readSource (or one byte range of a CSV file) and
// posts each chunk as Arrow IPC bytes (transferred) plus its rejects. It runs at most WINDOW chunks ahead of the
// consumer, which acks each one it takes.

import * as arrow from 'apache-arrow';
import { parentPort } from 'node:worker_threads';
import type { SourceChunk } from './batch.js';
import { readCsvRange, type CsvRange, type CsvRangeEnd } from './csv.js';
import { readSource } from './index.js';
import { resolveInputs } from './inputs.js';
import type { SourceConfig, SourceFormat } from './options.js';

export interface StartMessage {
  type: 'start';
  spec: string;
  format: SourceFormat;
  config: SourceConfig;
  window: number;
  /** Read only this byte range of one CSV file (see readCsvRange); `done` then says where the read stopped. */
  range?: CsvRange;
}
export interface AckMessage {
  type: 'ack';
}
/** A chunk without its batch, which travels as `ipc` (null when the chunk holds only rejects). */
export type ChunkMeta = Omit<SourceChunk, 'batch'>;
export type WorkerReply =
  | { type: 'chunk'; meta: ChunkMeta; ipc: Uint8Array | null }
  | { type: 'done'; rangeEnd?: CsvRangeEnd }
  | { type: 'error'; name: string; message: string; stack?: string; feature?: string; code?: string };

if (!parentPort) throw new Error('worker-entry.js must run as a worker thread');
const port = parentPort;

let credits = 0;
let wake: (() => void) | null = null;

port.on('message', (msg: StartMessage | AckMessage) => {
  if (msg.type === 'ack') {
    credits++;
    wake?.();
    wake = null;
  } else void run(msg);
});

async function run(start: StartMessage): Promise<void> {
  credits = start.window;
  try {
    let rangeEnd: CsvRangeEnd | undefined;
    const c = start.config;
    const chunks = start.range
      ? [readCsvRange(start.range, { ...c.csv, time: c.time, batchRows: c.batchRows, quality: c.quality }, (e) => (rangeEnd = e))]
      : (await resolveInputs(start.spec)).map((input) => readSource(input, start.format, c));
    for (const gen of chunks) {
      for await (const chunk of gen) {
        while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
        credits--;
        send(chunk);
      }
    }
    port.postMessage({ type: 'done', rangeEnd } satisfies WorkerReply);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const extra = err as Error & { feature?: unknown; code?: unknown };
    port.postMessage({
      type: 'error',
      name: err.name,
      message: err.message,
      stack: err.stack,
      feature: typeof extra.feature === 'string' ? extra.feature : undefined,
      code: typeof extra.code === 'string' ? extra.code : undefined,
    } satisfies WorkerReply);
  }
}

function send(chunk: SourceChunk): void {
  const { batch, ...meta } = chunk;
  let ipc: Uint8Array | null = null;
  if (batch) {
    ipc = arrow.tableToIPC(new arrow.Table([batch]), 'stream');
    // Transfer only a buffer the view owns whole; otherwise copy once so nothing else is detached.
    if (ipc.byteOffset !== 0 || ipc.byteLength !== ipc.buffer.byteLength) ipc = ipc.slice();
  }
  const reply: WorkerReply = { type: 'chunk', meta, ipc };
  port.postMessage(reply, ipc ? [ipc.buffer as ArrayBuffer] : []);
}
