// Runs one OPTIMIZE on a worker thread for compaction.ts, so reading, sorting and rewriting a partition (seconds of
// CPU) never holds the event loop that acknowledges ingest requests. One worker per optimize: compactions are
// minutes apart, and a fresh worker frees the bins' memory when it exits.

import { parentPort, workerData } from 'node:worker_threads';
import { DeltaTable, shutdownWorkers, type OptimizeOptions, type OptimizeResult } from '../delta/table.js';

export interface OptimizeJob {
  table: string;
  options: OptimizeOptions;
}

export type OptimizeReply = { ok: true; result: OptimizeResult } | { ok: false; error: { name: string; message: string; stack: string } };

if (parentPort && workerData && (workerData as { compactionJob?: OptimizeJob }).compactionJob) {
  const job = (workerData as { compactionJob: OptimizeJob }).compactionJob;
  const port = parentPort;
  let reply: OptimizeReply;
  try {
    const result = await (await DeltaTable.open(job.table)).optimize(job.options);
    reply = { ok: true, result };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    reply = { ok: false, error: { name: err.name, message: err.message, stack: err.stack ?? '' } };
  }
  await shutdownWorkers();
  port.postMessage(reply);
}
