// The lake's well-known Delta tables (readings, sensors, quarantine) under one directory: their schemas, opening or
// creating them, and the range predicates a window commit scans and replaces with.

import * as path from 'node:path';
import { DeltaTable, field, struct, type StructType } from '../delta/table.js';
import { InvalidArgumentError, NotFoundError, SensorlakeError } from '../errors.js';
import { dayText, isoMicros, monthText, US_PER_DAY } from './plan.js';

/** 'date' partitions readings by UTC day; 'month' by a 'YYYY-MM' string column, keeping `date` as a data column. */
export type PartitionScheme = 'date' | 'month';

export const QUALITY = { good: 0, uncertain: 0x40000000, bad: 0x80000000 } as const;

export function readingsSchema(partition: PartitionScheme): StructType {
  const fields = [
    field('ts', 'timestamp', false),
    field('sensor_id', 'string', false),
    field('value', 'double', true),
    field('value_text', 'string', true),
    field('quality', 'long', false),
    field('source', 'string', true),
    field('date', 'date', false),
  ];
  if (partition === 'month') fields.push(field('month', 'string', false));
  return struct(fields);
}

export const SENSORS_SCHEMA = struct([
  field('sensor_id', 'string', false),
  field('asset', 'string', true),
  field('unit', 'string', true),
  field('interval_s', 'double', true),
  field('valid_min', 'double', true),
  field('valid_max', 'double', true),
  field('description', 'string', true),
  field('kind', 'string', true),
]);

export const QUARANTINE_SCHEMA = struct([
  field('raw', 'string', true),
  field('reason', 'string', false),
  field('message', 'string', true),
  field('source_file', 'string', true),
  field('location', 'long', true),
  field('location_kind', 'string', true),
  field('job_id', 'string', false),
  field('quarantined_at', 'timestamp', false),
]);

export interface LakePaths {
  root: string;
  readings: string;
  sensors: string;
  quarantine: string;
  staging: (jobId: string) => string;
}

export function lakePaths(root: string): LakePaths {
  const abs = path.resolve(root);
  return {
    root: abs,
    readings: path.join(abs, 'readings'),
    sensors: path.join(abs, 'sensors'),
    quarantine: path.join(abs, 'quarantine'),
    staging: (jobId) => path.join(abs, '_sensorlake', 'staging', jobId),
  };
}

/** Opens a table, creating it when there is none; a creation race with another writer ends in opening theirs. */
export async function openOrCreate(location: string, schema: StructType, partitionColumns: string[], description: string): Promise<DeltaTable> {
  try {
    return await DeltaTable.open(location);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
  try {
    return await DeltaTable.create(location, { schema, partitionColumns, description });
  } catch (e) {
    if (e instanceof SensorlakeError) {
      try {
        return await DeltaTable.open(location);
      } catch {
        throw e;
      }
    }
    throw e;
  }
}

/** The table at `location`, or null when there is none yet. */
export async function findTable(location: string): Promise<DeltaTable | null> {
  try {
    return await DeltaTable.open(location);
  } catch (e) {
    if (e instanceof NotFoundError) return null;
    throw e;
  }
}

/** Checks that an existing readings table is partitioned as asked (a lake keeps the scheme it was created with). */
export async function checkReadings(table: DeltaTable, partition: PartitionScheme): Promise<void> {
  const snap = await table.snapshot();
  const have = snap.partitionColumns.join(',');
  if (have !== partition) {
    throw new InvalidArgumentError(`${table.location}: the readings table is partitioned by '${have}', not '${partition}'; pass --partition ${have || 'date'}`);
  }
  const names = new Set(snap.schema.fields.map((f) => f.name));
  for (const f of readingsSchema(partition).fields) {
    if (!names.has(f.name)) throw new InvalidArgumentError(`${table.location}: the readings table has no column '${f.name}'; it was not made by sensorlake backfill`);
  }
}

export async function openReadings(location: string, partition: PartitionScheme): Promise<DeltaTable> {
  const table = await openOrCreate(location, readingsSchema(partition), [partition], 'sensor readings written by sensorlake backfill');
  await checkReadings(table, partition);
  return table;
}

/** SQL text of a string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Rows of [startUs, endUs), with the partition bounds spelled out so whole partitions prune before stats do. */
export function rangePredicate(startUs: number, endUs: number, partition: PartitionScheme): string {
  const lastUs = endUs - 1;
  const parts: string[] = [];
  if (partition === 'date') {
    const d0 = Math.floor(startUs / US_PER_DAY);
    const d1 = Math.floor(lastUs / US_PER_DAY);
    parts.push(d0 === d1 ? `date = DATE '${dayText(d0)}'` : `date >= DATE '${dayText(d0)}' AND date <= DATE '${dayText(d1)}'`);
  } else {
    const m0 = monthText(startUs);
    const m1 = monthText(lastUs);
    parts.push(m0 === m1 ? `month = '${m0}'` : `month >= '${m0}' AND month <= '${m1}'`);
  }
  parts.push(`ts >= TIMESTAMP '${isoMicros(startUs)}'`, `ts < TIMESTAMP '${isoMicros(endUs)}'`);
  return parts.join(' AND ');
}

/** Narrows a predicate to sensor ids in [lo, hi] (a bucket), or to a short list of ids. */
export function sensorPredicate(opts: { range?: [string, string]; ids?: string[] }): string {
  const parts: string[] = [];
  if (opts.range) parts.push(`sensor_id >= ${sqlString(opts.range[0])}`, `sensor_id <= ${sqlString(opts.range[1])}`);
  if (opts.ids) parts.push(`sensor_id IN (${opts.ids.map(sqlString).join(', ')})`);
  return parts.join(' AND ');
}
