// Dedup on (sensor_id, ts) for live ingest, where MQTT QoS 1 and HTTP retries redeliver: within a micro-batch the
// first arrival wins; across batches a per-sensor high-water mark (the largest ts committed since start) lets
// in-order readings through without any scan, and only readings at or below their sensor's mark (or of a sensor not
// seen since start) are looked up in the table, by a scan narrowed to those sensors and their time range. The
// lookup is the backfill's: readExisting (existing.ts), orderByKey and mergeWithTable (dedup.ts), keeping what the
// table already holds.

import type { DeltaTable } from '../delta/table.js';
import { mergeWithTable, orderByKey, type KeyedRows } from '../backfill/dedup.js';
import { Names, readExisting } from '../backfill/existing.js';
import { rangePredicate, sensorPredicate, sqlString, type PartitionScheme } from '../backfill/lake.js';
import { dayText, isoMicros, monthText, US_PER_DAY } from '../backfill/plan.js';
import { SensorlakeError } from '../errors.js';

/** Per sensor (indexed by the ingestor's sensor dictionary): no row of it above its mark is in the table. */
export class HighWater {
  private marks = new Float64Array(256).fill(Number.NaN);

  /** NaN when the sensor has not been seen since start. */
  get(sid: number): number {
    return sid < this.marks.length ? this.marks[sid] : Number.NaN;
  }

  raise(sid: number, ts: number): void {
    if (sid >= this.marks.length) {
      const m = new Float64Array(Math.max(sid + 1, this.marks.length * 2)).fill(Number.NaN);
      m.set(this.marks);
      this.marks = m;
    }
    const cur = this.marks[sid];
    if (!(cur >= ts)) this.marks[sid] = ts;
  }
}

/** Of each run of equal keys in `order` (stable, so runs are in arrival order), the first arrival. */
export function firstArrivals(rows: KeyedRows, order: Uint32Array): { winners: Uint32Array; duplicates: number } {
  const { rank, ts } = rows;
  const winners = new Uint32Array(order.length);
  let w = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (k > 0) {
      const p = order[k - 1];
      if (rank[p] === rank[i] && ts[p] === ts[i]) continue;
    }
    winners[w++] = i;
  }
  return { winners: winners.subarray(0, w), duplicates: order.length - w };
}

export interface TableCheck {
  /** Winners to write, in key order. */
  write: Uint32Array;
  /** Winners whose key the table holds already (same content or not: what is there stays). */
  duplicates: number;
  /** Rows read back by the check (0 when every reading was above its sensor's mark). */
  scanned: number;
  /** Per rank, the largest ts the scan found (NaN if none): a new sensor's mark must cover rows written before start. */
  tableMax: Float64Array;
}

/** Rows of the candidate sensors from `lo` on (to `hi` when given), with partition bounds so whole days prune. */
export function candidateWhere(lo: number, hi: number | null, partition: PartitionScheme, ids: string[]): string {
  const sensors = sensorPredicate({ ids });
  if (hi !== null) return `${rangePredicate(lo, hi + 1, partition)} AND ${sensors}`;
  const part = partition === 'date' ? `date >= DATE '${dayText(Math.floor(lo / US_PER_DAY))}'` : `month >= ${sqlString(monthText(lo))}`;
  return `${part} AND ts >= TIMESTAMP '${isoMicros(lo)}' AND ${sensors}`;
}

/**
 * Checks key-ordered winners against the table. `byRank` names the batch's sensors by rank; `sidOfRank` maps a
 * rank to the ingestor's sensor index for the marks.
 */
export async function checkAgainstTable(
  table: DeltaTable,
  partition: PartitionScheme,
  rows: KeyedRows,
  winners: Uint32Array,
  byRank: string[],
  sidOfRank: Int32Array,
  marks: HighWater,
): Promise<TableCheck> {
  const ranks = byRank.length;
  const tableMax = new Float64Array(ranks).fill(Number.NaN);
  const candidate = new Uint8Array(ranks);
  let lo = Infinity;
  let hi = -Infinity;
  let unseen = false;
  for (let k = 0; k < winners.length; k++) {
    const i = winners[k];
    const r = rows.rank[i];
    const mark = marks.get(sidOfRank[r]);
    const t = rows.ts[i];
    if (mark === mark && t > mark) continue; // the common, in-order case: new without a look
    candidate[r] = 1;
    if (mark !== mark) unseen = true;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  const ids: string[] = [];
  for (let r = 0; r < ranks; r++) if (candidate[r]) ids.push(byRank[r]);
  if (ids.length === 0) return { write: winners, duplicates: 0, scanned: 0, tableMax };
  // A sensor unseen since start: everything from lo on, so its mark can start at the table's true maximum.
  const where = candidateWhere(lo, unseen ? null : hi, partition, ids);
  const names = new Names(byRank);
  const ex = await readExisting(table, { where, full: false }, names, new Names());
  if (names.list.length !== ranks) {
    throw new SensorlakeError(`${table.location}: a scan for ${ids.length} sensor ids returned rows of others (${names.list.slice(ranks, ranks + 3).join(', ')})`);
  }
  if (ex.n === 0) return { write: winners, duplicates: 0, scanned: 0, tableMax };
  for (let j = 0; j < ex.n; j++) {
    const r = ex.name[j];
    ex.rank[j] = r;
    if (!(tableMax[r] >= ex.ts[j])) tableMax[r] = ex.ts[j];
  }
  const m = mergeWithTable(rows, winners, ex, orderByKey(ex, ranks), 'keep-existing');
  return { write: m.write, duplicates: m.duplicates + m.conflicts, scanned: ex.n, tableMax };
}

export { orderByKey };
