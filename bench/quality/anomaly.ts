// Anomaly detection measured two ways. NAB: every corpus file is backfilled into a temporary lake with the real
// backfill (sensor id = its path, naive times as UTC), read back with loadSeries, run through detectAnomalies, and
// scored by NAB's own rules (nab-score.ts). Simulator: a plant with injected spikes and stuck values is backfilled
// and detected the same way, and the detections are matched against truth.json. Prints a table and one JSON line.
//
// Usage: node dist/bench/quality/anomaly.js        (NAB read from ../shared/data/nab, or $SENSORLAKE_NAB_DIR)

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as arrow from 'apache-arrow';
import { backfill } from '../../src/backfill/run.js';
import { DeltaTable } from '../../src/delta/table.js';
import { detectAnomalies, OnlineDetector, type AnomalyOptions, type Detection } from '../../src/quality/anomaly/index.js';
import type { Anomaly, Series } from '../../src/quality/contract.js';
import { typicalInterval } from '../../src/quality/anomaly/profile.js';
import { loadSensors, loadSeries } from '../../src/quality/series.js';
import { simulate } from '../../src/sim/simulate.js';
import type { Truth } from '../../src/sim/truth.js';
import { SOURCE_SCHEMA, type SourceChunk } from '../../src/sources/batch.js';
import { readSource, resolveInputs } from '../../src/sources/index.js';
import { defaultNabDir, readNabCsv, readNabWindows } from './nab-corpus.js';
import { NAB_PROFILES, nabScore, probationaryLength, type NabFile, type NabProfile, type NabResult } from './nab-score.js';

export interface Row {
  what: string;
  where: string;
  metric: string;
  value: number | string;
  target: string;
}

/** NAB sweeps its own threshold over the scores, so nothing is cut below the lake's default minScore here. */
export const NAB_OPTIONS: AnomalyOptions = { minScore: 0 };

/** A wide-CSV batch whose one tag column ("value") becomes the sensor `id`. */
function renameSensor(batch: arrow.RecordBatch, id: string): arrow.RecordBatch {
  const n = batch.numRows;
  const type = SOURCE_SCHEMA.fields[1].type as arrow.Dictionary<arrow.Utf8, arrow.Int32>;
  const ids = arrow.makeData({ type, length: n, nullCount: 0, data: new Int32Array(n), dictionary: arrow.vectorFromArray([id], new arrow.Utf8()) });
  const children = batch.data.children.slice();
  children[1] = ids as unknown as (typeof children)[number];
  return new arrow.RecordBatch(SOURCE_SCHEMA, arrow.makeData({ type: new arrow.Struct(SOURCE_SCHEMA.fields), length: n, nullCount: 0, children }));
}

/** Backfills every NAB data file into `lake` with the real backfill; the sensor id is the path without .csv. */
export async function ingestNab(nabDir: string, lake: string): Promise<{ read: number; written: number; seconds: number }> {
  const t0 = performance.now();
  const report = await backfill({
    source: path.join(nabDir, '*', '*.csv'),
    lake,
    format: 'wide-csv',
    config: { time: { zone: 'UTC' }, wideCsv: { tsColumn: 'timestamp' } },
    window: '7d',
    partition: 'month',
    worker: false,
    // The wide-CSV reader names the sensor after the column ("value"); NAB names it by the file.
    reader: async function* (inputs, config): AsyncGenerator<SourceChunk> {
      for (const input of inputs) {
        const id = input.source.replace(/\.csv$/, '');
        for await (const chunk of readSource((await resolveInputs(input.file))[0], 'wide-csv', config)) {
          yield chunk.batch ? { ...chunk, batch: renameSensor(chunk.batch, id) } : chunk;
        }
      }
    },
  });
  return { read: report.read, written: report.written, seconds: (performance.now() - t0) / 1000 };
}

/**
 * NAB's anomaly_score column for a data file's records (`ts`, repeats included): the highest alert score any
 * detector raised at the reading with that timestamp, 0 elsewhere. A timestamp the file repeats (a DST fall-back
 * hour written in naive local time) is one reading in the lake: its first record carries the score, repeats 0.
 */
export function alertScores(ts: Float64Array, dets: readonly Detection[]): Float64Array {
  const best = new Map<number, number>();
  for (const d of dets) for (const a of d.alerts) best.set(a.ts, Math.max(best.get(a.ts) ?? 0, a.score));
  const scores = new Float64Array(ts.length);
  const seen = new Set<number>();
  for (let i = 0; i < ts.length; i++) {
    if (seen.has(ts[i])) continue;
    seen.add(ts[i]);
    scores[i] = best.get(ts[i]) ?? 0;
  }
  return scores;
}

