// Pass 2 for one window: loads its staged rows (bucket by bucket when over the row budget), dedups them within the
// input and against the table, and streams what it writes into exactly one commit on `readings` under the txn.

import type * as arrow from 'apache-arrow';
import os from 'node:os';
import type { DeltaTable, WriteData, WriteOptions } from '../delta/table.js';
import type { Bucket } from './buckets.js';
import { dedupInput, mergeWithTable, orderByKey } from './dedup.js';
import { countExisting, Names, readExisting, type ExistingRows } from './existing.js';
import { rangePredicate, sensorPredicate, type PartitionScheme } from './lake.js';
import { readingPieces, type OutputPart } from './output.js';
import type { WindowRange } from './plan.js';
import { loadInKeyOrder, type KeyOrdered } from './key-order.js';

/** Rows per data file: smaller than the writer's default to bound the encoder workers' memory (and prune finer). */
const FILE_ROWS = 1_000_000;
/** Files are not cut smaller than this to keep every encoder worker busy. */
const MIN_FILE_ROWS = 250_000;
/**
 * Rows per piece a bucketed window hands the writer: a piece's files encode in parallel, and only about one piece's
 * output exists at a time (the writer holds on to the last one while the next bucket is read).
 */
const BUCKET_PIECE_ROWS = 1_000_000;

/**
 * Rows per data file for a window (or bucket) of `rows`: FILE_ROWS, or less so that it makes at least one file per
 * core, since the files of one write are what the Parquet encoder workers work on in parallel.
 */
export function fileRows(rows: number, cores = os.availableParallelism()): number {
  return Math.max(MIN_FILE_ROWS, Math.min(FILE_ROWS, Math.ceil(rows / cores)));
}

export interface WindowJob {
  table: DeltaTable;
  partition: PartitionScheme;
  mode: 'merge' | 'replace';
  onConflict: 'keep-existing' | 'keep-incoming';
  /** The run's sensor ids by index, and source names by input file index. */
  sensors: string[];
  sources: string[];
  range: WindowRange;
  /** The window's staged rows, read whole or (over the row budget) sensor bucket by bucket. */
  stagingFile: string;
  buckets?: Bucket[];
  txn: { appId: string; version: number };
  /** Rows staged for the window. */
  rows: number;
}

export interface WindowOutcome {
  committed: boolean;
  /** The txn was found committed by someone else meanwhile. */
  skipped: boolean;
  version: number | null;
  read: number;
  written: number;
  duplicates: number;
  conflictsInInput: number;
  conflictsWithTable: number;
  /** Table rows replaced (replace mode, or keep-incoming conflicts). */
  replaced: number;
  /** [written, duplicates] per input file index. */
  perFile: Map<number, [number, number]>;
}

function emptyOutcome(read: number): WindowOutcome {
  return { committed: false, skipped: false, version: null, read, written: 0, duplicates: 0, conflictsInInput: 0, conflictsWithTable: 0, replaced: 0, perFile: new Map() };
}

function fold(into: WindowOutcome, o: WindowOutcome): void {
  into.written += o.written;
  into.duplicates += o.duplicates;
  into.conflictsInInput += o.conflictsInInput;
  into.conflictsWithTable += o.conflictsWithTable;
  into.replaced += o.replaced;
  for (const [f, [w, d]] of o.perFile) {
    const c = into.perFile.get(f) ?? [0, 0];
    c[0] += w;
    c[1] += d;
    into.perFile.set(f, c);
  }
}

interface Context {
  job: WindowJob;
  /** The window's time range as a predicate (partition bounds spelled out). */
  rangeWhere: string;
  /** Whether the table has any data file that may hold rows of the window; if not, there is nothing to scan. */
  overlap: boolean;
  /** The commit replaces the window's rows of the incoming sensors whatever a bucket finds: carry over all kept ones. */
  replacing: boolean;
}

/** What one set of rows (the window, or a bucket) writes, and its counts. */
interface Prepared {
  outcome: WindowOutcome;
  /** The tables to write, built one at a time as they are taken (nothing to write: none). */
  pieces: Iterable<arrow.Table>;
  /** Sensor ids of the incoming rows. */
  present: string[];
  /** Table rows of these sensors in the window must give way (replace, or keep-incoming conflicts). */
  rewrite: boolean;
}

