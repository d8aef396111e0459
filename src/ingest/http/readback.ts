// Read-back for GET /v1/readings and GET /v1/tables/{name}/history: one sensor's rows in a time range, or their
// bucketed aggregates, scanned with a predicate on the partition and ts columns so files outside the range are skipped.

import * as arrow from 'apache-arrow';
import { DeltaTable, type HistoryEntry } from '../../delta/table.js';
import { InvalidArgumentError, NotFoundError } from '../../errors.js';
import { lakePaths, rangePredicate, sqlString, type PartitionScheme } from '../../backfill/lake.js';
import { isoMicros, parseTimeBound } from '../../backfill/plan.js';

export const AGGREGATES = ['avg', 'min', 'max', 'last', 'count'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** Rows one response may carry; beyond that the client narrows the range or aggregates. */
export const DEFAULT_ROW_LIMIT = 10_000;
export const MAX_ROW_LIMIT = 100_000;
const MAX_BUCKETS = 100_000;

export interface ReadingsQuery {
  sensor_id: string;
  from: string;
  to: string;
  every?: string;
  agg?: Aggregate;
  limit?: number;
}

export interface ReadingRow {
  ts: string;
  value: number | null;
  value_text: string | null;
  quality: number;
}

export interface Bucket {
  ts: string;
  value: number | null;
  count: number;
}

export type ReadingsResult =
  | { sensor_id: string; from: string; to: string; count: number; rows: ReadingRow[] }
  | { sensor_id: string; from: string; to: string; every: string; agg: Aggregate; buckets: Bucket[] };

const EVERY_US: Record<string, number> = { s: 1e6, m: 60e6, h: 3600e6, d: 86_400e6 };

function parseEvery(spec: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(spec.trim());
  const n = m ? Number(m[1]) : 0;
  if (!m || n <= 0) throw new InvalidArgumentError(`every '${spec}': expected a positive whole number and a unit s, m, h or d (e.g. 30s, 1m, 1h)`);
  return n * EVERY_US[m[2]];
}

/** Readings of one sensor in [from, to), or their aggregate per `every` bucket (aligned to the epoch). */
export async function queryReadings(lake: string, q: ReadingsQuery): Promise<ReadingsResult> {
  const fromUs = parseTimeBound(q.from, 'from')!;
  const toUs = parseTimeBound(q.to, 'to')!;
  if (toUs <= fromUs) throw new InvalidArgumentError(`to (${q.to}) must be after from (${q.from})`);
  if ((q.every === undefined) !== (q.agg === undefined)) throw new InvalidArgumentError('every and agg go together: give both (e.g. every=1m&agg=avg) or neither');
  const everyUs = q.every === undefined ? 0 : parseEvery(q.every);
  if (everyUs > 0 && (toUs - fromUs) / everyUs > MAX_BUCKETS) {
    throw new InvalidArgumentError(`from..to at every=${q.every} makes ${Math.ceil((toUs - fromUs) / everyUs)} buckets, more than ${MAX_BUCKETS}; use a longer every or a shorter range`);
  }
  const limit = q.limit ?? DEFAULT_ROW_LIMIT;
  const head = { sensor_id: q.sensor_id, from: isoMicros(fromUs), to: isoMicros(toUs) };
  const batches = await scanSensor(lake, q.sensor_id, fromUs, toUs);
  if (everyUs > 0) return { ...head, every: q.every!, agg: q.agg!, buckets: await aggregate(batches, everyUs, q.agg!) };
  const rows: { us: number; row: ReadingRow }[] = [];
  for await (const b of batches) {
    const c = columns(b);
    for (let i = 0; i < b.numRows; i++) {
      if (rows.length === limit) {
        throw new InvalidArgumentError(
          `sensor ${q.sensor_id} has more than ${limit} readings in ${head.from} .. ${head.to}; narrow from/to, raise limit (at most ${MAX_ROW_LIMIT}), or aggregate with every= and agg=`,
        );
      }
      const us = c.ts(i);
      rows.push({ us, row: { ts: isoMicros(us), value: c.value(i), value_text: c.text(i), quality: c.quality(i) } });
    }
  }
  rows.sort((a, b) => a.us - b.us);
  return { ...head, count: rows.length, rows: rows.map((r) => r.row) };
}

async function* scanSensor(lake: string, sensorId: string, fromUs: number, toUs: number): AsyncGenerator<arrow.RecordBatch> {
  let table: DeltaTable;
  try {
    table = await DeltaTable.open(lakePaths(lake).readings);
  } catch (e) {
    if (e instanceof NotFoundError) return; // nothing ingested yet
    throw e;
  }
  const snap = await table.snapshot();
  const partition: PartitionScheme = snap.partitionColumns.includes('month') ? 'month' : 'date';
  // The partition bounds prune whole days (or months), the ts bounds and sensor_id prune files by their stats.
  const where = `${rangePredicate(fromUs, toUs, partition)} AND sensor_id = ${sqlString(sensorId)}`;
  yield* table.scan({ where, columns: ['ts', 'value', 'value_text', 'quality'], version: snap.version });
}

interface Columns {
  ts(i: number): number;
  value(i: number): number | null;
  text(i: number): string | null;
  quality(i: number): number;
}

function columns(b: arrow.RecordBatch): Columns {
  // ts and quality from their raw int64 buffers: get() would turn µs into lossy milliseconds.
  const ts = b.getChild('ts')!.data[0];
  const tsv = ts.values as unknown as BigInt64Array;
  const q = b.getChild('quality')!.data[0];
  const qv = q.values as unknown as BigInt64Array;
  const value = b.getChild('value')!;
  const text = b.getChild('value_text')!;
  return {
    ts: (i) => Number(tsv[ts.offset + i]),
    value: (i) => (value.get(i) as number | null) ?? null,
    text: (i) => (text.get(i) as string | null) ?? null,
    quality: (i) => Number(qv[q.offset + i]),
  };
}

async function aggregate(batches: AsyncIterable<arrow.RecordBatch>, everyUs: number, agg: Aggregate): Promise<Bucket[]> {
  const acc = new Map<number, { n: number; sum: number; min: number; max: number; lastUs: number; last: number }>();
  for await (const b of batches) {
    const c = columns(b);
    for (let i = 0; i < b.numRows; i++) {
      const v = c.value(i);
      if (v === null) continue; // text readings have no number to aggregate
      const us = c.ts(i);
      const k = Math.floor(us / everyUs);
      const a = acc.get(k);
      if (!a) acc.set(k, { n: 1, sum: v, min: v, max: v, lastUs: us, last: v });
      else {
        a.n++;
        a.sum += v;
        if (v < a.min) a.min = v;
        if (v > a.max) a.max = v;
        if (us >= a.lastUs) {
          a.lastUs = us;
          a.last = v;
        }
      }
    }
  }
  return [...acc.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([k, a]) => ({
      ts: isoMicros(k * everyUs),
      value: agg === 'avg' ? a.sum / a.n : agg === 'min' ? a.min : agg === 'max' ? a.max : agg === 'last' ? a.last : a.n,
      count: a.n,
    }));
}

export const HISTORY_TABLES = ['readings', 'sensors', 'quarantine'] as const;
export type HistoryTable = (typeof HISTORY_TABLES)[number];

/** A commit as the API shows it: the engine's history entry with an ISO timestamp, without the raw commitInfo. */
export type HistoryItem = Omit<HistoryEntry, 'timestamp' | 'commitInfo'> & { timestamp: string };

/** The newest `limit` commits of one of the lake's tables, newest first. */
export async function tableHistory(lake: string, name: HistoryTable, limit: number): Promise<HistoryItem[]> {
  const table = await DeltaTable.open(lakePaths(lake)[name]);
  return (await table.history(limit)).map(({ timestamp, commitInfo: _raw, ...entry }) => ({ ...entry, timestamp: new Date(timestamp).toISOString() }));
}
