// Writing a quality run's rows: each table gets one commit under txn(appId, readings version), replacing exactly the
// rows of the regions the run recomputed (or everything, on a full run). Readings are only read: readings_imputed
// gets a copy of the region's readings plus the fills.

import * as arrow from 'apache-arrow';
import type { DeltaTable, Predicate, WriteOptions, WriteResult } from '../delta/table.js';
import type { Anomaly } from './contract.js';
import type { CausalPair } from './causal.js';
import type { Fill } from './impute.js';
import type { GapRow, Region } from './analyze.js';
import { bools, days, doubles, longs, strings, timestamps } from './tables.js';
import { QUALITY, type PartitionScheme } from '../backfill/lake.js';
import { dayText, monthText } from '../backfill/plan.js';

/** Source column of the rows quality fills in. */
export const FILL_SOURCE = 'sensorlake quality';
const CHUNK = 100_000;

type Literal = bigint | string;
const and = (...args: Predicate[]): Predicate => ({ op: 'and', args });
const or = (args: Predicate[]): Predicate => (args.length === 1 ? args[0] : { op: 'or', args });
const inList = (column: string, values: string[]): Predicate => ({ op: 'in', column, values });
const ge = (column: string, value: Literal): Predicate => ({ op: '>=', column, value });
const le = (column: string, value: Literal): Predicate => ({ op: '<=', column, value });
const us = (t: number): bigint => BigInt(Math.round(t));

/** Sensors grouped by identical regions, so a predicate has one clause per group rather than per sensor. */
export function groupRegions(regions: ReadonlyMap<string, Region>): { region: Region; ids: string[] }[] {
  const by = new Map<string, { region: Region; ids: string[] }>();
  for (const [id, r] of regions) {
    const k = `${r.from}|${r.to}`;
    const g = by.get(k) ?? { region: r, ids: [] };
    g.ids.push(id);
    by.set(k, g);
  }
  return [...by.values()].map((g) => ({ region: g.region, ids: g.ids.sort() }));
}

/** Clauses for columns [lo, hi] within each group's region; a side at ±Infinity adds no bound. */
function regionPredicate(groups: { region: Region; ids: string[] }[], lo: string, hi: string): Predicate {
  return or(
    groups.map(({ region, ids }) => {
      const parts: Predicate[] = [inList('sensor_id', ids)];
      if (Number.isFinite(region.from)) parts.push(ge(lo, us(region.from)));
      if (Number.isFinite(region.to)) parts.push(le(hi, us(region.to)));
      return parts.length === 1 ? parts[0] : and(...parts);
    }),
  );
}

export function gapsPredicate(regions: ReadonlyMap<string, Region>): Predicate {
  return regionPredicate(groupRegions(regions), 'start', 'end');
}

/**
 * Anomalies ending inside or after each sensor's region start (an open interval may have grown), and the asset-level
 * findings (sensor_id null) ending after each asset's `assetFrom`.
 */
export function anomaliesPredicate(regions: ReadonlyMap<string, Region>, assetFrom: ReadonlyMap<string | null, number> = new Map()): Predicate {
  const open = new Map([...regions].map(([id, r]) => [id, { from: r.from, to: Infinity }]));
  const clauses: Predicate[] = [regionPredicate(groupRegions(open), 'ts_end', 'ts_end')];
  for (const [asset, from] of assetFrom) {
    const parts: Predicate[] = [{ op: 'isNull', column: 'sensor_id' }, asset === null ? { op: 'isNull', column: 'asset' } : inList('asset', [asset])];
    if (Number.isFinite(from)) parts.push(ge('ts_end', us(from)));
    clauses.push(and(...parts));
  }
  return or(clauses);
}

/** Rows of the regions in readings (or readings_imputed), with partition bounds so whole partitions prune. */
export function readingsRegionPredicate(regions: ReadonlyMap<string, Region>, partition: PartitionScheme): Predicate {
  const groups = groupRegions(regions);
  const p = regionPredicate(groups, 'ts', 'ts');
  const lo = Math.min(...groups.map((g) => g.region.from));
  const hi = Math.max(...groups.map((g) => g.region.to));
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return p;
  const bounds = partition === 'date' ? [ge('date', dayText(Math.floor(lo / 86_400e6))), le('date', dayText(Math.floor(hi / 86_400e6)))] : [ge('month', monthText(lo)), le('month', monthText(hi))];
  return and(...bounds, p);
}

export function causalPredicate(assets: (string | null)[]): Predicate {
  const named = assets.filter((a): a is string => a !== null);
  const parts: Predicate[] = [];
  if (named.length > 0) parts.push(inList('asset', named));
  if (named.length < assets.length) parts.push({ op: 'isNull', column: 'asset' });
  return or(parts);
}

// ---------------------------------------------------------------------------------------------------------------
// Rows to Arrow.

