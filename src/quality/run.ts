// `sensorlake quality run`: gaps, gap fills, anomalies and lead-lag pairs for the lake. The first run reads the whole
// readings table; later runs read only what was committed since (the readings version each output table last
// recorded under txn appId 'quality'), with look-back context for the rolling detectors and the imputers, and
// replace exactly the rows of the regions they recompute. A rerun after a crash redoes only the tables not done.

import type { Series } from './contract.js';
import { openReadingsTable, loadWhere, partitionOf, readingsWhere, assetFromId, type LoadedSeries, type SensorInfo } from './series.js';
import { analyzeAsset, EVERYTHING, type AnalyzeOptions, type AssetAnalysis, type Region } from './analyze.js';
import { dirtyBox, type DirtyBox } from './run-region.js';
import { openAnomalies, openCausal, openGaps, openImputed, QUALITY_TABLES, type QualityTable } from './tables.js';
import {
  anomaliesPredicate,
  anomaliesTable,
  causalPredicate,
  causalTable,
  gapsPredicate,
  gapsTable,
  imputedRows,
  withImputedColumns,
  readingsRegionPredicate,
  writeRows,
  type CausalRow,
} from './run-write.js';
import { parseDetectors } from './detect.js';
import { sensorPredicate, lakePaths } from '../backfill/lake.js';
import { isoMicros } from '../backfill/plan.js';
import type { DeltaTable } from '../delta/table.js';
import { logger } from '../log.js';

export const QUALITY_APP_ID = 'quality';
const DAY_US = 86_400e6;

export interface QualityRunOptions extends Partial<AnalyzeOptions> {
  /** Recompute everything, whatever earlier runs did. */
  full?: boolean;
  /** Context read before (and after) the new data, seconds (default one day, and at least 1,100 readings). */
  lookbackS?: number;
  /** Txn app id the run records its readings version under (default 'quality'). */
  appId?: string;
}

export interface QualityRunReport {
  lake: string;
  mode: 'full' | 'incremental' | 'up-to-date';
  /** The readings version this run processed, and the one the previous run had (null: none). */
  readingsVersion: number;
  previousVersion: number | null;
  /** Readings in the new data's box (all readings on a full run), and all readings read including context. */
  newRows: number;
  contextRows: number;
  /** Sensors whose rows were recomputed, and their assets. */
  sensors: number;
  assets: number;
  /** Bounds of the new data (ISO), null on a full or up-to-date run. */
  from: string | null;
  to: string | null;
  gaps: number;
  filledGaps: number;
  filledRows: number;
  unfilledGaps: number;
  /** Fills by method. */
  methods: Record<string, number>;
  anomalies: number;
  causalPairs: number;
  /** The version each table was committed at by this run (null: not written, e.g. up to date). */
  versions: Record<QualityTable, number | null>;
  seconds: number;
}

interface Tables {
  gaps: DeltaTable;
  anomalies: DeltaTable;
  readings_imputed: DeltaTable;
  causal_pairs: DeltaTable;
}

function emptyReport(lake: string, mode: QualityRunReport['mode'], v: number, prev: number | null): QualityRunReport {
  return {
    lake,
    mode,
    readingsVersion: v,
    previousVersion: prev,
    newRows: 0,
    contextRows: 0,
    sensors: 0,
    assets: 0,
    from: null,
    to: null,
    gaps: 0,
    filledGaps: 0,
    filledRows: 0,
    unfilledGaps: 0,
    methods: {},
    anomalies: 0,
    causalPairs: 0,
    versions: { gaps: null, anomalies: null, readings_imputed: null, causal_pairs: null },
    seconds: 0,
  };
}

/** The sensors of the given assets: from the sensors table, plus ids whose asset is inferred from their path. */
function membersOf(assets: Set<string | null>, sensors: ReadonlyMap<string, SensorInfo>, seen: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const [id, info] of sensors) if (assets.has(info.asset ?? assetFromId(id))) out.add(id);
  for (const id of seen) out.add(id);
  return [...out].sort();
}

