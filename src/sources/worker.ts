// Parses a source on a worker thread so parsing uses another core while this thread validates and writes. Yields
// exactly the chunks readSource would; errors come back as the same class and message.

import * as arrow from 'apache-arrow';
import { Worker } from 'node:worker_threads';
import * as errors from '../errors.js';
import type { SourceChunk } from './batch.js';
import type { SourceConfig, SourceFormat } from './options.js';
import type { StartMessage, WorkerReply } from './worker-entry.js';

/** How many chunks the worker may parse ahead of the consumer: enough to hide latency, bounded in memory. */
const WINDOW = 4;

/** readSource on a worker thread for every file `inputSpec` resolves to (see resolveInputs), all read as `format`. */
export async function* readSourceInWorker(inputSpec: string, format: SourceFormat, config: SourceConfig = {}): AsyncGenerator<SourceChunk> {
  // Workers inherit the parent's flags; --input-type (from `node -e`) is invalid for a worker file.
  const execArgv = process.execArgv.filter((a, i, all) => !a.startsWith('--input-type') && all[i - 1] !== '--input-type');
  // From dist/src/sources/worker.js this is dist/src/sources/worker-entry.js: compiled next to each other.
  const worker = new Worker(new URL('./worker-entry.js', import.meta.url), { execArgv });
  worker.unref(); // only a pending read keeps the process alive (ref'd below while we wait)
  const inbox: WorkerReply[] = [];
  let waiting: (() => void) | null = null;
  let died: Error | null = null;
  const notify = (): void => {
    waiting?.();
    waiting = null;
  };
  worker.on('message', (m: WorkerReply) => {
    inbox.push(m);
    notify();
  });
  worker.on('error', (e) => {
    died ??= e instanceof Error ? e : new Error(String(e));
    notify();
  });
  worker.on('exit', (code) => {
    died ??= new errors.SensorlakeError(`source worker for ${inputSpec} exited with code ${code} before finishing`);
    notify();
  });
  try {
    worker.postMessage({ type: 'start', spec: inputSpec, format, config, window: WINDOW } satisfies StartMessage);
    for (;;) {
      if (inbox.length === 0 && !died) {
        worker.ref();
        await new Promise<void>((resolve) => (waiting = resolve));
        worker.unref();
      }
      const m = inbox.shift();
      if (!m) throw died ?? new errors.SensorlakeError(`source worker for ${inputSpec} stopped`);
      if (m.type === 'done') return;
      if (m.type === 'error') throw rebuild(m);
      yield toChunk(m.meta, m.ipc);
      worker.postMessage({ type: 'ack' });
    }
  } finally {
    await worker.terminate();
  }
}

function toChunk(meta: Omit<SourceChunk, 'batch'>, ipc: Uint8Array | null): SourceChunk {
  let batch: arrow.RecordBatch | null = null;
  if (ipc) {
    const batches = arrow.tableFromIPC(ipc).batches;
    if (batches.length !== 1) throw new errors.SensorlakeError(`source worker sent ${batches.length} batches in one chunk of ${meta.file}`);
    batch = batches[0];
  }
  return { ...meta, batch };
}

const BUILTIN: Record<string, unknown> = { TypeError, RangeError, SyntaxError };

type ErrorReply = Extract<WorkerReply, { type: 'error' }>;

/** The error the worker threw, as the same class (ours) or a plain Error carrying its name and code. */
function rebuild(m: ErrorReply): Error {
  const Ctor = (errors as Record<string, unknown>)[m.name] ?? BUILTIN[m.name];
  let err: Error;
  if (Ctor === errors.UnsupportedFeatureError) err = new errors.UnsupportedFeatureError(m.feature ?? '', m.message);
  else if (typeof Ctor === 'function' && Ctor.prototype instanceof Error) err = new (Ctor as new (msg: string) => Error)(m.message);
  else {
    err = new Error(m.message);
    err.name = m.name;
  }
  if (m.code !== undefined) (err as NodeJS.ErrnoException).code = m.code;
  if (m.stack) err.stack = `${err.name}: ${err.message}\n    [in source worker]\n${m.stack.split('\n').slice(1).join('\n')}`;
  return err;
}
