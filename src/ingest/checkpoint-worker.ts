// The thread live-ingest checkpoints run on (checkpoints.ts): it keeps one DeltaTable per table across runs, so
// each checkpoint advances a snapshot by the commits since the last one and then encodes it, seconds of CPU for a
// table with a week of tombstones that neither the commit thread nor the event loop acknowledging requests waits for.

import { parentPort } from 'node:worker_threads';
import { inlineRunner, type CheckpointReply, type CheckpointRequest } from './checkpoints.js';

const run = inlineRunner([]);

parentPort!.on('message', (msg: CheckpointRequest) => {
  void run(msg.table).then(
    (version) => parentPort!.postMessage({ id: msg.id, ok: true, version } satisfies CheckpointReply),
    (e: unknown) => parentPort!.postMessage({ id: msg.id, ok: false, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) } satisfies CheckpointReply),
  );
});
