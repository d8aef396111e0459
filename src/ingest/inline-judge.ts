// The judging behind inline anomaly flagging (it runs on its own thread: inline-anomalies.ts): after each readings
// micro-batch commit it reads only the files that commit added, runs every numeric reading through its sensor's
// OnlineDetector (in ts order) and appends what they flag to the `anomalies` table under
// txn(serverId + ":anomalies", readings version), so a restart never writes a finding twice and resumes (bounded)
// from the last version it recorded. `quality run` re-judges later, with context.

import type { Dictionary, Utf8, Vector } from 'apache-arrow';
import { DeltaTable } from '../delta/table.js';
import { lakePaths } from '../backfill/lake.js';
import { OnlineDetector, type AnomalyOptions } from '../quality/anomaly/index.js';
import type { Anomaly } from '../quality/contract.js';
import { assetFromId, loadSensors, type SensorInfo } from '../quality/series.js';
import { openAnomalies } from '../quality/tables.js';
import { anomaliesTable } from '../quality/run-write.js';
import { InvalidArgumentError } from '../errors.js';

/** What the judge is told to do: plain data, so it crosses to the judging thread as is. */
export interface InlineJudgeSettings {
  lake: string;
  /** The ingest server whose commits are judged; it names the txn appId. */
  serverId: string;
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

export type LogLevel = 'info' | 'warn' | 'error';

/** How the judge meets the world: the commits it judges, and where its log lines and findings go. */
export interface InlineJudgeHooks {
  /** Registers the listener for each readings version this server commits from now on. */
  onCommit(listener: (version: number) => void): void;
  log(level: LogLevel, fields: Record<string, unknown>, msg: string): void;
  /** Called once per finding written to `anomalies` (after its commit). */
  found?(detector: string): void;
}

/** Throws when a setting is invalid; the start fails on it rather than the first commit. */
export function checkJudgeSettings(o: InlineJudgeSettings): void {
  count(o.maxCatchUpCommits ?? 600, 'maxCatchUpCommits', 0);
  count(o.warmUpCommits ?? 120, 'warmUpCommits', 0);
  count(o.versionsPerRound ?? 50, 'versionsPerRound', 1);
  new OnlineDetector('check', null, {}, o.detector);
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

export class InlineJudge {
  readonly stats: InlineAnomaliesStats = { commits: 0, readings: 0, findings: 0, late: 0, skipped: 0, judgedVersion: -1, recordedVersion: -1 };
  private readonly appId: string;
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
    private readonly o: InlineJudgeSettings,
    private readonly hooks: InlineJudgeHooks,
    private readonly readings: DeltaTable,
    private readonly anomalies: DeltaTable,
  ) {
    this.appId = `${o.serverId}:anomalies`;
  }

  static async start(opts: InlineJudgeSettings, hooks: InlineJudgeHooks): Promise<InlineJudge> {
    checkJudgeSettings(opts);
    const maxCatchUp = opts.maxCatchUpCommits ?? 600;
    const warm = opts.warmUpCommits ?? 120;
    const readings = await DeltaTable.open(lakePaths(opts.lake).readings);
    const anomalies = await openAnomalies(opts.lake);
    const snap = await readings.snapshot();
    const self = new InlineJudge(opts, hooks, readings, anomalies);
    self.info = await loadSensors(opts.lake);
    self.infoLoadedAt = Date.now();
    const recorded = (await anomalies.txnVersion(self.appId)) ?? -1;
    self.stats.recordedVersion = recorded;
    const from = Math.max(recorded + 1, snap.version - maxCatchUp + 1, 0);
    self.stats.judgedVersion = from - 1;
    // The first round warms the detectors on the versions before `from`, off the start's path.
    self.warm = { from: Math.max(0, from - warm), to: from - 1 };
    if (from <= snap.version) {
      hooks.log('info', { appId: self.appId, from, to: snap.version, recorded }, 'inline anomalies: catching up on readings commits');
    }
    // Listening before the catch-up runs: a commit landing meanwhile raises the target instead of being missed.
    hooks.onCommit((version) => self.committed(version));
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
    if (this.pending.length > 0) await this.record().catch((e: unknown) => this.hooks.log('error', { err: e, appId: this.appId }, 'inline anomalies: findings not written at stop; the next start judges those commits again'));
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
        this.hooks.log('error', { err: e, appId: this.appId, pending: this.pending.length }, 'inline anomalies: writing findings failed; retrying');
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
        this.hooks.found?.(f.detector);
        this.hooks.log(
          'info',
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
      this.hooks.log('warn', { err: e, version, table: this.readings.location }, 'inline anomalies: cannot read this readings version; skipped');
      return;
    }
    if (!rows) return;
    if (speak) this.stats.commits++;
    if ([...rows.keys()].some((id) => !this.sensors.has(id) && !this.info.has(id))) await this.reloadSensors();
    for (const id of [...rows.keys()].sort()) {
      const info = this.info.get(id);
      if (info?.kind === 'state') continue;
      const r = rows.get(id)!;
      const order = inTsOrder(r.ts);
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
    const changes = await this.readings.commitChanges(version, { columns: COLUMNS, keepDictionaries: true });
    if (!changes.txns.has(this.o.serverId)) return null;
    const out = new Map<string, { ts: number[]; values: number[] }>();
    for await (const b of changes.scan()) {
      const ts = b.getChild('ts')!.toArray() as BigInt64Array;
      const ids = sensorIds(b.getChild('sensor_id') as Vector<Dictionary<Utf8>>);
      const value = b.getChild('value')!;
      const raw = value.toArray() as Float64Array;
      let id = '';
      let r: { ts: number[]; values: number[] } | undefined;
      for (let i = 0; i < b.numRows; i++) {
        const v = value.nullCount > 0 && !value.isValid(i) ? NaN : raw[i];
        if (!Number.isFinite(v)) continue;
        // Files are sorted by sensor: the map is consulted once per run of one sensor, not per reading.
        if (r === undefined || ids[i] !== id) {
          id = ids[i];
          r = out.get(id);
          if (!r) out.set(id, (r = { ts: [], values: [] }));
        }
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
      this.hooks.log('warn', { err: e }, 'inline anomalies: sensors table unreadable; judging without valid ranges');
    }
  }
}


/** Indices of ts in ascending order (a commit's rows of one sensor usually already are). */
function inTsOrder(ts: number[]): number[] {
  const order = ts.map((_, i) => i);
  for (let i = 1; i < ts.length; i++) if (ts[i] < ts[i - 1]) return order.sort((a, b) => ts[a] - ts[b]);
  return order;
}

/** Each row's sensor id from a dictionary column (keepDictionaries): each distinct id is decoded once, not per row. */
function sensorIds(col: Vector<Dictionary<Utf8>>): string[] {
  const out = new Array<string>(col.length);
  let at = 0;
  for (const data of col.data) {
    const names = [...data.dictionary!].map(String);
    const keys = data.values as ArrayLike<number>;
    for (let i = 0; i < data.length; i++) out[at + i] = names[keys[data.offset + i]];
    at += data.length;
  }
  return out;
}

function count(v: number, name: string, min: number): number {
  if (!Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError(`inline anomalies: ${name} must be a whole number >= ${min}, not ${v}`);
  return v;
}