/** Whether a lake series holds exactly the CSV's readings: every timestamp once, with one of the CSV's values for it. */
function sameReadings(lake: Series, csv: { ts: Float64Array; values: Float64Array }): boolean {
  const want = new Map<number, number[]>();
  csv.ts.forEach((t, i) => want.set(t, [...(want.get(t) ?? []), csv.values[i]]));
  if (want.size !== lake.ts.length) return false;
  return Array.from(lake.ts).every((t, i) => want.get(t)?.includes(lake.values[i]) === true);
}

export interface NabRun {
  results: Record<NabProfile, NabResult>;
  files: number;
  /** Records of the data files, and readings in the lake (repeated timestamps are one reading). */
  records: number;
  readings: number;
  /** Whether every series read back from the lake holds its CSV's readings exactly. */
  identical: boolean;
  seconds: { backfill: number; load: number; detect: number };
  published: Record<string, Record<string, number>>;
}

/** NAB through the pipeline: backfill, loadSeries, detectAnomalies, NAB scoring. */
export async function runNab(nabDir = defaultNabDir(), opts: AnomalyOptions = NAB_OPTIONS): Promise<NabRun> {
  const windows = await readNabWindows(nabDir);
  const work = await mkdtemp(path.join(tmpdir(), 'sensorlake-nab-'));
  try {
    const lake = path.join(work, 'lake');
    const ingest = await ingestNab(nabDir, lake);
    const t0 = performance.now();
    const series = new Map((await loadSeries(lake)).map((s) => [s.sensorId, s]));
    const t1 = performance.now();
    let identical = true;
    const files: NabFile[] = [];
    let detectMs = 0;
    let readings = 0;
    for (const [name, ws] of [...windows].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const s = series.get(name);
      if (!s) throw new Error(`NAB file ${name} is not in the lake after backfill`);
      const csv = await readNabCsv(nabDir, name);
      identical &&= sameReadings(s, csv);
      readings += s.ts.length;
      const d0 = performance.now();
      // The reading interval, as the sensors table would give it, read from the probationary records only: nothing a
      // detector is told comes from later in the file.
      const intervalUs = typicalInterval(s.ts.subarray(0, Math.max(2, probationaryLength(s.ts.length))));
      const dets = detectAnomalies(s, { intervalUs }, opts);
      detectMs += performance.now() - d0;
      // Scored on NAB's own record list, so probation and window positions count records exactly as NAB does.
      files.push({ name, ts: csv.ts, scores: alertScores(csv.ts, dets), windows: ws });
    }
    const results = Object.fromEntries((Object.keys(NAB_PROFILES) as NabProfile[]).map((p) => [p, nabScore(files, p)])) as Record<NabProfile, NabResult>;
    const published = JSON.parse(await readFile(path.join(nabDir, 'results', 'final_results.json'), 'utf8')) as Record<string, Record<string, number>>;
    return {
      results,
      files: files.length,
      records: files.reduce((n, f) => n + f.ts.length, 0),
      readings,
      identical,
      seconds: { backfill: ingest.seconds, load: (t1 - t0) / 1000, detect: detectMs / 1000 },
      published,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface SimScore {
  spikes: number;
  spikesFound: number;
  stuck: number;
  stuckFound: number;
  detections: number;
  /** Detections overlapping an injected spike or stuck interval. */
  onFault: number;
  precision: number;
  /** Of the other detections, those within 10 minutes after their asset changed state (RUNNING, IDLE, ...). */
  atStateChange: number;
  byDetector: Record<string, { detections: number; onFault: number; atStateChange: number }>;
  /** The live form (OnlineDetector per sensor, fed reading by reading): its anomalies and those on injected spikes. */
  online: { anomalies: number; onFault: number; spikesFound: number };
  seconds: number;
}

/** Simulated plant with default faults: recall of injected spikes and stuck values, precision of all detections. */
export async function runSim(work: string, seed = 31, hours = 72): Promise<SimScore> {
  const dir = path.join(work, 'sim');
  const lake = path.join(work, 'sim-lake');
  const from = new Date(Date.UTC(2024, 0, 8));
  const sim = await simulate({ out: dir, format: 'csv', sensors: 40, interval: '10s', seed, faults: 'default', from, to: new Date(from.getTime() + hours * 3_600_000), force: true });
  await backfill({ source: dir, lake, sensors: sim.sensorsFile, window: '1d' });
  const truth = JSON.parse(await readFile(sim.truthFile, 'utf8')) as Truth;
  const sensors = await loadSensors(lake);
  const t0 = performance.now();
  const dets: Detection[] = [];
  const live: Anomaly[] = [];
  for (const s of await loadSeries(lake)) {
    const info = sensors.get(s.sensorId);
    if (info?.kind === 'state' || s.values.every((v) => Number.isNaN(v))) continue;
    const ctx = { validMin: info?.valid_min ?? null, validMax: info?.valid_max ?? null, intervalUs: info?.interval_s ? info.interval_s * 1e6 : null };
    dets.push(...detectAnomalies(s, ctx));
    const online = new OnlineDetector(s.sensorId, s.asset, ctx);
    for (let i = 0; i < s.ts.length; i++) {
      const a = online.push(s.ts[i], s.values[i]);
      if (a) live.push(a);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const us = (iso: string): number => Date.parse(iso) * 1000;
  const slack = (id: string): number => 2 * (sensors.get(id)?.interval_s ?? truth.intervalSeconds) * 1e6;
  const faults = truth.faults.flatMap((f) => {
    if (f.kind === 'spike') return [{ kind: 'spike', id: f.sensor_id, from: us(f.ts), to: us(f.ts) }];
    if (f.kind === 'stuck') return [{ kind: 'stuck', id: f.sensor_id, from: us(f.from), to: us(f.to) }];
    return [];
  });
  const overlaps = (d: Anomaly, f: (typeof faults)[number]): boolean => d.sensorId === f.id && d.tsStart <= f.to + slack(f.id) && d.tsEnd >= f.from - slack(f.id);
  const found = faults.map((f) => dets.some((d) => overlaps(d, f)));
  const changes = await stateChanges(lake, truth);
  const afterChange = (d: Detection): boolean => (changes.get(d.asset ?? '') ?? []).some((t) => t <= d.tsDetected && t >= d.tsStart - 600e6);
  const byDetector: SimScore['byDetector'] = {};
  let onFault = 0;
  let atStateChange = 0;
  for (const d of dets) {
    const hit = faults.some((f) => overlaps(d, f));
    onFault += hit ? 1 : 0;
    const change = !hit && afterChange(d);
    if (change) atStateChange++;
    const b = (byDetector[d.detector] ??= { detections: 0, onFault: 0, atStateChange: 0 });
    b.detections++;
    b.onFault += hit ? 1 : 0;
    b.atStateChange += change ? 1 : 0;
  }
  const count = (kind: string, hit?: boolean): number => faults.filter((f, i) => f.kind === kind && (hit === undefined || found[i] === hit)).length;
  return {
    spikes: count('spike'),
    spikesFound: count('spike', true),
    stuck: count('stuck'),
    stuckFound: count('stuck', true),
    detections: dets.length,
    onFault,
    precision: dets.length ? onFault / dets.length : 0,
    atStateChange,
    byDetector,
    online: {
      anomalies: live.length,
      onFault: live.filter((a) => faults.some((f) => overlaps(a, f))).length,
      spikesFound: faults.filter((f) => f.kind === 'spike' && live.some((a) => overlaps(a, f))).length,
    },
    seconds,
  };
}

/** When each asset's state sensor changed value (µs), from the readings table's value_text. */
async function stateChanges(lake: string, truth: Truth): Promise<Map<string, number[]>> {
  const ids = truth.assets.flatMap((a) => a.sensors.filter((id) => id.endsWith('/state')));
  const out = new Map<string, number[]>();
  if (ids.length === 0) return out;
  const table = await DeltaTable.open(path.join(lake, 'readings'));
  const rows: { ts: number; id: string; v: string }[] = [];
  for await (const b of table.scan({ where: `sensor_id IN (${ids.map((i) => `'${i}'`).join(', ')})`, columns: ['ts', 'sensor_id', 'value_text'] })) {
    const ts = b.getChild('ts')!.toArray() as BigInt64Array;
    const id = b.getChild('sensor_id')!;
    const v = b.getChild('value_text')!;
    for (let i = 0; i < b.numRows; i++) rows.push({ ts: Number(ts[i]), id: String(id.get(i)), v: String(v.get(i)) });
  }
  rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.ts - b.ts));
  for (let i = 1; i < rows.length; i++) {
    if (rows[i].id !== rows[i - 1].id || rows[i].v === rows[i - 1].v) continue;
    const asset = rows[i].id.slice(0, rows[i].id.lastIndexOf('/'));
    out.set(asset, [...(out.get(asset) ?? []), rows[i].ts]);
  }
  return out;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

export async function anomalyBench(): Promise<Row[]> {
  const nab = await runNab();
  const rows: Row[] = [];
  const where = `NAB v1.1, ${nab.files} files, ${nab.records} records, via backfill + loadSeries`;
  const pub = nab.published;
  rows.push({ what: 'NAB score', where, metric: 'standard profile', value: r2(nab.results.standard.normalized), target: `>= 60 (Skyline ${r2(pub.earthgeckoSkyline.standard)}, KNN-CAD ${r2(pub.knncad.standard)}, Numenta HTM ${r2(pub.numenta.standard)})` });
  rows.push({ what: 'NAB score', where, metric: 'reward low FP', value: r2(nab.results.reward_low_FP_rate.normalized), target: `(Numenta HTM ${r2(pub.numenta.reward_low_FP_rate)})` });
  rows.push({ what: 'NAB score', where, metric: 'reward low FN', value: r2(nab.results.reward_low_FN_rate.normalized), target: `(Numenta HTM ${r2(pub.numenta.reward_low_FN_rate)})` });
  rows.push({ what: 'NAB threshold', where, metric: 'standard, optimised over the corpus', value: r2(nab.results.standard.threshold), target: '(alert score cut-off)' });
  rows.push({ what: 'NAB lake round trip', where, metric: 'readings = CSV records less repeated timestamps', value: nab.identical ? 'yes' : 'NO', target: `yes (${nab.readings} readings of ${nab.records} records)` });
  rows.push({ what: 'NAB detect time', where, metric: 'seconds (all files)', value: r2(nab.seconds.detect), target: '' });
  const work = await mkdtemp(path.join(tmpdir(), 'sensorlake-anomaly-sim-'));
  try {
    const sim = await runSim(work);
    const simWhere = 'sensorlake simulate, 40 sensors, 10 s, 72 h, default faults, seed 31';
    rows.push({ what: 'injected spikes', where: simWhere, metric: 'recall', value: sim.spikes ? r2(sim.spikesFound / sim.spikes) : 'n/a', target: `${sim.spikesFound} of ${sim.spikes}` });
    rows.push({ what: 'injected stuck values', where: simWhere, metric: 'recall', value: sim.stuck ? r2(sim.stuckFound / sim.stuck) : 'n/a', target: `${sim.stuckFound} of ${sim.stuck}` });
    rows.push({ what: 'detections on injected spikes/stuck', where: simWhere, metric: 'precision', value: r2(sim.precision), target: `${sim.onFault} of ${sim.detections}` });
    const other = sim.detections - sim.onFault;
    rows.push({ what: 'other detections after a state change', where: simWhere, metric: 'share', value: other ? r2(sim.atStateChange / other) : 'n/a', target: `${sim.atStateChange} of ${other} (real process events, not injected faults)` });
    rows.push({ what: 'online detector: injected spikes', where: simWhere, metric: 'recall', value: sim.spikes ? r2(sim.online.spikesFound / sim.spikes) : 'n/a', target: `${sim.online.spikesFound} of ${sim.spikes}` });
    rows.push({ what: 'online detector: anomalies on injected faults', where: simWhere, metric: 'precision', value: sim.online.anomalies ? r2(sim.online.onFault / sim.online.anomalies) : 'n/a', target: `${sim.online.onFault} of ${sim.online.anomalies}` });
    for (const [d, b] of Object.entries(sim.byDetector).sort()) {
      rows.push({ what: `  ${d}`, where: simWhere, metric: 'precision', value: r2(b.detections ? b.onFault / b.detections : 0), target: `${b.onFault} of ${b.detections}; ${b.atStateChange} others after a state change` });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return rows;
}

function printTable(rows: Row[]): void {
  const cols: (keyof Row)[] = ['what', 'metric', 'value', 'target', 'where'];
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(width[i])).join('  ').trimEnd();
  process.stdout.write(`${line(cols)}\n${line(width.map((w) => '-'.repeat(w)))}\n`);
  for (const r of rows) process.stdout.write(`${line(cols.map((c) => String(r[c])))}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await anomalyBench();
  printTable(rows);
  process.stdout.write(`${JSON.stringify({ bench: 'quality/anomaly', rows })}\n`);
}
