// Inline anomaly flagging beside live ingest: after each readings micro-batch commit it reads only the files that
// commit added, runs every numeric reading through its sensor's OnlineDetector (in ts order) and appends what they
// flag to the `anomalies` table under txn(serverId + ":anomalies", readings version), so a restart never writes a
// finding twice and resumes (bounded) from the last version it recorded. `quality run` re-judges later, with context.

import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { DeltaTable } from '../delta/table.js';
// table.ts has no call for "the rows one version added"; these two internals make one without editing src/delta.
import { lakePaths } from '../backfill/lake.js';
import { OnlineDetector, type AnomalyOptions } from '../quality/anomaly/index.js';
import type { Anomaly } from '../quality/contract.js';
import { assetFromId, loadSensors, type SensorInfo } from '../quality/series.js';
import { openAnomalies } from '../quality/tables.js';
import { anomaliesTable } from '../quality/run-write.js';
import { InvalidArgumentError } from '../errors.js';
import { logger as libraryLogger } from '../log.js';
import type { Ingest } from './contract.js';

export const INLINE_ANOMALIES_METRIC = 'sensorlake_inline_anomalies_total';

export interface InlineAnomaliesOptions {
  lake: string;
  /** The running ingestor: its commits are judged, its server id names the txn appId. */
  ingest: Pick<Ingest, 'onCommit'> & { readonly serverId: string };
  /** Where `sensorlake_inline_anomalies_total{detector}` is registered (none: not counted). */
  registry?: Registry;
  /** Each finding is logged here at info (default: the library logger). */
  logger?: Logger;
  /** OnlineDetector options (window, warmup, thresholds...). */
  detector?: AnomalyOptions;
  /** At start, at most this many of the latest readings versions not yet recorded are judged (default 600). */
  maxCatchUpCommits?: number;
  /** At start, this many versions before the first judged one are fed silently to warm the detectors (default 120). */
  warmUpCommits?: number;
  /**
   * With no findings, the txn still moves forward by an empty commit this often (default 5 min), so a restart's
   * catch-up starts near where it stopped without a commit to `anomalies` per readings commit.
   */
  markEveryMs?: number;
  /** Versions judged per round before their findings are written (default 50; bounds catch-up memory). */
  versionsPerRound?: number;
}

export interface InlineAnomaliesStats {
  /** Readings commits of this server judged (warm-up excluded). */
  commits: number;
  readings: number;
  /** Findings written to `anomalies`. */
  findings: number;
  /** Readings older than the last one judged for their sensor (arrived late): skipped. */
  late: number;
  /** Versions that could not be read (commit or data file gone): skipped. */
  skipped: number;
  /** The last readings version judged, and the last one recorded by a txn in `anomalies`. */
  judgedVersion: number;
  recordedVersion: number;
}

interface Finding extends Anomaly {
  version: number;
}

interface SensorState {
  det: OnlineDetector;
  lastTs: number;
}

const COLUMNS = ['ts', 'sensor_id', 'value'];
const SENSORS_RELOAD_MS = 60_000;
const RETRY_MS = 5_000;

export async function startInlineAnomalies(opts: InlineAnomaliesOptions): Promise<InlineAnomalies> {
  return InlineAnomalies.start(opts);
}

export class InlineAnomalies {
  readonly stats: InlineAnomaliesStats = { commits: 0, readings: 0, findings: 0, late: 0, skipped: 0, judgedVersion: -1, recordedVersion: -1 };
  private readonly appId: string;
  private readonly log: Logger;
  private readonly counter: Counter<'detector'> | null;
  private readonly sensors = new Map<string, SensorState>();
  private info = new Map<string, SensorInfo>();
  private infoLoadedAt = 0;
  /** Findings judged but not yet written (a failed write keeps them for the next round). */
  private pending: Finding[] = [];
  private target = -1;
  private lastWriteMs = Date.now();
  private running: Promise<void> | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private waiters: { version: number; resolve: () => void }[] = [];
  /** Versions to feed silently before the first judged one (restores detector state after a restart). */
  private warm: { from: number; to: number } | null = null;

  private constructor(
    private readonly o: InlineAnomaliesOptions,
    private readonly readings: DeltaTable,
    private readonly anomalies: DeltaTable,
  ) {
    this.appId = `${o.ingest.serverId}:anomalies`;
    this.log = o.logger ?? libraryLogger;
    this.counter = o.registry ? counterIn(o.registry) : null;
  }

