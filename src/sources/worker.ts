// Parses a source on worker threads so parsing uses other cores while this thread validates and writes. Yields the
// readings, rejects and counts readSource would (a large plain CSV file is cut into byte ranges parsed side by side,
// so its chunks are cut differently); errors come back as the same class and message.

import { open } from 'node:fs/promises';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import * as errors from '../errors.js';
import type { SourceChunk } from './batch.js';
import { unpackBatch } from './batch-transfer.js';
import { csvDialect, type CsvRange, type CsvRangeEnd } from './csv.js';
import { resolveInputs } from './inputs.js';
import type { SourceConfig, SourceFormat } from './options.js';
import type { StartMessage, WorkerReply } from './worker-entry.js';

/** How many chunks a worker may parse ahead of the consumer: enough to hide latency, bounded in memory. */
const WINDOW = 4;
/** A plain CSV file at least this large is parsed in byte ranges, one worker each. */
const SPLIT_MIN_BYTES = 64 << 20;
/** Bytes read at the head of a file (for the header line) and at each cut (for the next newline). */
const PROBE_BYTES = 1 << 20;
/** Chunks parsed ahead by the ranges waiting their turn, all together (see aheadBytes). */
const AHEAD_BYTES = 128 << 20;
/** Bytes a chunk's batch takes per reading (ts, value, location, key, quality and bitmaps), roughly. */
const CHUNK_BYTES_PER_ROW = 40;

export interface WorkerReadOptions {
  /** Workers for one large CSV file (default: the cores, at most 4); 1 reads every file on one worker. */
  parallel?: number;
  /** Smallest plain CSV file cut into ranges (default 64 MiB). */
  splitMinBytes?: number;
  /** Memory for the chunks of ranges parsed before their turn (default 128 MiB). */
  aheadBytes?: number;
}

