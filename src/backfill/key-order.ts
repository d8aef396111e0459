// Loads a window's staged rows straight into (sensor_id, ts) order: one read counts the rows of each sensor, a second
// scatters every row to its place (sensor ids ranked in UTF-8 byte order, as Delta stats compare them). Exports are
// written time by time, so this is a transpose; done as a counting sort it reads the staging file in order and writes
// to one frontier per sensor, which stays in cache, where gathering rows by sorted index would miss on nearly every one.

import type { InputRows } from './dedup.js';
import { scatter } from './rows.js';
import { readSegments, readSids } from './staging.js';

export interface KeyOrdered {
  /** The rows in key order; `rank` indexes `names`. */
  rows: InputRows;
  /** Sensor ids of the rows by rank. */
  names: string[];
}

/** Ranks names by UTF-8 byte order; `rank[k]` is the rank of names[k]. */
export function rankNames(names: string[]): { rank: Int32Array; byRank: string[] } {
  const keyed = names.map((s, id) => ({ id, b: Buffer.from(s, 'utf8') }));
  keyed.sort((x, y) => Buffer.compare(x.b, y.b));
  const rank = new Int32Array(names.length);
  keyed.forEach((k, r) => (rank[k.id] = r));
  return { rank, byRank: keyed.map((k) => names[k.id]) };
}

/** `sensors` are the run's sensor ids by index (what the staging file's sid column holds). */
export async function loadInKeyOrder(file: string, sensors: string[]): Promise<KeyOrdered> {
  const counts = new Float64Array(sensors.length);
  let n = 0;
  for await (const sid of readSids(file)) {
    for (let i = 0; i < sid.length; i++) counts[sid[i]]++;
    n += sid.length;
  }
  const presentSids: number[] = [];
  counts.forEach((c, s) => {
    if (c > 0) presentSids.push(s);
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
  for await (const b of readSegments(file)) {
    const { sid } = b;
    let bySid = true;
    for (let i = 1; i < b.n && bySid; i++) bySid = sid[i - 1] <= sid[i];
    if (bySid) {
      // A spilled segment (see RowBuffer.sortedBySid): each sensor's rows are one block, copied whole.
      for (let a = 0; a < b.n; ) {
        let z = a + 1;
        while (z < b.n && sid[z] === sid[a]) z++;
        const p = next[rankOf[sid[a]]];
        next[rankOf[sid[a]]] += z - a;
        rows.ts.set(b.ts.subarray(a, z), p);
        rows.value.set(b.value.subarray(a, z), p);
        rows.loc.set(b.loc.subarray(a, z), p);
        rows.quality.set(b.quality.subarray(a, z), p);
        rows.file.set(b.file.subarray(a, z), p);
        rows.valid.set(b.valid.subarray(a, z), p);
        if (b.text) {
          const text = (rows.text ??= new Array<string | null>(n).fill(null));
          for (let k = a; k < z; k++) text[p + k - a] = b.text(k);
        }
        a = z;
      }
      continue;
    }
    const dest = new Int32Array(b.n);
    for (let i = 0; i < b.n; i++) dest[i] = next[rankOf[sid[i]]]++;
    // Column by column: one array's write frontiers (a page each) fit the TLB where all columns' would not.
    scatter(rows.ts, b.ts, dest);
    scatter(rows.value, b.value, dest);
    scatter(rows.loc, b.loc, dest);
    scatter(rows.quality, b.quality, dest);
    scatter(rows.file, b.file, dest);
    scatter(rows.valid, b.valid, dest);
    if (b.text) {
      const text = (rows.text ??= new Array<string | null>(n).fill(null));
      for (let i = 0; i < b.n; i++) text[dest[i]] = b.text(i);
    }
  }
  for (let r = 0; r < byRank.length; r++) {
    rows.rank.fill(r, start[r], start[r + 1]);
    sortRun(rows, start[r], start[r + 1]);
  }
  return { rows, names: byRank };
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
