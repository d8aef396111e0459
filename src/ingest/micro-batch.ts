// One micro-batch of live ingest: WAL entries gathered into columns, put in (sensor_id, ts) order, deduped (see
// live-dedup.ts) and written to `readings` as one commit under txn(serverId, position of the batch's last entry);
// their rejects go to `quarantine` as one commit under txn(serverId + ":quarantine", same position). The tables are
// long-lived DeltaTables that advance their snapshot by each commit, so a commit never replays the log.

import type * as arrow from 'apache-arrow';
import type { DeltaTable } from '../delta/table.js';
import type { KeyedRows } from '../backfill/dedup.js';
import { Names } from '../backfill/existing.js';
import type { PartitionScheme } from '../backfill/lake.js';
import { readingPieces } from '../backfill/output.js';
import { rankNames } from '../backfill/rows.js';
import { dayText, US_PER_DAY } from '../backfill/plan.js';
import { quarantineTable, type QuarantineRow } from '../backfill/quarantine.js';
import type { SensorDict } from '../backfill/validate.js';
import { fileRows } from '../backfill/window.js';
import type { Entry } from './entry.js';
import { checkAgainstTable, firstArrivals, orderByKey, type HighWater } from './live-dedup.js';

/** An entry waiting for its commits; after a crash between the two commits, one of them may be done already. */
export interface PendingEntry {
  entry: Entry;
  rowsDone: boolean;
  rejectsDone: boolean;
}

export interface BatchContext {
  serverId: string;
  readings: DeltaTable;
  /** The quarantine table, opened or created on first need. */
  quarantine: () => Promise<DeltaTable>;
  partition: PartitionScheme;
  dict: SensorDict;
  marks: HighWater;
}

export interface BatchOutcome {
  position: number;
  /** Readings in the batch's entries (before dedup). */
  rows: number;
  written: number;
  duplicates: number;
  /** Rows the table check read back. */
  scanned: number;
  quarantined: number;
  /** Versions committed (null when that table had nothing to commit, or the txn was already there). */
  readingsVersion: number | null;
  quarantineVersion: number | null;
  /** UTC dates ('YYYY-MM-DD') of the rows written. */
  dates: string[];
}

interface Gathered {
  rows: KeyedRows;
  src: Int32Array;
  sources: string[];
  /** Sensor ids by rank, and each rank's index in the ingestor's dictionary. */
  byRank: string[];
  sidOfRank: Int32Array;
}

/** The batch's readings as one set of columns; `rank` orders sensors by id in UTF-8 bytes, as Delta stats compare. */
function gather(batch: PendingEntry[], dict: SensorDict): Gathered {
  let n = 0;
  for (const p of batch) if (!p.rowsDone) n += p.entry.rows.n;
  const sid = new Int32Array(n);
  const ts = new Float64Array(n);
  const value = new Float64Array(n);
  const valid = new Uint8Array(n);
  const quality = new Uint32Array(n);
  const src = new Int32Array(n);
  let text: (string | null)[] | null = null;
  const sources = new Names();
  let at = 0;
  let lastNames: string[] | null = null;
  let sids = new Int32Array(0);
  for (const { entry, rowsDone } of batch) {
    if (rowsDone) continue;
    const r = entry.rows;
    // Entries decoded one after the other share the names array when their lists are equal (see NamesCache).
    if (entry.names !== lastNames) {
      lastNames = entry.names;
      sids = Int32Array.from(entry.names, (name) => dict.id(name));
    }
    ts.set(r.ts, at);
    value.set(r.value, at);
    valid.set(r.valid, at);
    quality.set(r.quality, at);
    src.fill(sources.id(entry.source), at, at + r.n);
    for (let i = 0; i < r.n; i++) sid[at + i] = sids[r.sid[i]];
    if (r.text) {
      text ??= new Array<string | null>(n).fill(null);
      for (let i = 0; i < r.n; i++) text[at + i] = r.text[i];
    }
    at += r.n;
  }
  const seen = new Uint8Array(dict.names.length);
  const present: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!seen[sid[i]]) {
      seen[sid[i]] = 1;
      present.push(sid[i]);
    }
  }
  const { rank, byRank } = rankNames(present.map((s) => dict.names[s]));
  const rankOf = new Int32Array(dict.names.length);
  const sidOfRank = new Int32Array(present.length);
  present.forEach((s, k) => {
    rankOf[s] = rank[k];
    sidOfRank[rank[k]] = s;
  });
  // The sensor column becomes the rank column in place.
  for (let i = 0; i < n; i++) sid[i] = rankOf[sid[i]];
  return { rows: { n, rank: sid, ts, value, valid, text, quality }, src, sources: sources.list, byRank, sidOfRank };
}