/** A window ready to be written: its data (or the stream of its buckets' pieces) and write options. */
export interface WindowPlan {
  job: WindowJob;
  data: WriteData;
  opts: WriteOptions;
  /** Counts so far (a bucket stream adds to them as the writer pulls its pieces). */
  total: WindowOutcome;
}

/**
 * Reads, dedups and builds a whole window now (its rows fit the row budget), or sets up the stream of its buckets.
 * Planning touches no table state the window's own commit depends on, so the next window can be planned while this
 * one's Parquet files are encoded; the writes themselves must run one after the other, in window order.
 */
export async function planWindow(job: WindowJob): Promise<WindowPlan> {
  const rangeWhere = rangePredicate(job.range.startUs, job.range.endUs, job.partition);
  const overlap = (await job.table.files({ where: rangeWhere })).length > 0;
  const ctx: Context = { job, rangeWhere, overlap, replacing: job.buckets !== undefined && overlap && (job.mode === 'replace' || job.onConflict === 'keep-incoming') };
  const total = emptyOutcome(job.rows);
  // Rows come out of readingPieces sorted by (sensor_id, ts) already (sensor ids in UTF-8 byte order, as Delta stats
  // compare them, buckets in that order too), so the writer's sortBy is left off.
  const opts: WriteOptions = { txn: job.txn, targetFileRows: fileRows(job.buckets ? BUCKET_PIECE_ROWS : job.rows) };
  let data: WriteData;
  let present: string[];
  let rewrite: boolean;
  if (!job.buckets) {
    // Preparing in its own call lets the window's working arrays be collected while the Parquet files are written.
    // A whole window is one piece, built now: the next window is planned while this one is written.
    const p = await prepare(ctx, await loadInKeyOrder(job.stagingFile, job.sensors), Infinity);
    fold(total, p.outcome);
    const [piece] = p.pieces;
    data = piece ?? [];
    present = p.present;
    rewrite = p.rewrite;
  } else {
    // Which buckets rewrite is known only once each is read; a rewrite is then assumed whenever one is possible.
    present = job.buckets.flatMap((b) => b.sids.map((s) => job.sensors[s]));
    rewrite = ctx.replacing;
    data = bucketPieces(ctx, job.buckets, total);
  }
  // One predicate covers every bucket: the window's range and all its incoming sensors (an IN set, cheap to test).
  if (rewrite) Object.assign(opts, { mode: 'overwrite', replaceWhere: `${rangeWhere} AND ${sensorPredicate({ ids: present })}` });
  return { job, data, opts, total };
}

/** The window's one commit. */
export async function writeWindow(plan: WindowPlan): Promise<WindowOutcome> {
  const { job, total } = plan;
  const r = await job.table.write(plan.data, plan.opts);
  if (r.skipped) {
    // Committed by someone else meanwhile: nothing of this run's counts stands.
    return { ...emptyOutcome(job.rows), skipped: true };
  }
  total.committed = true;
  total.version = r.version;
  return total;
}

/** The buckets' pieces, one at a time: a bucket is read, deduped and built only when the writer asks for it. */
async function* bucketPieces(ctx: Context, buckets: Bucket[], total: WindowOutcome): AsyncGenerator<arrow.Table> {
  for (const bucket of buckets) {
    const p = await prepare(ctx, await loadInKeyOrder(ctx.job.stagingFile, ctx.job.sensors, bucket.sids), BUCKET_PIECE_ROWS);
    fold(total, p.outcome);
    yield* p.pieces;
  }
}

