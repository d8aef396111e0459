// The tables `sensorlake quality run` writes next to `readings`: their schemas, where they live, and turning result
// rows into Arrow tables for DeltaTable.write. Raw readings are never written to; readings_imputed is a copy.

import * as path from 'node:path';
import * as arrow from 'apache-arrow';
import { field, struct, type StructType, type DeltaTable } from '../delta/table.js';
import { lakePaths, openOrCreate, type PartitionScheme } from '../backfill/lake.js';
import { US_PER_DAY } from '../backfill/plan.js';

export const QUALITY_TABLES = ['gaps', 'anomalies', 'readings_imputed', 'causal_pairs'] as const;
export type QualityTable = (typeof QUALITY_TABLES)[number];

export function qualityTablePath(lake: string, name: QualityTable): string {
  return path.join(lakePaths(lake).root, name);
}

export const GAPS_SCHEMA = struct([
  field('sensor_id', 'string', false),
  field('asset', 'string', true),
  // The readings either side of the gap (exclusive bounds).
  field('start', 'timestamp', false),
  field('end', 'timestamp', false),
  field('missing', 'long', false),
  field('interval_s', 'double', false),
  field('interval_inferred', 'boolean', false),
  field('readings_version', 'long', false),
]);

export const ANOMALIES_SCHEMA = struct([
  field('sensor_id', 'string', true),
  field('asset', 'string', true),
  field('ts_start', 'timestamp', false),
  field('ts_end', 'timestamp', false),
  field('score', 'double', false),
  field('detector', 'string', false),
  field('reason', 'string', false),
  field('readings_version', 'long', false),
]);

export const CAUSAL_SCHEMA = struct([
  field('asset', 'string', true),
  field('leader', 'string', false),
  field('follower', 'string', false),
  field('lag_s', 'double', false),
  field('strength', 'double', false),
  field('correlation', 'double', false),
  field('p_value', 'double', false),
  field('partial_r2', 'double', false),
  field('rows', 'long', false),
  field('window_start', 'timestamp', false),
  field('window_end', 'timestamp', false),
  field('readings_version', 'long', false),
]);

/** readings' own columns (as the lake has them), plus whether the row was filled in and by which method. */
export function imputedSchema(readings: StructType): StructType {
  return struct([...readings.fields, field('imputed', 'boolean', false), field('method', 'string', true)]);
}

export async function openGaps(lake: string): Promise<DeltaTable> {
  return openOrCreate(qualityTablePath(lake, 'gaps'), GAPS_SCHEMA, [], 'gaps in sensor readings found by sensorlake quality');
}

export async function openAnomalies(lake: string): Promise<DeltaTable> {
  return openOrCreate(qualityTablePath(lake, 'anomalies'), ANOMALIES_SCHEMA, [], 'anomalous intervals found by sensorlake quality');
}

export async function openCausal(lake: string): Promise<DeltaTable> {
  return openOrCreate(qualityTablePath(lake, 'causal_pairs'), CAUSAL_SCHEMA, [], 'leader/follower sensor pairs found by sensorlake quality');
}

export async function openImputed(lake: string, readings: StructType, partition: PartitionScheme): Promise<DeltaTable> {
  return openOrCreate(qualityTablePath(lake, 'readings_imputed'), imputedSchema(readings), [partition], 'readings plus gap fills (imputed=true) by sensorlake quality');
}

// ---------------------------------------------------------------------------------------------------------------
// Arrow columns from plain arrays.

export function timestamps(us: ArrayLike<number>): arrow.Vector {
  const data = new BigInt64Array(us.length);
  for (let i = 0; i < us.length; i++) data[i] = BigInt(Math.round(us[i]));
  return arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: us.length, nullCount: 0, data }));
}

export function days(us: ArrayLike<number>): arrow.Vector {
  const data = new Int32Array(us.length);
  for (let i = 0; i < us.length; i++) data[i] = Math.floor(us[i] / US_PER_DAY);
  return arrow.makeVector(arrow.makeData({ type: new arrow.DateDay(), length: us.length, nullCount: 0, data }));
}

export function longs(xs: ArrayLike<number>): arrow.Vector {
  return arrow.makeVector(BigInt64Array.from(Array.from(xs, (x) => BigInt(Math.round(x)))));
}

export function doubles(xs: ArrayLike<number>): arrow.Vector {
  return arrow.makeVector(Float64Array.from(xs));
}

export function strings(xs: readonly (string | null)[]): arrow.Vector {
  return arrow.vectorFromArray(xs as (string | null)[], new arrow.Utf8());
}

export function bools(xs: readonly boolean[]): arrow.Vector {
  return arrow.vectorFromArray(xs as boolean[], new arrow.Bool());
}