  static async start(opts: InlineAnomaliesOptions): Promise<InlineAnomalies> {
    const maxCatchUp = count(opts.maxCatchUpCommits ?? 600, 'maxCatchUpCommits', 0);
    const warm = count(opts.warmUpCommits ?? 120, 'warmUpCommits', 0);
    count(opts.versionsPerRound ?? 50, 'versionsPerRound', 1);
    // Settles the detector options now, so a bad one fails the start rather than the first commit.
    new OnlineDetector('check', null, {}, opts.detector);
    const readings = await DeltaTable.open(lakePaths(opts.lake).readings);
    const anomalies = await openAnomalies(opts.lake);
    const snap = await readings.snapshot();
    const self = new InlineAnomalies(opts, readings, anomalies);
    self.info = await loadSensors(opts.lake);
    self.infoLoadedAt = Date.now();
    const recorded = (await anomalies.txnVersion(self.appId)) ?? -1;
    self.stats.recordedVersion = recorded;
    const from = Math.max(recorded + 1, snap.version - maxCatchUp + 1, 0);
    self.stats.judgedVersion = from - 1;
    // The first round warms the detectors on the versions before `from`, off the start's path.
    self.warm = { from: Math.max(0, from - warm), to: from - 1 };
    if (from <= snap.version) {
      self.log.info({ appId: self.appId, from, to: snap.version, recorded }, 'inline anomalies: catching up on readings commits');
    }
    // Listening before the catch-up runs: a commit landing meanwhile raises the target instead of being missed.
    opts.ingest.onCommit((c) => self.committed(c.version));
    self.committed(snap.version);
    return self;
  }

