// Splits a window with more rows than the row budget into buckets of whole sensors, contiguous in sensor id order,
// so each bucket is self-contained for dedup on (sensor_id, ts) and its replace range is two comparisons.

import { createHash } from 'node:crypto';
import { readSegments } from './staging.js';

export interface Bucket {
  /** 1 for each run-wide sensor index in the bucket. */
  mask: Uint8Array;
  /** Smallest and largest sensor id of the bucket (UTF-8 byte order). */
  lo: string;
  hi: string;
  rows: number;
}

/** Buckets of at most `budget` rows each (a single sensor with more rows than that is a bucket of its own). */
export async function planBuckets(stagingFile: string, sensors: string[], budget: number): Promise<Bucket[]> {
  const counts = new Float64Array(sensors.length);
  for await (const b of readSegments(stagingFile)) for (let i = 0; i < b.n; i++) counts[b.sid[i]]++;
  const present: { sid: number; key: Buffer }[] = [];
  counts.forEach((c, sid) => {
    if (c > 0) present.push({ sid, key: Buffer.from(sensors[sid], 'utf8') });
  });
  present.sort((a, b) => Buffer.compare(a.key, b.key));
  const out: Bucket[] = [];
  let cur: Bucket | null = null;
  for (const { sid } of present) {
    const c = counts[sid];
    if (!cur || (cur.rows + c > budget && cur.rows > 0)) {
      cur = { mask: new Uint8Array(sensors.length), lo: sensors[sid], hi: sensors[sid], rows: 0 };
      out.push(cur);
    }
    cur.mask[sid] = 1;
    cur.hi = sensors[sid];
    cur.rows += c;
  }
  return out;
}

/**
 * The txn appId recording which buckets of a window are committed. It names the bucket boundaries, so a rerun that
 * splits the window differently (another budget) cannot mistake its buckets for the earlier ones.
 */
export function bucketAppId(jobId: string, window: number, buckets: Bucket[]): string {
  const h = createHash('sha256');
  for (const b of buckets) h.update(`${b.lo}\u0000${b.hi}\u0000`);
  return `${jobId}/w${window}/${h.digest('hex').slice(0, 12)}`;
}
