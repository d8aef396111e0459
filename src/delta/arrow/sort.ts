// Row order for data files: ascending by the given columns, nulls first. Built for the common (sensor_id, ts)
// case: a counting sort on the first column's dictionary rank, then the rest only where a run is out of order.

import * as arrow from 'apache-arrow';
import { rawAccessor } from './columns.js';

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/** Indices that put `table` in order, or null when it already is. */
export function sortIndices(table: arrow.Table, columns: string[]): Uint32Array | null {
  const present = columns.filter((c) => table.getChild(c));
  if (present.length === 0 || table.numRows < 2) return null;
  const access = present.map((c) => rawAccessor(table.getChild(c)!));
  const n = table.numRows;
  const cmp = (i: number, j: number): number => {
    for (const a of access) {
      const c = compareValues(a(i), a(j));
      if (c !== 0) return c;
    }
    return i - j;
  };
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (cmp(i - 1, i) > 0) sorted = false;
  if (sorted) return null;

  // First key: rank each distinct value once, then bucket rows by rank (stable).
  const first = access[0];
  const distinct = new Map<unknown, number>();
  const keys: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const v = first(i);
    keys[i] = v;
    if (!distinct.has(v)) distinct.set(v, 0);
  }
  const ordered = [...distinct.keys()].sort(compareValues);
  ordered.forEach((v, r) => distinct.set(v, r));
  const counts = new Uint32Array(ordered.length + 1);
  const rank = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    rank[i] = distinct.get(keys[i])!;
    counts[rank[i] + 1]++;
  }
  for (let r = 1; r < counts.length; r++) counts[r] += counts[r - 1];
  const out = new Uint32Array(n);
  const next = counts.slice();
  for (let i = 0; i < n; i++) out[next[rank[i]]++] = i;
  if (access.length === 1) return out;
  // Within each bucket, sort by the remaining keys only if that run is out of order.
  for (let r = 0; r < ordered.length; r++) {
    const lo = counts[r];
    const hi = counts[r + 1];
    let inOrder = true;
    for (let k = lo + 1; k < hi && inOrder; k++) if (cmp(out[k - 1], out[k]) > 0) inOrder = false;
    if (!inOrder) out.subarray(lo, hi).sort(cmp);
  }
  return out;
}