function quarantineRows(batch: PendingEntry[]): QuarantineRow[] {
  const out: QuarantineRow[] = [];
  for (const { entry, rejectsDone } of batch) {
    if (rejectsDone) continue;
    for (const r of entry.rejects) {
      // The entry's time, not the commit's: a replay after a crash writes the very same rows.
      out.push({ raw: r.raw, reason: r.reason, message: r.message, sourceFile: entry.source, location: r.location, locationKind: r.locationKind, atMs: entry.createdAtMs });
    }
  }
  return out;
}

/** Commits one micro-batch (readings first, then quarantine); both are txn-guarded, so a retry or replay is a no-op. */
export async function commitBatch(batch: PendingEntry[], ctx: BatchContext): Promise<BatchOutcome> {
  const position = batch[batch.length - 1].entry.position;
  const out: BatchOutcome = { position, rows: 0, written: 0, duplicates: 0, scanned: 0, quarantined: 0, readingsVersion: null, quarantineVersion: null, dates: [] };
  const hasRows = batch.some((p) => !p.rowsDone && p.entry.rows.n > 0);
  if (hasRows) {
    const g = gather(batch, ctx.dict);
    const order = orderByKey(g.rows, g.byRank.length);
    const first = firstArrivals(g.rows, order);
    const check = await checkAgainstTable(ctx.readings, ctx.partition, g.rows, first.winners, g.byRank, g.sidOfRank, ctx.marks);
    out.rows = g.rows.n;
    out.written = check.write.length;
    out.duplicates = first.duplicates + check.duplicates;
    out.scanned = check.scanned;
    let data: arrow.Table | [] = [];
    if (check.write.length > 0) {
      // One piece: a micro-batch is bounded by commitRows, and the writer cuts files by targetFileRows.
      [data] = readingPieces([{ rows: g.rows, idx: check.write, src: g.src }], g.byRank, g.sources, ctx.partition, check.write.length);
      out.dates = datesOf(g.rows.ts, check.write);
    }
    // Rows come out of readingPieces in (sensor_id, ts) order already, so no sortBy. An all-duplicate batch still
    // commits its txn, so a restart need not look at its entries again.
    // No checkpoint in the commit path: the ingestor writes them on its own schedule (checkpoints.ts).
    const r = await ctx.readings.write(data, { txn: { appId: ctx.serverId, version: position }, targetFileRows: fileRows(check.write.length), autoCheckpoint: false });
    out.readingsVersion = r.version;
    if (r.skipped) {
      // Committed by an earlier attempt whose reply was lost: nothing of this attempt was written.
      out.dates = [];
      out.written = 0;
    }
    // Every row of the batch is in the table now (written, or there before): marks may rise to the largest of them.
    const maxOf = new Float64Array(g.byRank.length).fill(-Infinity);
    for (let i = 0; i < g.rows.n; i++) if (g.rows.ts[i] > maxOf[g.rows.rank[i]]) maxOf[g.rows.rank[i]] = g.rows.ts[i];
    for (let k = 0; k < g.byRank.length; k++) {
      const t = check.tableMax[k];
      ctx.marks.raise(g.sidOfRank[k], t === t && t > maxOf[k] ? t : maxOf[k]);
    }
  }
  const q = quarantineRows(batch);
  if (q.length > 0) {
    const table = await ctx.quarantine();
    const r = await table.write(quarantineTable(q, ctx.serverId), { txn: { appId: `${ctx.serverId}:quarantine`, version: position }, autoCheckpoint: false });
    out.quarantineVersion = r.version;
    out.quarantined = q.length;
  }
  return out;
}

function datesOf(ts: Float64Array, idx: Uint32Array): string[] {
  const days = new Set<number>();
  let last = Number.NaN;
  for (let k = 0; k < idx.length; k++) {
    const d = Math.floor(ts[idx[k]] / US_PER_DAY);
    if (d !== last) {
      days.add(d);
      last = d;
    }
  }
  return [...days].sort((a, b) => a - b).map(dayText);
}