/** Each dirty sensor's region: from its last reading before the new ones to its first reading after them. */
function regionsOf(context: Series[], fresh: Map<string, [number, number]>): Map<string, Region> {
  const out = new Map<string, Region>();
  for (const s of context) {
    const f = fresh.get(s.sensorId);
    if (!f) continue;
    let from = f[0];
    let to = f[1];
    for (let i = 0; i < s.ts.length; i++) {
      if (s.ts[i] < f[0]) from = s.ts[i];
      else if (s.ts[i] > f[1]) {
        to = s.ts[i];
        break;
      }
    }
    out.set(s.sensorId, { from, to });
  }
  return out;
}

async function openTables(lake: string, readings: DeltaTable): Promise<Tables> {
  const snap = await readings.snapshot();
  return {
    gaps: await openGaps(lake),
    anomalies: await openAnomalies(lake),
    readings_imputed: await openImputed(lake, snap.schema, partitionOf(snap.partitionColumns)),
    causal_pairs: await openCausal(lake),
  };
}

function byAsset(series: Series[]): Map<string | null, Series[]> {
  const out = new Map<string | null, Series[]>();
  for (const s of series) {
    const list = out.get(s.asset) ?? [];
    list.push(s);
    out.set(s.asset, list);
  }
  return out;
}