/** readSource on worker threads for every file `inputSpec` resolves to (see resolveInputs), all read as `format`. */
export async function* readSourceInWorker(inputSpec: string, format: SourceFormat, config: SourceConfig = {}, opts: WorkerReadOptions = {}): AsyncGenerator<SourceChunk> {
  const split = format === 'csv' ? await planRanges(inputSpec, config, opts) : null;
  if (!split) {
    const w = new SourceWorker(inputSpec, { type: 'start', spec: inputSpec, format, config, window: WINDOW });
    try {
      yield* w.chunks();
    } finally {
      await w.terminate();
    }
    return;
  }
  // Every range starts parsing now; their chunks are taken in file order, line numbers shifted to the whole file's.
  // The ranges after the first may parse up to `aheadBytes` of chunks before their turn: that is what lets them run
  // side by side with the first, in bounded memory.
  const chunkBytes = (config.batchRows ?? 65_536) * CHUNK_BYTES_PER_ROW;
  const ahead = Math.max(WINDOW, Math.floor((opts.aheadBytes ?? AHEAD_BYTES) / (split.ranges.length - 1) / chunkBytes));
  const workers = split.ranges.map((range, k) => new SourceWorker(inputSpec, { type: 'start', spec: inputSpec, format, config, window: k === 0 ? WINDOW : ahead, range }));
  try {
    let shift = 0;
    for (let k = 0; k < workers.length; k++) {
      const gen = workers[k].chunks();
      let r = await gen.next();
      while (!r.done) {
        if (shift !== 0) shiftLines(r.value, shift);
        yield r.value;
        r = await gen.next();
      }
      const end = r.value;
      const next = split.ranges[k + 1];
      if (!next) break;
      // A range whose last newline was inside quotes read on to the end of the file: the ranges after it are void.
      if (!end || end.end !== next.start) break;
      shift += end.nextLine - (split.prefixLines + 1);
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function shiftLines(c: SourceChunk, by: number): void {
  for (const r of c.rejects) r.location += by;
  const d = c.batch?.getChild('location')?.data[0];
  if (!d) return;
  const loc = d.values as unknown as Float64Array;
  for (let i = d.offset; i < d.offset + d.length; i++) loc[i] += by;
}

interface RangePlan {
  ranges: CsvRange[];
  /** Lines in the prefix (what the ranges after the first read before their bytes). */
  prefixLines: number;
}

/**
 * Byte ranges of a spec that is one large, uncompressed CSV file, cut just after newlines; null when it is not one
 * (or anything looks odd: the worker then reads it whole and reports any problem as usual).
 */
async function planRanges(spec: string, config: SourceConfig, opts: WorkerReadOptions): Promise<RangePlan | null> {
  const parts = opts.parallel ?? Math.min(4, os.availableParallelism());
  if (parts < 2) return null;
  const inputs = await resolveInputs(spec).catch(() => null);
  if (!inputs || inputs.length !== 1 || inputs[0].gzip || inputs[0].size < (opts.splitMinBytes ?? SPLIT_MIN_BYTES)) return null;
  const { file, size } = inputs[0];
  let quote: string;
  try {
    quote = csvDialect(config.csv ?? {}, file).quote;
  } catch {
    return null;
  }
  const fh = await open(file, 'r');
  try {
    const probe = async (at: number): Promise<Buffer> => {
      const b = Buffer.alloc(Math.min(PROBE_BYTES, size - at));
      const { bytesRead } = await fh.read(b, 0, b.length, at);
      return b.subarray(0, bytesRead);
    };
    const head = await probe(0);
    let prefixEnd = 0;
    if (config.csv?.header ?? true) {
      // Through the first line that is not blank: the header (a quoted one might span lines: not cut then).
      for (let p = 0; ; ) {
        const nl = head.indexOf(10, p);
        if (nl < 0) return null;
        const line = head.subarray(p, nl);
        p = nl + 1;
        if (line.every((c) => c === 32 || c === 9 || c === 13)) continue;
        if (quote !== '' && line.includes(Buffer.from(quote))) return null;
        prefixEnd = p;
        break;
      }
    }
    const prefix = new Uint8Array(head.subarray(0, prefixEnd));
    let prefixLines = 0;
    for (const c of prefix) if (c === 10) prefixLines++;
    const cuts = [0];
    for (let k = 1; k < parts; k++) {
      const at = Math.floor((size * k) / parts);
      if (at <= Math.max(prefixEnd, cuts[cuts.length - 1])) return null;
      const nl = (await probe(at)).indexOf(10);
      if (nl < 0 || at + nl + 1 >= size) return null;
      cuts.push(at + nl + 1);
    }
    cuts.push(size);
    const ranges = cuts.slice(0, -1).map((start, k) => ({ file, prefix: k === 0 ? new Uint8Array(0) : prefix, start, end: cuts[k + 1] }));
    return { ranges, prefixLines };
  } finally {
    await fh.close();
  }
}

/** One worker thread reading one spec (or one CSV range), at most WINDOW chunks ahead of its consumer. */
class SourceWorker {
  private readonly worker: Worker;
  private readonly inbox: WorkerReply[] = [];
  private waiting: (() => void) | null = null;
  private died: Error | null = null;

  constructor(
    private readonly spec: string,
    start: StartMessage,
  ) {
    // Workers inherit the parent's flags; --input-type (from `node -e`) is invalid for a worker file.
    const execArgv = process.execArgv.filter((a, i, all) => !a.startsWith('--input-type') && all[i - 1] !== '--input-type');
    // From dist/src/sources/worker.js this is dist/src/sources/worker-entry.js: compiled next to each other.
    this.worker = new Worker(new URL('./worker-entry.js', import.meta.url), { execArgv });
    this.worker.unref(); // only a pending read keeps the process alive (ref'd below while we wait)
    const notify = (): void => {
      this.waiting?.();
      this.waiting = null;
    };
    this.worker.on('message', (m: WorkerReply) => {
      this.inbox.push(m);
      notify();
    });
    this.worker.on('error', (e) => {
      this.died ??= e instanceof Error ? e : new Error(String(e));
      notify();
    });
    this.worker.on('exit', (code) => {
      this.died ??= new errors.SensorlakeError(`source worker for ${spec} exited with code ${code} before finishing`);
      notify();
    });
    this.worker.postMessage(start);
  }

  /** The worker's chunks; returns what its last message said of a range read. */
  async *chunks(): AsyncGenerator<SourceChunk, CsvRangeEnd | undefined> {
    for (;;) {
      if (this.inbox.length === 0 && !this.died) {
        this.worker.ref();
        await new Promise<void>((resolve) => (this.waiting = resolve));
        this.worker.unref();
      }
      const m = this.inbox.shift();
      if (!m) throw this.died ?? new errors.SensorlakeError(`source worker for ${this.spec} stopped`);
      if (m.type === 'done') return m.rangeEnd;
      if (m.type === 'error') throw rebuild(m);
      yield { ...m.meta, batch: m.packed ? unpackBatch(m.packed) : null };
      this.worker.postMessage({ type: 'ack' });
    }
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
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
