// Child process of ingestor-kill.test.ts: opens the ingestor on a lake and submits batches as fast as it can,
// printing one line per event to stdout (pipes are synchronous on Linux, so a printed ack survives a kill -9):
//   READY                          the ingestor is open (recovery done)
//   SUB <id>                       batch <id> is about to be submitted
//   ACK <id> <position> <dup 0|1>  batch <id> was acknowledged
//   CLOSED                         (finish mode) close() returned
// Usage: node kill-child.js <lake> <firstId> <run|finish> <resubmit ids, comma separated or ->
// Batch <id> is fully determined by its id (see batchOf), so the parent can recompute what every ack covers.
import { openIngestor } from '../../src/ingest/ingestor.js';
import { ReadingsBuilder } from '../../src/sources/batch.js';
import type { IngestRequest } from '../../src/ingest/contract.js';

export const T0 = Date.UTC(2025, 5, 1) * 1000;
export const PER_BATCH = 200;
export const SENSORS = 25;

/** Batches one run submits at most (then it waits for its kill): bounds the rows the parent checks. */
const MAX_BATCHES = 300;

/** Reading i of batch id: sensor k<i % 25>, a ts no other batch uses, a value that names both. */
export function readingOf(id: number, i: number): { sensor: string; ts: number; value: number } {
  return { sensor: `k${i % SENSORS}`, ts: T0 + id * 100 + Math.floor(i / SENSORS), value: id * 10_000 + i };
}

/** Every third batch carries an idempotency key; every tenth a record the front end could not decode. */
export const keyOf = (id: number): string | undefined => (id % 3 === 0 ? `key-${id}` : undefined);
export const badOf = (id: number): string | undefined => (id % 10 === 0 ? `bad-${id}` : undefined);

export function batchOf(id: number): IngestRequest {
  const b = new ReadingsBuilder('kill-test', 'record', PER_BATCH);
  for (let i = 0; i < PER_BATCH; i++) {
    const r = readingOf(id, i);
    b.append(r.sensor, r.ts, r.value, null, null, i);
  }
  const bad = badOf(id);
  if (bad) b.reject(bad, 'malformed_record', `record ${PER_BATCH} of batch ${id} is not JSON`, PER_BATCH);
  const key = keyOf(id);
  return { chunks: [b.flush(0)], source: `batch-${id}`, ...(key ? { idempotencyKey: key } : {}) };
}

async function main(): Promise<void> {
  const [lake, first, mode, resubmit] = process.argv.slice(2);
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const ing = await openIngestor({ lake, serverId: 'kill-test', commitMs: 150, commitRows: 20_000, walSegmentBytes: 512 << 10 });
  out('READY');
  const send = async (id: number): Promise<void> => {
    out(`SUB ${id}`);
    const ack = await ing.submit(batchOf(id));
    out(`ACK ${id} ${ack.position} ${ack.duplicate ? 1 : 0}`);
  };
  // A client retrying what it sent before the crash (acknowledged or not): redeliveries the core must absorb.
  if (resubmit && resubmit !== '-') await Promise.all(resubmit.split(',').map((s) => send(Number(s))));
  let next = Number(first);
  if (mode === 'finish') {
    for (let k = 0; k < 5; k++) await Promise.all([0, 1, 2, 3].map(() => send(next++)));
    await ing.close();
    out('CLOSED');
    return;
  }
  const stopAt = Date.now() + 60_000; // never outlive a parent that died
  const last = next + MAX_BATCHES;
  const client = async (c: number): Promise<void> => {
    let sent = 0;
    while (Date.now() < stopAt && next < last) {
      const id = next++;
      await send(id);
      // Now and then a redelivery of this run's earlier batch: a duplicate within or across micro-batches.
      if (++sent % 7 === c && id - 5 - c >= Number(first)) await send(id - 5 - c);
    }
  };
  await Promise.all([0, 1, 2, 3].map(client));
  // Idle until killed (commits still run): the parent kills every 'run' child.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, stopAt - Date.now())));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((e: unknown) => {
    process.stderr.write(`kill-child: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