export async function runQuality(lake: string, opts: QualityRunOptions = {}): Promise<QualityRunReport> {
  const started = performance.now();
  const appId = opts.appId ?? QUALITY_APP_ID;
  const detectors = parseDetectors(opts.detectors);
  const readings = await openReadingsTable(lake);
  const snap = await readings.snapshot();
  const v = snap.version;
  const partition = partitionOf(snap.partitionColumns);
  const tables = await openTables(lake, readings);
  const done = await Promise.all(QUALITY_TABLES.map((t) => tables[t].txnVersion(appId)));
  const prev = done.some((d) => d === undefined) ? null : Math.min(...(done as number[]));
  const root = lakePaths(lake).root;
  if (!opts.full && prev !== null && prev >= v) return { ...emptyReport(root, 'up-to-date', v, prev), seconds: (performance.now() - started) / 1000 };

  let loaded: LoadedSeries;
  let regions: Map<string, Region>;
  let newRows: number;
  let box: DirtyBox | null = null;
  let mode: QualityRunReport['mode'];
  if (opts.full || prev === null) {
    mode = 'full';
    loaded = await loadWhere(lake, undefined, v);
    regions = new Map(loaded.series.map((s) => [s.sensorId, EVERYTHING]));
    newRows = loaded.rows;
  } else {
    mode = 'incremental';
    box = await dirtyBox(readings, prev, v);
    if (!box) {
      // Only compaction or removals since: nothing to recompute, but record the version so the next run starts here.
      const report = emptyReport(root, 'up-to-date', v, prev);
      report.versions = await commitEmpty(tables, readings, appId, v);
      return { ...report, seconds: (performance.now() - started) / 1000 };
    }
    const boxWhere = [
      readingsWhere(partition, { from: box.tMin, to: box.tMax + 1000 }),
      box.sMin !== null && box.sMax !== null ? sensorPredicate({ range: [box.sMin, box.sMax] }) : '',
    ].filter(Boolean).join(' AND ');
    const fresh = await loadWhere(lake, boxWhere, v);
    newRows = fresh.rows;
    const spans = new Map(fresh.series.map((s) => [s.sensorId, [s.ts[0], s.ts[s.ts.length - 1]] as [number, number]]));
    const maxInterval = Math.max(0, ...fresh.series.map((s) => fresh.sensors.get(s.sensorId)?.interval_s ?? 0));
    const lookbackUs = Math.max((opts.lookbackS ?? DAY_US / 1e6) * 1e6, 1100 * maxInterval * 1e6);
    const assets = new Set(fresh.series.map((s) => s.asset));
    const ids = membersOf(assets, fresh.sensors, spans.keys());
    loaded = await loadWhere(lake, readingsWhere(partition, { sensorIds: ids, from: box.tMin - lookbackUs, to: box.tMax + 1000 + lookbackUs }), v);
    regions = regionsOf(loaded.series, spans);
  }
  const analysis: AssetAnalysis[] = [];
  for (const [asset, members] of byAsset(loaded.series)) {
    if (!members.some((s) => regions.has(s.sensorId))) continue;
    analysis.push(analyzeAsset(asset, members, regions, loaded.sensors, { ...opts, detectors }));
  }
  logger.debug({ lake: root, mode, assets: analysis.length, sensors: regions.size }, 'quality: analysed');
  const report = emptyReport(root, mode, v, prev);
  report.newRows = newRows;
  report.contextRows = loaded.rows;
  report.sensors = regions.size;
  report.assets = analysis.length;
  report.from = box && Number.isFinite(box.tMin) ? isoMicros(box.tMin) : null;
  report.to = box && Number.isFinite(box.tMax) ? isoMicros(box.tMax) : null;
  if (mode === 'incremental' && regions.size === 0) report.versions = await commitEmpty(tables, readings, appId, v);
  else await writeAll(tables, readings, analysis, regions, { full: mode === 'full', appId, v, partition, txnDone: done }, report);
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** Commits nothing but the txn, on each table: an empty append of the table's own columns. */
async function commitEmpty(tables: Tables, readings: DeltaTable, appId: string, v: number): Promise<Record<QualityTable, number | null>> {
  const txn = { appId, version: v };
  // sensor_id is never null in readings, so this reads no file and gives an empty table of readings' columns.
  const none = await readings.read({ version: v, where: 'sensor_id IS NULL' });
  return {
    gaps: (await tables.gaps.write(gapsTable([], v), { txn })).version,
    anomalies: (await tables.anomalies.write(anomaliesTable([], v), { txn })).version,
    readings_imputed: (await tables.readings_imputed.write(withImputedColumns(none), { txn })).version,
    causal_pairs: (await tables.causal_pairs.write(causalTable([], v), { txn })).version,
  };
}

interface WriteContext {
  full: boolean;
  appId: string;
  v: number;
  partition: ReturnType<typeof partitionOf>;
  txnDone: (number | undefined)[];
}

async function writeAll(tables: Tables, readings: DeltaTable, analysis: AssetAnalysis[], regions: Map<string, Region>, w: WriteContext, report: QualityRunReport): Promise<void> {
  const gaps = analysis.flatMap((a) => a.gaps);
  const fills = analysis.flatMap((a) => a.fills);
  const anomalies = analysis.flatMap((a) => a.anomalies);
  const causal: CausalRow[] = analysis.flatMap((a) => (a.causal ? a.causal.pairs.map((p) => ({ ...p, from: a.causal!.from, to: a.causal!.to })) : []));
  report.gaps = gaps.length;
  report.filledGaps = fills.length;
  report.filledRows = fills.reduce((s, f) => s + f.ts.length, 0);
  report.unfilledGaps = analysis.reduce((s, a) => s + a.unfilled.length, 0);
  for (const f of fills) report.methods[f.method] = (report.methods[f.method] ?? 0) + 1;
  report.anomalies = anomalies.length;
  report.causalPairs = causal.length;
  // A forced full run at a version already recorded writes without a txn (the same txn version would be skipped).
  const txnFor = (i: number): { appId: string; version: number } | undefined => {
    const d = w.txnDone[i];
    return d !== undefined && d >= w.v ? undefined : { appId: w.appId, version: w.v };
  };
  const idx = (t: QualityTable): number => QUALITY_TABLES.indexOf(t);
  const analysed = analysis.map((a) => a.asset);
  const r1 = await writeRows(tables.gaps, gapsTable(gaps, w.v), w.full ? null : gapsPredicate(regions), txnFor(idx('gaps')), ['sensor_id', 'start']);
  report.versions.gaps = r1.version;
  const assetFrom = new Map(analysis.flatMap((a) => (a.assetFrom === null ? [] : [[a.asset, a.assetFrom] as [string | null, number]])));
  const r2 = await writeRows(tables.anomalies, anomaliesTable(anomalies, w.v), w.full ? null : anomaliesPredicate(regions, assetFrom), txnFor(idx('anomalies')), ['sensor_id', 'ts_start']);
  report.versions.anomalies = r2.version;
  const where = w.full ? undefined : readingsRegionPredicate(regions, w.partition);
  const r3 = await writeRows(tables.readings_imputed, imputedRows(readings, w.v, where, fills, w.partition), where ?? null, txnFor(idx('readings_imputed')), ['sensor_id', 'ts']);
  report.versions.readings_imputed = r3.version;
  const r4 = await writeRows(tables.causal_pairs, causalTable(causal, w.v), w.full || analysed.length === 0 ? null : causalPredicate(analysed), txnFor(idx('causal_pairs')), []);
  report.versions.causal_pairs = r4.version;
}