  /** Resolves once `version` is judged and its findings written (or the component stopped). */
  whenJudged(version: number): Promise<void> {
    if (this.stopped || (this.stats.judgedVersion >= version && this.pending.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ version, resolve }));
  }

  /** Finishes the round in progress (writing its findings), then ignores further commits. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.running;
    if (this.pending.length > 0) await this.record().catch((e: unknown) => this.log.error({ err: e, appId: this.appId }, 'inline anomalies: findings not written at stop; the next start judges those commits again'));
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  private committed(version: number): void {
    if (this.stopped) return;
    this.target = Math.max(this.target, version);
    this.running ??= this.pump().finally(() => {
      this.running = null;
      // A commit that arrived as the last round ended.
      if (!this.stopped && (this.stats.judgedVersion < this.target || this.pending.length > 0) && !this.retry) this.committed(this.target);
    });
  }

  private async pump(): Promise<void> {
    const perRound = this.o.versionsPerRound ?? 50;
    if (this.warm) {
      const { from, to } = this.warm;
      this.warm = null;
      for (let v = from; v <= to && !this.stopped; v++) await this.judge(v, false);
    }
    while (!this.stopped && this.stats.judgedVersion < this.target) {
      const to = Math.min(this.target, this.stats.judgedVersion + perRound);
      for (let v = this.stats.judgedVersion + 1; v <= to; v++) {
        await this.judge(v, true);
        this.stats.judgedVersion = v;
      }
      try {
        await this.record();
      } catch (e) {
        // The findings stay pending; the next commit or the retry timer writes them under a later txn version.
        this.log.error({ err: e, appId: this.appId, pending: this.pending.length }, 'inline anomalies: writing findings failed; retrying');
        this.retry ??= setTimeout(() => {
          this.retry = null;
          this.committed(this.target);
        }, RETRY_MS);
        this.retry.unref();
        return;
      }
    }
  }

  /** Writes pending findings (or, now and then, an empty progress mark) under the txn of the last judged version. */
  private async record(): Promise<void> {
    const version = this.stats.judgedVersion;
    if (version <= this.stats.recordedVersion) return this.release();
    const due = Date.now() - this.lastWriteMs >= (this.o.markEveryMs ?? 300_000);
    if (this.pending.length === 0 && !due) return this.release();
    const rows = this.pending;
    // No rows: a commit of the txn alone (an empty table would write an empty data file).
    const r = await this.anomalies.write(rows.length > 0 ? anomaliesTable(rows, (f) => f.version) : [], { txn: { appId: this.appId, version } });
    this.pending = [];
    this.lastWriteMs = Date.now();
    this.stats.recordedVersion = version;
    // null: a previous run already recorded this version (its findings are there, not ours): nothing to count.
    if (r.version !== null) {
      this.stats.findings += rows.length;
      for (const f of rows) {
        this.counter?.inc({ detector: f.detector });
        this.log.info(
          { sensorId: f.sensorId, asset: f.asset, tsStart: new Date(f.tsStart / 1000).toISOString(), tsEnd: new Date(f.tsEnd / 1000).toISOString(), score: f.score, detector: f.detector, readingsVersion: f.version, reason: f.reason },
          'inline anomaly',
        );
      }
    }
    this.release();
  }

  private release(): void {
    if (this.pending.length > 0) return;
    const done = this.stats.judgedVersion;
    this.waiters = this.waiters.filter((w) => (w.version <= done ? (w.resolve(), false) : true));
  }

  /** Feeds the readings `version` added (if it is one of this server's ingest commits) to the detectors. */
  private async judge(version: number, speak: boolean): Promise<void> {
    let rows: Map<string, { ts: number[]; values: number[] }> | null;
    try {
      rows = await this.commitRows(version);
    } catch (e) {
      // A commit or file removed since (log cleanup, vacuum after compaction): nothing left to judge there.
      this.stats.skipped++;
      this.log.warn({ err: e, version, table: this.readings.location }, 'inline anomalies: cannot read this readings version; skipped');
      return;
    }
    if (!rows) return;
    if (speak) this.stats.commits++;
    if ([...rows.keys()].some((id) => !this.sensors.has(id) && !this.info.has(id))) await this.reloadSensors();
    for (const id of [...rows.keys()].sort()) {
      const info = this.info.get(id);
      if (info?.kind === 'state') continue;
      const r = rows.get(id)!;
      const order = r.ts.map((_, i) => i).sort((a, b) => r.ts[a] - r.ts[b]);
      let s = this.sensors.get(id);
      if (!s) {
        const ctx = { validMin: info?.valid_min ?? null, validMax: info?.valid_max ?? null, intervalUs: info?.interval_s ? info.interval_s * 1e6 : null };
        s = { det: new OnlineDetector(id, info?.asset ?? assetFromId(id), ctx, this.o.detector), lastTs: -Infinity };
        this.sensors.set(id, s);
      }
      for (const i of order) {
        const ts = r.ts[i];
        if (ts <= s.lastTs) {
          if (speak) this.stats.late++;
          continue;
        }
        s.lastTs = ts;
        if (speak) this.stats.readings++;
        const a = s.det.push(ts, r.values[i]);
        if (a && speak) this.pending.push({ ...a, version });
      }
    }
  }

  /** Numeric readings (by sensor) of the files `version` added, or null when it is not this server's ingest commit. */
  private async commitRows(version: number): Promise<Map<string, { ts: number[]; values: number[] }> | null> {
    const changes = await this.readings.commitChanges(version, { columns: COLUMNS });
    if (!changes.txns.has(this.o.ingest.serverId)) return null;
    const out = new Map<string, { ts: number[]; values: number[] }>();
    for await (const b of changes.scan()) {
      const ts = b.getChild('ts')!.toArray() as BigInt64Array;
      const ids = b.getChild('sensor_id')!;
      const value = b.getChild('value')!;
      const raw = value.toArray() as Float64Array;
      for (let i = 0; i < b.numRows; i++) {
        const v = value.nullCount > 0 && !value.isValid(i) ? NaN : raw[i];
        if (!Number.isFinite(v)) continue;
        const id = ids.get(i) as string;
        let r = out.get(id);
        if (!r) out.set(id, (r = { ts: [], values: [] }));
        r.ts.push(Number(ts[i]));
        r.values.push(v);
      }
    }
    return out;
  }

  private async reloadSensors(): Promise<void> {
    if (Date.now() - this.infoLoadedAt < SENSORS_RELOAD_MS) return;
    this.infoLoadedAt = Date.now();
    try {
      this.info = await loadSensors(this.o.lake);
    } catch (e) {
      this.log.warn({ err: e }, 'inline anomalies: sensors table unreadable; judging without valid ranges');
    }
  }
}


/** One counter per registry, also when a second component starts on it (a restart in the same process). */
function counterIn(registry: Registry): Counter<'detector'> {
  const existing = registry.getSingleMetric(INLINE_ANOMALIES_METRIC);
  if (existing) return existing as Counter<'detector'>;
  return new Counter({ name: INLINE_ANOMALIES_METRIC, help: 'anomalies flagged inline by live ingest, by detector', labelNames: ['detector'], registers: [registry] });
}

function count(v: number, name: string, min: number): number {
  if (!Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError(`inline anomalies: ${name} must be a whole number >= ${min}, not ${v}`);
  return v;
}
