// Loads a window's staged rows (or one sensor bucket's) straight into (sensor_id, ts) order. Spilled segments are
// ordered by sensor id with a directory of runs (see WindowSpill.flush), so a sensor range is one range of rows per
// segment, read with a few reads and put in place with one block copy per sensor and segment. Rows of segments
// without a directory are scattered by a counting sort instead.

import type { InputRows } from './dedup.js';
import { rankNames, scatter, type StagedBatch } from './rows.js';
import { StagingReader, type SegmentRef } from './staging.js';

export interface KeyOrdered {
  /** The rows in key order; `rank` indexes `names`. */
  rows: InputRows;
  /** Sensor ids of the rows by rank. */
  names: string[];
}

/**
 * `sensors` are the run's sensor ids by index (what the staging file's sid column holds); `only`, when given, the
 * indexes of the sensors to load (a bucket: contiguous in sensor id order).
 */
export async function loadInKeyOrder(file: string, sensors: string[], only?: number[]): Promise<KeyOrdered> {
  const reader = await StagingReader.open(file);
  const empty: KeyOrdered = { rows: { n: 0, rank: new Int32Array(0), ts: new Float64Array(0), value: new Float64Array(0), valid: new Uint8Array(0), text: null, quality: new Uint32Array(0), file: new Int32Array(0), loc: new Float64Array(0) }, names: [] };
  if (!reader) return empty;
  try {
    const wanted = new Uint8Array(sensors.length);
    if (only) for (const s of only) wanted[s] = 1;
    else wanted.fill(1);
    const counts = new Float64Array(sensors.length);
    for (const seg of reader.segments) {
      if (seg.runs) {
        for (let k = 0; k < seg.runs.length; k += 2) if (wanted[seg.runs[k]]) counts[seg.runs[k]] += seg.runs[k + 1];
      } else {
        const b = await reader.rows(seg);
        for (let i = 0; i < b.n; i++) if (wanted[b.sid[i]]) counts[b.sid[i]]++;
      }
    }
    const presentSids: number[] = [];
    let n = 0;
    counts.forEach((c, s) => {
      if (c > 0) {
        presentSids.push(s);
        n += c;
      }
    });
    const { rank, byRank } = rankNames(presentSids.map((s) => sensors[s]));
    const rankOf = new Int32Array(sensors.length).fill(-1);
    presentSids.forEach((s, k) => (rankOf[s] = rank[k]));
    const start = new Float64Array(byRank.length + 1);
    presentSids.forEach((s) => (start[rankOf[s] + 1] = counts[s]));
    for (let r = 1; r <= byRank.length; r++) start[r] += start[r - 1];

    const rows: InputRows = {
      n,
      rank: new Int32Array(n),
      ts: new Float64Array(n),
      value: new Float64Array(n),
      valid: new Uint8Array(n),
      text: null,
      quality: new Uint32Array(n),
      file: new Int32Array(n),
      loc: new Float64Array(n),
    };
    const next = start.slice(0, byRank.length);
    for (const seg of reader.segments) {
      if (seg.runs) await copyRuns(reader, seg, rankOf, next, rows);
      else scatterRows(await reader.rows(seg), rankOf, next, rows);
    }
    for (let r = 0; r < byRank.length; r++) {
      rows.rank.fill(r, start[r], start[r + 1]);
      sortRun(rows, start[r], start[r + 1]);
    }
    return { rows, names: byRank };
  } finally {
    await reader.close();
  }
}

/** A segment with a directory: reads the rows of its wanted sensors (one range) and copies each sensor's block. */
async function copyRuns(reader: StagingReader, seg: SegmentRef, rankOf: Int32Array, next: Float64Array, rows: InputRows): Promise<void> {
  const runs = seg.runs!;
  let a = -1;
  let z = -1;
  for (let k = 0, at = 0; k < runs.length; k += 2) {
    if (rankOf[runs[k]] >= 0) {
      if (a < 0) a = at;
      z = at + runs[k + 1];
    }
    at += runs[k + 1];
  }
  if (a < 0) return;
  const b = await reader.rows(seg, a, z);
  for (let k = 0, at = 0; k < runs.length; k += 2) {
    const len = runs[k + 1];
    const r = rankOf[runs[k]];
    const from = at - a;
    at += len;
    if (r < 0) continue;
    const p = next[r];
    next[r] += len;
    const to = from + len;
    rows.ts.set(b.ts.subarray(from, to), p);
    rows.value.set(b.value.subarray(from, to), p);
    rows.loc.set(b.loc.subarray(from, to), p);
    rows.quality.set(b.quality.subarray(from, to), p);
    rows.file.set(b.file.subarray(from, to), p);
    rows.valid.set(b.valid.subarray(from, to), p);
    if (b.text) {
      const text = (rows.text ??= new Array<string | null>(rows.n).fill(null));
      for (let i = from; i < to; i++) text[p + i - from] = b.text(i);
    }
  }
}

/** A segment without a directory: each wanted row to its place (a counting sort, column by column). */
function scatterRows(b: StagedBatch, rankOf: Int32Array, next: Float64Array, rows: InputRows): void {
  const keep: number[] = [];
  for (let i = 0; i < b.n; i++) if (rankOf[b.sid[i]] >= 0) keep.push(i);
  const dest = new Int32Array(keep.length);
  for (let k = 0; k < keep.length; k++) dest[k] = next[rankOf[b.sid[keep[k]]]]++;
  const pick = <T extends Float64Array | Int32Array | Uint32Array | Uint8Array>(to: T, from: T): void => {
    if (keep.length === b.n) scatter(to, from, dest);
    else for (let k = 0; k < keep.length; k++) to[dest[k]] = from[keep[k]];
  };
  // Column by column: one array's write frontiers (a page each) fit the TLB where all columns' would not.
  pick(rows.ts, b.ts);
  pick(rows.value, b.value);
  pick(rows.loc, b.loc);
  pick(rows.quality, b.quality);
  pick(rows.file, b.file);
  pick(rows.valid, b.valid);
  if (b.text) {
    const text = (rows.text ??= new Array<string | null>(rows.n).fill(null));
    for (let k = 0; k < keep.length; k++) text[dest[k]] = b.text(keep[k]);
  }
}

/** Orders rows [lo, hi) of one sensor by ts, keeping staging order among equal ones (rarely needed: exports are in time order). */
function sortRun(rows: InputRows, lo: number, hi: number): void {
  const ts = rows.ts;
  let sorted = true;
  for (let k = lo + 1; k < hi; k++) {
    if (ts[k - 1] > ts[k]) {
      sorted = false;
      break;
    }
  }
  if (sorted) return;
  const idx = new Uint32Array(hi - lo);
  for (let k = 0; k < idx.length; k++) idx[k] = lo + k;
  idx.sort((a, b) => ts[a] - ts[b] || a - b);
  const permute = <T extends Float64Array | Uint8Array | Uint32Array | Int32Array>(a: T): void => {
    const copy = a.slice(lo, hi);
    for (let k = 0; k < idx.length; k++) a[lo + k] = copy[idx[k] - lo];
  };
  permute(rows.ts);
  permute(rows.value);
  permute(rows.valid);
  permute(rows.quality);
  permute(rows.file);
  permute(rows.loc);
  if (rows.text) {
    const copy = rows.text.slice(lo, hi);
    for (let k = 0; k < idx.length; k++) rows.text[lo + k] = copy[idx[k] - lo];
  }
}
