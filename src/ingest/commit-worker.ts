// The micro-batch commits of live ingest run on this worker thread, so that gathering, sorting, deduping, building
// Arrow, stats and the Delta commits of hundreds of thousands of rows never stall the event loop that validates
// requests and hands out acks. It holds the lake's tables and the dedup high-water marks across batches.

import { parentPort, workerData } from 'node:worker_threads';
import { lakePaths, openOrCreate, QUARANTINE_SCHEMA, type PartitionScheme } from '../backfill/lake.js';
import { SensorDict } from '../backfill/validate.js';
import { DeltaTable, shutdownWorkers } from '../delta/table.js';
import { decodeEntry, type NamesCache } from './entry.js';
import { HighWater } from './live-dedup.js';
import { commitBatch, type BatchContext, type PendingEntry } from './micro-batch.js';
import type { CommitReply, CommitRequest, CommitWorkerInit } from './commit-thread.js';

const init = workerData as CommitWorkerInit;
const lake = lakePaths(init.lake);
let ctx: BatchContext | null = null;
const namesCache: NamesCache = { bytes: null, names: [] };

async function context(): Promise<BatchContext> {
  if (ctx) return ctx;
  let quarantine: DeltaTable | null = null;
  ctx = {
    serverId: init.serverId,
    readings: await DeltaTable.open(lake.readings),
    partition: init.partition as PartitionScheme,
    // Only names to indexes here: validation happened on the main thread.
    dict: new SensorDict(() => undefined),
    marks: new HighWater(),
    quarantine: async () => (quarantine ??= await openOrCreate(lake.quarantine, QUARANTINE_SCHEMA, [], 'records sensorlake could not accept')),
  };
  return ctx;
}

parentPort!.on('message', (msg: CommitRequest) => {
  void (async (): Promise<void> => {
    if (msg.kind === 'close') {
      await shutdownWorkers();
      parentPort!.postMessage({ id: msg.id, ok: true, outcome: null } satisfies CommitReply);
      return;
    }
    try {
      const batch: PendingEntry[] = msg.entries.map((e) => ({ entry: decodeEntry(e.payload, e.position, namesCache), rowsDone: e.rowsDone, rejectsDone: e.rejectsDone }));
      const outcome = await commitBatch(batch, await context());
      parentPort!.postMessage({ id: msg.id, ok: true, outcome } satisfies CommitReply);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      parentPort!.postMessage({ id: msg.id, ok: false, error: { name: err.name, message: err.message, stack: err.stack ?? '' } } satisfies CommitReply);
    }
  })();
});
