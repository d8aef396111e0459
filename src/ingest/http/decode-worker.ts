// Worker thread of DecodePool (decode-pool.ts): undoes the Content-Encoding and decodes a request body with
// decode.ts, then posts the chunks back as column buffers (chunk-transfer.ts), or the error it threw.

import { parentPort, workerData } from 'node:worker_threads';
import { AvroSchemas } from './avro-schemas.js';
import { toPortable, type PortableChunk } from './chunk-transfer.js';
import { decodeBody, undoContentEncoding, type BodyFormat } from './decode.js';

export interface DecodeJob {
  id: number;
  format: BodyFormat;
  body: Uint8Array;
  encoding: string | undefined;
  limit: number;
  name: string;
}

export type DecodeReply =
  | { id: number; chunks: PortableChunk[] }
  /** `unsupportedEncoding`: the Content-Encoding is not one we speak (a 415). */
  | { id: number; unsupportedEncoding: true }
  | { id: number; error: { name: string; message: string; code?: string } };

if (!parentPort) throw new Error('decode-worker.js must run as a worker thread');
const port = parentPort;
// The registry reads the lake's schema directory; schemas registered later are found there on first use.
const schemas = new AvroSchemas((workerData as { schemasDir: string }).schemasDir);

port.on('message', (job: DecodeJob) => void run(job));

async function run(job: DecodeJob): Promise<void> {
  try {
    const raw = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
    const body = undoContentEncoding(raw, job.encoding, job.limit, job.name);
    if (!body) return port.postMessage({ id: job.id, unsupportedEncoding: true } satisfies DecodeReply);
    const chunks = await decodeBody(job.format, body, { name: job.name, schemas });
    port.postMessage({ id: job.id, chunks: chunks.map(toPortable) } satisfies DecodeReply);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as NodeJS.ErrnoException).code;
    port.postMessage({ id: job.id, error: { name: err.name, message: err.message, code: typeof code === 'string' ? code : undefined } } satisfies DecodeReply);
  }
}
