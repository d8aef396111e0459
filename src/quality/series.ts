// Reads the lake's `readings` (and `sensors` for assets and intervals) into dense per-sensor Series: the one place
// the quality modules touch the readings table. Scans prune by partition, ts and sensor_id statistics.

import type * as arrow from 'apache-arrow';
import type { Series } from './contract.js';
import { DeltaTable, type Predicate } from '../delta/table.js';
import { lakePaths, findTable, rangePredicate, sensorPredicate, type PartitionScheme } from '../backfill/lake.js';
import { readSensorsTable, type SensorInfo } from '../backfill/sensors.js';
import { NotFoundError } from '../errors.js';

export type { SensorInfo };

export interface LoadSeriesOptions {
  sensorIds?: readonly string[];
  /** Inclusive lower bound, µs since the epoch. */
  from?: number;
  /** Exclusive upper bound, µs since the epoch. */
  to?: number;
  /** Read the readings table as of this version (default latest). */
  version?: number;
}

/** The readings table, or NotFoundError naming the lake when there is none. */
export async function openReadingsTable(lake: string): Promise<DeltaTable> {
  const t = await findTable(lakePaths(lake).readings);
  if (!t) throw new NotFoundError(`${lakePaths(lake).readings}: no readings table; run \`sensorlake backfill --lake ${lake}\` first`);
  return t;
}

/** The sensors table's rows by id (empty when the lake has no sensors table). */
export async function loadSensors(lake: string): Promise<Map<string, SensorInfo>> {
  const t = await findTable(lakePaths(lake).sensors);
  return t ? readSensorsTable(t) : new Map();
}

/** Builds the scan predicate for a time range and sensor list on a readings table partitioned by `partition`. */
export function readingsWhere(partition: PartitionScheme, opts: Pick<LoadSeriesOptions, 'sensorIds' | 'from' | 'to'>): string | undefined {
  const parts: string[] = [];
  if (opts.from !== undefined || opts.to !== undefined) {
    // rangePredicate wants both bounds; an open side becomes the edge of the timestamps we can write.
    parts.push(rangePredicate(opts.from ?? 0, opts.to ?? 253_402_300_800e6, partition));
  }
  if (opts.sensorIds) parts.push(opts.sensorIds.length > 0 ? sensorPredicate({ ids: [...opts.sensorIds] }) : 'sensor_id IS NULL');
  return parts.length > 0 ? parts.join(' AND ') : undefined;
}

export function partitionOf(columns: readonly string[]): PartitionScheme {
  return columns.includes('month') ? 'month' : 'date';
}

interface Acc {
  ts: number[];
  values: number[];
  quality: number[];
}

/** Adds a scanned batch's rows to the per-sensor accumulators. */
function accumulate(batch: arrow.RecordBatch, by: Map<string, Acc>): number {
  const ts = batch.getChild('ts')!;
  const id = batch.getChild('sensor_id')!;
  const value = batch.getChild('value')!;
  const quality = batch.getChild('quality')!;
  const tsRaw = ts.toArray() as BigInt64Array;
  const qRaw = quality.toArray() as BigInt64Array | Int32Array;
  const vRaw = value.toArray() as Float64Array;
  const vNulls = value.nullCount > 0;
  let last = '';
  let acc: Acc | undefined;
  for (let i = 0; i < batch.numRows; i++) {
    const sid = id.get(i) as string;
    if (sid !== last || !acc) {
      last = sid;
      acc = by.get(sid);
      if (!acc) by.set(sid, (acc = { ts: [], values: [], quality: [] }));
    }
    acc.ts.push(Number(tsRaw[i]));
    acc.values.push(vNulls && !value.isValid(i) ? NaN : vRaw[i]);
    // Quality codes are unsigned 32-bit OPC UA codes; the Series keeps their bit pattern in an Int32Array.
    acc.quality.push(Number(qRaw[i]) | 0);
  }
  return batch.numRows;
}

/** Turns accumulated rows into a Series: sorted by ts, one reading per ts (the last scanned wins). */
function toSeries(sensorId: string, a: Acc, asset: string | null): Series {
  const order = a.ts.map((_, i) => i).sort((x, y) => a.ts[x] - a.ts[y] || x - y);
  const keep: number[] = [];
  for (let k = 0; k < order.length; k++) {
    if (k + 1 < order.length && a.ts[order[k + 1]] === a.ts[order[k]]) continue;
    keep.push(order[k]);
  }
  return {
    sensorId,
    asset,
    ts: Float64Array.from(keep, (i) => a.ts[i]),
    values: Float64Array.from(keep, (i) => a.values[i]),
    quality: Int32Array.from(keep, (i) => a.quality[i]),
  };
}

export interface LoadedSeries {
  series: Series[];
  sensors: Map<string, SensorInfo>;
  /** The readings version read. */
  version: number;
  rows: number;
}

/** Series of the readings matching `where` (a predicate string or AST) at one version, sorted by sensor id. */
export async function loadWhere(lake: string, where: string | Predicate | undefined, version?: number): Promise<LoadedSeries> {
  const table = await openReadingsTable(lake);
  const v = version ?? (await table.version());
  const sensors = await loadSensors(lake);
  const by = new Map<string, Acc>();
  let rows = 0;
  for await (const batch of table.scan({ version: v, where, columns: ['ts', 'sensor_id', 'value', 'quality'] })) rows += accumulate(batch, by);
  const ids = [...by.keys()].sort();
  const series = ids.map((id) => toSeries(id, by.get(id)!, sensors.get(id)?.asset ?? assetFromId(id)));
  return { series, sensors, version: v, rows };
}

/** A sensor's asset when the sensors table does not say: the id up to its last '/', as backfill infers it. */
export function assetFromId(id: string): string | null {
  const slash = id.lastIndexOf('/');
  return slash > 0 ? id.slice(0, slash) : null;
}

/** Each sensor's readings in [from, to), as Series sorted by sensor id. */
export async function loadSeries(lake: string, opts: LoadSeriesOptions = {}): Promise<Series[]> {
  const table = await openReadingsTable(lake);
  const snap = await table.snapshot(opts.version === undefined ? {} : { version: opts.version });
  const where = readingsWhere(partitionOf(snap.partitionColumns), opts);
  return (await loadWhere(lake, where, snap.version)).series;
}
