// Splits a window with more rows than the row budget into buckets of whole sensors, contiguous in sensor id order,
// so each bucket is self-contained for dedup on (sensor_id, ts) and the files it writes cover a narrow id range.
// The buckets of a window are pieces of one stream, written and committed once under txn(jobId, window).

import { rankNames } from './rows.js';
import { countBySensor } from './staging.js';

export interface Bucket {
  /** Run-wide sensor indexes of the bucket, in sensor id order (UTF-8 bytes). */
  sids: number[];
  rows: number;
}

/** Buckets of at most `budget` rows each (a single sensor with more rows than that is a bucket of its own). */
export async function planBuckets(stagingFile: string, sensors: string[], budget: number): Promise<Bucket[]> {
  const counts = new Float64Array(sensors.length);
  await countBySensor(stagingFile, counts);
  const present: number[] = [];
  counts.forEach((c, sid) => {
    if (c > 0) present.push(sid);
  });
  const { rank } = rankNames(present.map((s) => sensors[s]));
  const ordered = present.map((sid, k) => ({ sid, r: rank[k] })).sort((a, b) => a.r - b.r);
  const out: Bucket[] = [];
  let cur: Bucket | null = null;
  for (const { sid } of ordered) {
    const c = counts[sid];
    if (!cur || (cur.rows + c > budget && cur.rows > 0)) {
      cur = { sids: [], rows: 0 };
      out.push(cur);
    }
    cur.sids.push(sid);
    cur.rows += c;
  }
  return out;
}