export function gapsTable(rows: GapRow[], version: number): arrow.Table {
  return new arrow.Table({
    sensor_id: strings(rows.map((g) => g.sensorId)),
    asset: strings(rows.map((g) => g.asset)),
    start: timestamps(rows.map((g) => g.start)),
    end: timestamps(rows.map((g) => g.end)),
    missing: longs(rows.map((g) => g.missing)),
    interval_s: doubles(rows.map((g) => g.intervalUs / 1e6)),
    interval_inferred: bools(rows.map((g) => g.intervalInferred)),
    readings_version: longs(rows.map(() => version)),
  });
}

/** `version`: the readings version judged, one for all rows or each row's own (live findings span commits). */
export function anomaliesTable<A extends Anomaly>(rows: A[], version: number | ((row: A) => number)): arrow.Table {
  const versionOf = typeof version === 'number' ? (): number => version : version;
  return new arrow.Table({
    sensor_id: strings(rows.map((a) => a.sensorId)),
    asset: strings(rows.map((a) => a.asset)),
    ts_start: timestamps(rows.map((a) => a.tsStart)),
    ts_end: timestamps(rows.map((a) => a.tsEnd)),
    score: doubles(rows.map((a) => a.score)),
    detector: strings(rows.map((a) => a.detector)),
    reason: strings(rows.map((a) => a.reason)),
    readings_version: longs(rows.map(versionOf)),
  });
}

export interface CausalRow extends CausalPair {
  from: number;
  to: number;
}

export function causalTable(rows: CausalRow[], version: number): arrow.Table {
  return new arrow.Table({
    asset: strings(rows.map((p) => p.asset)),
    leader: strings(rows.map((p) => p.leader)),
    follower: strings(rows.map((p) => p.follower)),
    lag_s: doubles(rows.map((p) => p.lagS)),
    strength: doubles(rows.map((p) => p.strength)),
    correlation: doubles(rows.map((p) => p.correlation)),
    p_value: doubles(rows.map((p) => p.pValue)),
    partial_r2: doubles(rows.map((p) => p.partialR2)),
    rows: longs(rows.map((p) => p.n)),
    window_start: timestamps(rows.map((p) => p.from)),
    window_end: timestamps(rows.map((p) => p.to)),
    readings_version: longs(rows.map(() => version)),
  });
}

/** Scanned readings as readings_imputed rows: the same columns, imputed=false, no method. */
export function withImputedColumns(batch: arrow.RecordBatch | arrow.Table): arrow.Table {
  const cols: Record<string, arrow.Vector> = {};
  for (const f of batch.schema.fields) cols[f.name] = batch.getChild(f.name)!;
  cols.imputed = bools(new Array<boolean>(batch.numRows).fill(false));
  cols.method = arrow.vectorFromArray(new Array<string | null>(batch.numRows).fill(null), new arrow.Utf8());
  return new arrow.Table(cols);
}

/** Fill rows: quality uncertain (a substituted value), source FILL_SOURCE, imputed=true and the method. */
function fillTables(fills: Fill[], partition: PartitionScheme): arrow.Table[] {
  const rows: { ts: number; sensorId: string; value: number; method: string }[] = [];
  for (const f of fills) for (let j = 0; j < f.ts.length; j++) rows.push({ ts: f.ts[j], sensorId: f.sensorId, value: f.values[j], method: f.method });
  const out: arrow.Table[] = [];
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    const ts = part.map((r) => r.ts);
    const cols: Record<string, arrow.Vector> = {
      ts: timestamps(ts),
      sensor_id: strings(part.map((r) => r.sensorId)),
      value: doubles(part.map((r) => r.value)),
      quality: longs(part.map(() => QUALITY.uncertain)),
      source: strings(part.map(() => FILL_SOURCE)),
      date: days(ts),
      imputed: bools(part.map(() => true)),
      method: strings(part.map((r) => r.method)),
    };
    if (partition === 'month') cols.month = strings(ts.map((t) => monthText(t)));
    out.push(new arrow.Table(cols));
  }
  return out;
}

/** The region's readings (as of `version`) and the fills, as one stream for one commit. */
export async function* imputedRows(
  readings: DeltaTable,
  version: number,
  where: Predicate | undefined,
  fills: Fill[],
  partition: PartitionScheme,
): AsyncGenerator<arrow.Table> {
  for await (const b of readings.scan({ version, where })) if (b.numRows > 0) yield withImputedColumns(b);
  yield* fillTables(fills, partition);
}

/** One commit: overwrite (where null: a full run) or replaceWhere, under the run's txn. */
export async function writeRows(
  table: DeltaTable,
  data: arrow.Table | AsyncIterable<arrow.Table>,
  where: Predicate | null,
  txn: { appId: string; version: number } | undefined,
  sortBy: string[],
): Promise<WriteResult> {
  const opts: WriteOptions = { mode: 'overwrite', sortBy, ...(txn ? { txn } : {}) };
  if (where) opts.replaceWhere = where;
  return table.write(data, opts);
}
