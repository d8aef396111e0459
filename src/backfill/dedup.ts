// Dedup on (sensor_id, ts), pure and columnar: orders rows by key, keeps one record per key within the input (the
// last in input order wins), then matches the survivors against the table's rows of the same window.

/** Rows of one window as columns; `rank` orders sensors by id, so key order is (sensor_id, ts). */
export interface KeyedRows {
  n: number;
  rank: Int32Array;
  ts: Float64Array;
  value: Float64Array;
  valid: Uint8Array;
  text: (string | null)[] | null;
  quality: Uint32Array;
}

/** Incoming rows also know where they came from: input file index and location, which is input order. */
export interface InputRows extends KeyedRows {
  file: Int32Array;
  loc: Float64Array;
}

/** Indices ordering rows by (rank, ts): a stable counting sort on rank, then ts sorted only in runs out of order. */
export function orderByKey(rows: KeyedRows, ranks: number): Uint32Array {
  const { n, rank, ts } = rows;
  const start = new Uint32Array(ranks + 1);
  for (let i = 0; i < n; i++) start[rank[i] + 1]++;
  for (let r = 1; r <= ranks; r++) start[r] += start[r - 1];
  const next = start.slice();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[next[rank[i]]++] = i;
  for (let r = 0; r < ranks; r++) {
    const lo = start[r];
    const hi = start[r + 1];
    let sorted = true;
    for (let k = lo + 1; k < hi; k++) {
      if (ts[order[k - 1]] > ts[order[k]]) {
        sorted = false;
        break;
      }
    }
    if (!sorted) order.subarray(lo, hi).sort((a, b) => ts[a] - ts[b] || a - b);
  }
  return order;
}

export function sameContent(a: KeyedRows, i: number, b: KeyedRows, j: number): boolean {
  if (a.valid[i] !== b.valid[j]) return false;
  if (a.valid[i] && a.value[i] !== b.value[j]) return false;
  if ((a.text ? a.text[i] : null) !== (b.text ? b.text[j] : null)) return false;
  return a.quality[i] === b.quality[j];
}

export interface InputDedup {
  /** The kept record of each key, in key order. */
  winners: Uint32Array;
  /** Records dropped because the same key came again (exact copies and conflict losers). */
  duplicates: number;
  /** Of those, the ones whose content differed from the kept record. */
  conflicts: number;
  /** 1 for each dropped record (indexes the input rows). */
  dropped: Uint8Array;
}

/** Within the input: per key the record latest in input order (file, then location) wins. */
export function dedupInput(rows: InputRows, order: Uint32Array): InputDedup {
  const { rank, ts, file, loc } = rows;
  const winners = new Uint32Array(order.length);
  const dropped = new Uint8Array(rows.n);
  let w = 0;
  let duplicates = 0;
  let conflicts = 0;
  let k = 0;
  while (k < order.length) {
    const first = order[k];
    let end = k + 1;
    while (end < order.length && rank[order[end]] === rank[first] && ts[order[end]] === ts[first]) end++;
    let best = first;
    for (let m = k + 1; m < end; m++) {
      const i = order[m];
      if (file[i] > file[best] || (file[i] === file[best] && loc[i] >= loc[best])) best = i;
    }
    winners[w++] = best;
    for (let m = k; m < end; m++) {
      const i = order[m];
      if (i === best) continue;
      dropped[i] = 1;
      duplicates++;
      if (!sameContent(rows, i, rows, best)) conflicts++;
    }
    k = end;
  }
  return { winners: winners.subarray(0, w), duplicates, conflicts, dropped };
}

export interface TableMerge {
  /** Winners to write (new keys, plus overriding ones under keep-incoming), in key order. */
  write: Uint32Array;
  /** Winners whose key the table already holds with the same content. */
  duplicates: number;
  /** Winners whose key the table holds with other content. */
  conflicts: number;
  /** Existing rows replaced by incoming ones (keep-incoming). */
  overridden: number;
  /** 1 for existing rows to drop (keep-incoming), else null when none is. */
  dropExisting: Uint8Array | null;
  /** 1 for each winner not written (indexes the input rows). */
  notWritten: Uint8Array;
}

/** Matches key-ordered winners with key-ordered existing rows (a merge join). */
export function mergeWithTable(
  inc: KeyedRows,
  winners: Uint32Array,
  ex: KeyedRows,
  exOrder: Uint32Array,
  onConflict: 'keep-existing' | 'keep-incoming',
): TableMerge {
  const write = new Uint32Array(winners.length);
  const notWritten = new Uint8Array(inc.n);
  let dropExisting: Uint8Array | null = null;
  let w = 0;
  let duplicates = 0;
  let conflicts = 0;
  let overridden = 0;
  let e = 0;
  for (let k = 0; k < winners.length; k++) {
    const i = winners[k];
    const r = inc.rank[i];
    const t = inc.ts[i];
    while (e < exOrder.length && (ex.rank[exOrder[e]] < r || (ex.rank[exOrder[e]] === r && ex.ts[exOrder[e]] < t))) e++;
    if (e >= exOrder.length || ex.rank[exOrder[e]] !== r || ex.ts[exOrder[e]] !== t) {
      write[w++] = i;
      continue;
    }
    const j = exOrder[e];
    if (sameContent(inc, i, ex, j)) {
      duplicates++;
      notWritten[i] = 1;
    } else if (onConflict === 'keep-existing') {
      conflicts++;
      notWritten[i] = 1;
    } else {
      conflicts++;
      write[w++] = i;
      dropExisting ??= new Uint8Array(ex.n);
      // The table may hold the key more than once (written by someone else); all of them give way.
      for (let m = e; m < exOrder.length && ex.rank[exOrder[m]] === r && ex.ts[exOrder[m]] === t; m++) {
        dropExisting[exOrder[m]] = 1;
        overridden++;
      }
    }
  }
  return { write: write.subarray(0, w), duplicates, conflicts, overridden, dropExisting, notWritten };
}
