// Splits a window with more rows than the row budget into buckets of whole sensors, contiguous in sensor id order,
// so each bucket is self-contained for dedup on (sensor_id, ts) and the files it writes cover a narrow id range.
// The buckets of a window are pieces of one stream, written and committed once under txn(jobId, window).

import { RowBuffer } from './rows.js';
import { appendSegment, readSegments, readSids } from './staging.js';

export interface Bucket {
  /** Run-wide sensor indexes of the bucket, in sensor id order (UTF-8 bytes). */
  sids: number[];
  rows: number;
}

/** Buckets of at most `budget` rows each (a single sensor with more rows than that is a bucket of its own). */
export async function planBuckets(stagingFile: string, sensors: string[], budget: number): Promise<Bucket[]> {
  const counts = new Float64Array(sensors.length);
  for await (const sid of readSids(stagingFile)) {
    for (let i = 0; i < sid.length; i++) counts[sid[i]]++;
  }
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
      cur = { sids: [], rows: 0 };
      out.push(cur);
    }
    cur.sids.push(sid);
    cur.rows += c;
  }
  return out;
}

/**
 * Rewrites a window's staging file as one file per bucket (`<file>.b<k>`), in one pass, so that each bucket then
 * reads only its own rows: reading the whole window once per bucket would cost buckets x window rows.
 */
export async function splitBuckets(stagingFile: string, buckets: Bucket[], sensorCount: number, flushRows: number): Promise<string[]> {
  const bucketOf = new Int32Array(sensorCount).fill(-1);
  buckets.forEach((b, k) => {
    for (const sid of b.sids) bucketOf[sid] = k;
  });
  const files = buckets.map((_, k) => `${stagingFile}.b${k}`);
  let bufs = buckets.map(() => new RowBuffer(1024));
  let held = 0;
  const flush = async (): Promise<void> => {
    for (let k = 0; k < bufs.length; k++) if (bufs[k].n > 0) await appendSegment(files[k], bufs[k].sortedBySid());
    bufs = buckets.map(() => new RowBuffer(1024));
    held = 0;
  };
  for await (const b of readSegments(stagingFile)) {
    for (let i = 0; i < b.n; i++) bufs[bucketOf[b.sid[i]]].pushFrom(b, i);
    held += b.n;
    if (held >= flushRows) await flush();
  }
  await flush();
  return files;
}
