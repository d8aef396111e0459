// Inline anomaly flagging beside live ingest: each readings commit of this server is judged on a thread of its own
// (inline-anomalies-worker.ts runs inline-judge.ts) and what it flags lands in `anomalies` about a second later.
// This side forwards commits, counts findings in the server's metrics and logs what the judge says.

import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { SensorlakeError } from '../errors.js';
import { logger as libraryLogger } from '../log.js';
import type { Ingest } from './contract.js';
import { checkJudgeSettings, type InlineAnomaliesStats, type InlineJudgeSettings } from './inline-judge.js';
import type { FromJudge, JudgeWorkerData, ToJudge } from './inline-anomalies-worker.js';

export type { InlineAnomaliesStats } from './inline-judge.js';

export const INLINE_ANOMALIES_METRIC = 'sensorlake_inline_anomalies_total';

export interface InlineAnomaliesOptions extends Omit<InlineJudgeSettings, 'serverId'> {
  /** The running ingestor: its commits are judged, its server id names the txn appId. */
  ingest: Pick<Ingest, 'onCommit'> & { readonly serverId: string };
  /** Where `sensorlake_inline_anomalies_total{detector}` is registered (none: not counted). */
  registry?: Registry;
  /** Findings are logged here at info, trouble at warn/error (default: the library logger). */
  logger?: Logger;
}

export async function startInlineAnomalies(opts: InlineAnomaliesOptions): Promise<InlineAnomalies> {
  const { ingest, registry, logger, ...rest } = opts;
  const settings: InlineJudgeSettings = { ...rest, serverId: ingest.serverId };
  checkJudgeSettings(settings);
  const self = new InlineAnomalies(settings, logger ?? libraryLogger, registry ? counterIn(registry) : null);
  // Listening before the judge reads the snapshot it starts from: a commit landing meanwhile is not missed.
  ingest.onCommit((c) => self.committed(c.version));
  await self.started;
  return self;
}

export class InlineAnomalies {
  /** As of the judge's last answer (start, whenJudged, stop). */
  stats: InlineAnomaliesStats = { commits: 0, readings: 0, findings: 0, late: 0, skipped: 0, judgedVersion: -1, recordedVersion: -1 };
  readonly started: Promise<void>;
  private readonly worker: Worker;
  private readonly waiters = new Map<number, () => void>();
  private nextId = 0;
  private stopped: Promise<void> | null = null;
  private done = false;
  private resolveStopped: () => void = () => {};

  constructor(
    settings: InlineJudgeSettings,
    private readonly log: Logger,
    private readonly counter: Counter<'detector'> | null,
  ) {
    const execArgv = process.execArgv.filter((a, i, all) => !a.startsWith('--input-type') && all[i - 1] !== '--input-type');
    this.worker = new Worker(new URL('./inline-anomalies-worker.js', import.meta.url), { execArgv, workerData: { inlineJudge: settings } satisfies JudgeWorkerData });
    this.started = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: FromJudge) => {
        if (m.type === 'started') {
          this.stats = m.stats;
          resolve();
        } else if (m.type === 'failed') reject(new SensorlakeError(`inline anomalies could not start: ${m.name}: ${m.message}`));
        else this.heard(m);
      });
      this.worker.on('error', (e) => {
        reject(e);
        this.log.error({ err: e }, 'inline anomalies: the judging thread failed; commits from here on are judged at the next start');
        this.finish();
      });
      this.worker.on('exit', () => this.finish());
    });
    // A rejected start is the caller's to handle (startInlineAnomalies awaits it); this keeps it from also being unhandled.
    this.started.catch(() => {});
  }

  /** Resolves once `version` is judged and its findings written (or the component stopped). */
  whenJudged(version: number): Promise<void> {
    if (this.done) return Promise.resolve();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiters.set(id, resolve);
      this.send({ type: 'whenJudged', id, version });
    });
  }

  /** Finishes the round in progress (writing its findings), then ignores further commits. */
  stop(): Promise<void> {
    if (this.done) return Promise.resolve();
    this.stopped ??= new Promise<void>((resolve) => {
      this.resolveStopped = resolve;
      this.send({ type: 'stop' });
    });
    return this.stopped;
  }

  committed(version: number): void {
    if (!this.done && !this.stopped) this.send({ type: 'commit', version });
  }

  private send(m: ToJudge): void {
    this.worker.postMessage(m);
  }

  private heard(m: FromJudge): void {
    if (m.type === 'log') {
      const { err, ...rest } = m.fields as { err?: { name: string; message: string; stack?: string } };
      this.log[m.level](err ? { ...rest, err: Object.assign(new Error(err.message), err) } : rest, m.msg);
    } else if (m.type === 'found') this.counter?.inc({ detector: m.detector });
    else if (m.type === 'judged') {
      this.stats = m.stats;
      this.waiters.get(m.id)?.();
      this.waiters.delete(m.id);
    } else if (m.type === 'stopped') {
      this.stats = m.stats;
      this.finish();
    }
  }

  /** The judge is gone (stopped or failed): nothing waits on it any more. */
  private finish(): void {
    if (this.done) return;
    this.done = true;
    for (const w of this.waiters.values()) w();
    this.waiters.clear();
    this.resolveStopped();
    void this.worker.terminate();
  }
}

/** One counter per registry, also when a second component starts on it (a restart in the same process). */
function counterIn(registry: Registry): Counter<'detector'> {
  const existing = registry.getSingleMetric(INLINE_ANOMALIES_METRIC);
  if (existing) return existing as Counter<'detector'>;
  return new Counter({ name: INLINE_ANOMALIES_METRIC, help: 'anomalies flagged inline by live ingest, by detector', labelNames: ['detector'], registers: [registry] });
}