/** `pieceRows`: rows per table handed to the writer (its files of one piece are what encode in parallel). */
async function prepare(ctx: Context, loaded: KeyOrdered, pieceRows: number): Promise<Prepared> {
  const { job } = ctx;
  const inc = loaded.rows;
  const n = inc.n;
  const present = loaded.names;
  // Name ids of the window's sensors are their ranks; the table's rows of other sensors are left out as they are read.
  const names = new Names(present);
  const sources = new Names(job.sources);
  const empty: ExistingRows = { n: 0, rank: new Int32Array(0), ts: new Float64Array(0), value: new Float64Array(0), valid: new Uint8Array(0), text: null, quality: new Uint32Array(0), name: new Int32Array(0), src: new Int32Array(0) };
  // Replace needs only how many table rows give way; merge needs the rows themselves (all columns to rewrite them).
  const gone = job.mode === 'replace' && ctx.overlap && n > 0 ? await countExisting(job.table, tableRange(ctx, present, job.range.startUs, job.range.endUs), names) : 0;
  let ex = empty;
  if (job.mode === 'merge' && ctx.overlap && n > 0) {
    const full = job.onConflict === 'keep-incoming';
    // keep-existing only looks for the incoming keys: the time span they cover is all that can match. Rewrites carry
    // over every row of the window's sensors, so they read the whole window.
    const [lo, hi] = full ? [job.range.startUs, job.range.endUs] : tsSpan(inc.ts, n);
    ex = await readExisting(job.table, { ...tableRange(ctx, present, lo, hi), rows: n, full }, names, sources);
  }
  for (let i = 0; i < ex.n; i++) ex.rank[i] = ex.name[i];
  const order = identity(n);
  const d = dedupInput(inc, order);

  let write: Uint32Array = d.winners;
  let notWritten: Uint8Array | null = null;
  let keepExisting: Uint32Array | null = null;
  let conflictsWithTable = 0;
  let tableDuplicates = 0;
  let replaced = gone;
  if (ex.n > 0) {
    const exOrder = orderByKey(ex, present.length);
    const m = mergeWithTable(inc, d.winners, ex, exOrder, job.onConflict);
    write = m.write;
    notWritten = m.notWritten;
    conflictsWithTable = m.conflicts;
    tableDuplicates = m.duplicates + (job.onConflict === 'keep-existing' ? m.conflicts : 0);
    replaced = m.overridden;
    if (m.dropExisting) keepExisting = exOrder.filter((j) => !m.dropExisting![j]);
    else if (ctx.replacing) keepExisting = exOrder;
  }

  // [written, duplicates] per input file: counted in typed arrays (a window may hold rows of many files).
  const files = job.sources.length;
  const counts = new Float64Array(2 * files);
  for (let i = 0; i < n; i++) counts[2 * inc.file[i] + (d.dropped[i] || (notWritten !== null && notWritten[i]) ? 1 : 0)]++;
  const perFile = new Map<number, [number, number]>();
  for (let f = 0; f < files; f++) if (counts[2 * f] + counts[2 * f + 1] > 0) perFile.set(f, [counts[2 * f], counts[2 * f + 1]]);
  const outcome = emptyOutcome(n);
  outcome.written = write.length;
  outcome.duplicates = d.duplicates + tableDuplicates;
  outcome.conflictsInInput = d.conflicts;
  outcome.conflictsWithTable = conflictsWithTable;
  outcome.replaced = replaced;
  outcome.perFile = perFile;
  const rewrite = gone > 0 || keepExisting !== null;
  if (write.length === 0 && keepExisting === null) return { outcome, pieces: [], present, rewrite };
  const parts: OutputPart[] = [{ rows: inc, idx: write, src: inc.file }];
  if (keepExisting) parts.push({ rows: ex, idx: keepExisting, src: ex.src });
  return { outcome, pieces: readingPieces(parts, present, sources.list, job.partition, pieceRows), present, rewrite };
}

/**
 * The table rows a set of incoming rows is checked against: the time range [lo, hi) of the window and the range of
 * its sensor ids (the engine prunes files by partition and stats, then keeps the rows that match).
 */
function tableRange(ctx: Context, present: string[], lo: number, hi: number): { where: string } {
  return { where: `${rangePredicate(lo, hi, ctx.job.partition)} AND ${sensorPredicate({ range: [present[0], present[present.length - 1]] })}` };
}

/** [min, max + 1) of the first n times. */
function tsSpan(ts: Float64Array, n: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = ts[i];
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return [lo, hi + 1];
}

function identity(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
