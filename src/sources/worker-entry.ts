// Worker thread of readSourceInWorker: parses one input spec with readSource (or one byte range of a CSV file) and
// posts each chunk as its batch's buffers (transferred, see batch-transfer.ts) plus its rejects. It runs at most
// WINDOW chunks ahead of the consumer, which acks each one it takes.

import { parentPort } from 'node:worker_threads';
import type { SourceChunk } from './batch.js';
import { packBatch, type PackedBatch } from './batch-transfer.js';
import { readCsvRange, type CsvRange, type CsvRangeEnd } from './csv.js';
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
/** A chunk without its batch, which travels as its moved buffers (null when the chunk holds only rejects). */
export type ChunkMeta = Omit<SourceChunk, 'batch'>;
export type WorkerReply =
  | { type: 'chunk'; meta: ChunkMeta; packed: PackedBatch | null }
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
    // A CSV range worker loads the CSV reader alone: every source's modules (Parquet's WebAssembly among them) would
    // cost each of them more start-up than the first chunks take to parse.
    const chunks = start.range ? [readCsvRange(start.range, { ...c.csv, time: c.time, batchRows: c.batchRows, quality: c.quality }, (e) => (rangeEnd = e))] : await wholeSpec(start);
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

async function wholeSpec(start: StartMessage): Promise<AsyncIterable<SourceChunk>[]> {
  const [{ readSource }, { resolveInputs }] = await Promise.all([import('./index.js'), import('./inputs.js')]);
  return (await resolveInputs(start.spec)).map((input) => readSource(input, start.format, start.config));
}

function send(chunk: SourceChunk): void {
  const { batch, ...meta } = chunk;
  const p = batch ? packBatch(batch) : null;
  const reply: WorkerReply = { type: 'chunk', meta, packed: p?.packed ?? null };
  port.postMessage(reply, p?.transfer ?? []);
}
