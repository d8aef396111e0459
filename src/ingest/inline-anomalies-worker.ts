// The thread inline anomaly judging runs on (inline-judge.ts, started by inline-anomalies.ts). Reading what each
// commit added and pushing every reading through its sensor's detector costs about two microseconds per reading:
// on the event loop that acknowledges ingest requests it stalled them by up to a second at full rate, and even on
// a thread of its own it took a whole core from them. So it runs at the lowest priority: when both cores are busy,
// judging lags (and catches up when they are not) rather than acknowledgements.

import { parentPort, workerData } from 'node:worker_threads';
import { shutdownWorkers } from '../delta/table.js';
import { lowerThisThreadsPriority } from './background-thread.js';
import { InlineJudge, type InlineAnomaliesStats as InlineStats, type InlineJudgeSettings, type LogLevel } from './inline-judge.js';

export type ToJudge = { type: 'commit'; version: number } | { type: 'whenJudged'; id: number; version: number } | { type: 'stop' };

export type FromJudge =
  | { type: 'started'; stats: InlineStats }
  | { type: 'failed'; name: string; message: string }
  | { type: 'judged'; id: number; stats: InlineStats }
  | { type: 'log'; level: LogLevel; fields: Record<string, unknown>; msg: string }
  | { type: 'found'; detector: string }
  | { type: 'stopped'; stats: InlineStats };

export interface JudgeWorkerData {
  inlineJudge: InlineJudgeSettings;
}

/** An Error as plain fields (pino's err serializer on the other side reads name, message and stack). */
function plain(fields: Record<string, unknown>): Record<string, unknown> {
  const err = fields.err;
  if (!(err instanceof Error)) return fields;
  return { ...fields, err: { name: err.name, message: err.message, stack: err.stack } };
}

if (parentPort && (workerData as Partial<JudgeWorkerData> | undefined)?.inlineJudge) {
  const port = parentPort;
  lowerThisThreadsPriority('inline anomalies');
  const post = (m: FromJudge): void => port.postMessage(m);
  let listener: ((version: number) => void) | null = null;
  // Commits announced while the judge opens its tables: the highest is handed over once it listens.
  let early = -1;
  let judge: InlineJudge | null = null;
  const queued: ToJudge[] = [];

  const handle = (m: ToJudge): void => {
    if (m.type === 'commit') {
      if (listener) listener(m.version);
      else early = Math.max(early, m.version);
    } else if (!judge) queued.push(m);
    else if (m.type === 'whenJudged') void judge.whenJudged(m.version).then(() => post({ type: 'judged', id: m.id, stats: { ...judge!.stats } }));
    else
      void judge.stop().then(async () => {
        await shutdownWorkers();
        post({ type: 'stopped', stats: { ...judge!.stats } });
        port.close();
      });
  };
  port.on('message', handle);

  try {
    judge = await InlineJudge.start((workerData as JudgeWorkerData).inlineJudge, {
      onCommit: (l) => (listener = l),
      log: (level, fields, msg) => post({ type: 'log', level, fields: plain(fields), msg }),
      found: (detector) => post({ type: 'found', detector }),
    });
    post({ type: 'started', stats: { ...judge.stats } });
    if (early >= 0) listener!(early);
    for (const m of queued.splice(0)) handle(m);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ type: 'failed', name: err.name, message: err.message });
    await shutdownWorkers();
    port.close();
  }
}
