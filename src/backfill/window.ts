// Pass 2 for one window (or one sensor bucket of a window too big for memory): loads its staged rows, dedups them
// within the input and against the table, and makes exactly one commit on `readings` under the given txn.

import type * as arrow from 'apache-arrow';
import type { DeltaTable } from '../delta/table.js';
import { dedupInput, mergeWithTable, orderByKey } from './dedup.js';
import { Names, readExisting, type ExistingRows } from './existing.js';
import { rangePredicate, sensorPredicate, type PartitionScheme } from './lake.js';
import { buildReadings, type OutputPart } from './output.js';
import type { WindowRange } from './plan.js';
import { RowBuffer } from './rows.js';
import { readSegments } from './staging.js';

/** Rows per data file: smaller than the writer's default to bound the encoder workers' memory (and prune finer). */
const FILE_ROWS = 1_000_000;

/** Up to this many sensors, scans and replaces name them (IN); beyond, they cover the window's whole range. */
const IN_LIMIT = 64;

export interface WindowJob {
  table: DeltaTable;
  partition: PartitionScheme;
  mode: 'merge' | 'replace';
  onConflict: 'keep-existing' | 'keep-incoming';
  /** The run's sensor ids by index, and source names by input file index. */
  sensors: string[];
  sources: string[];
  stagingFile: string;
  range: WindowRange;
  /** A bucket: only sensors whose mask is 1, all with ids in [lo, hi]. */
  bucket?: { mask: Uint8Array; lo: string; hi: string };
  txn: { appId: string; version: number };
  /** Rows expected (to size buffers). */
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

async function loadIncoming(job: WindowJob): Promise<RowBuffer> {
  const rows = new RowBuffer(Math.max(16, job.rows));
  const mask = job.bucket?.mask;
  for await (const b of readSegments(job.stagingFile)) {
    for (let i = 0; i < b.n; i++) if (!mask || mask[b.sid[i]]) rows.pushFrom(b, i);
  }
  return rows;
}

/** Ranks names by UTF-8 byte order, the order Delta stats and predicates compare strings in. */
function rankNames(names: string[]): { rank: Int32Array; byRank: string[] } {
  const keyed = names.map((s, id) => ({ id, b: Buffer.from(s, 'utf8') }));
  keyed.sort((x, y) => Buffer.compare(x.b, y.b));
  const rank = new Int32Array(names.length);
  keyed.forEach((k, r) => (rank[k.id] = r));
  return { rank, byRank: keyed.map((k) => names[k.id]) };
}

/** What a window commits, and its counts; the staged and existing rows it was made from are no longer held. */
interface Prepared {
  outcome: WindowOutcome;
  data: arrow.Table | null;
  /** The replaceWhere predicate, when the commit replaces table rows. */
  replaceWhere: string | null;
}

export async function processWindow(job: WindowJob): Promise<WindowOutcome> {
  // Preparing in its own call lets the window's working arrays be collected while the Parquet files are written.
  const { outcome, data, replaceWhere } = await prepareWindow(job);
  if (!data) return outcome;
  // Rows come out of buildReadings sorted by (sensor_id, ts) already (sensor ids in UTF-8 byte order, as Delta stats
  // compare them), so the writer's sortBy, which decodes a string per comparison to find that out, is left off.
  const opts = { txn: job.txn, targetFileRows: FILE_ROWS };
  const r = replaceWhere ? await job.table.write(data, { ...opts, mode: 'overwrite', replaceWhere }) : await job.table.write(data, opts);
  outcome.committed = !r.skipped;
  outcome.skipped = r.skipped;
  outcome.version = r.version;
  return outcome;
}

async function prepareWindow(job: WindowJob): Promise<Prepared> {
  const inc = await loadIncoming(job);
  const n = inc.n;
  const names = new Names();
  const local = new Int32Array(job.sensors.length).fill(-1);
  // Each row's name id for now; turned into its sensor rank in place once every name (the table's too) is known.
  const nameOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = inc.sid[i];
    if (local[s] < 0) local[s] = names.id(job.sensors[s]);
    nameOf[i] = local[s];
  }
  // Name ids below `present` are the sensors of the incoming rows; the table may add others after them.
  const present = names.list.length;
  const rewrites = job.mode === 'replace' || job.onConflict === 'keep-incoming';
  const presentIds = present <= IN_LIMIT ? [...names.list] : undefined;
  const where = [
    rangePredicate(job.range.startUs, job.range.endUs, job.partition),
    job.bucket ? sensorPredicate({ range: [job.bucket.lo, job.bucket.hi] }) : '',
    presentIds ? sensorPredicate({ ids: presentIds }) : '',
  ].filter(Boolean).join(' AND ');
  const sources = new Names(job.sources);
  const ex: ExistingRows = await readExisting(job.table, { where, full: rewrites, keep: rewrites ? undefined : (id) => id < present }, names, sources);

  const { rank, byRank } = rankNames(names.list);
  for (let i = 0; i < n; i++) nameOf[i] = rank[nameOf[i]];
  const incRows = { n, rank: nameOf, ts: inc.ts, value: inc.value, valid: inc.valid, text: inc.text, quality: inc.quality, file: inc.file, loc: inc.loc };
  for (let i = 0; i < ex.n; i++) ex.rank[i] = rank[ex.name[i]];
  const order = orderByKey(incRows, byRank.length);
  const d = dedupInput(incRows, order);
  const exOrder = orderByKey(ex, byRank.length);

  let write: Uint32Array = d.winners;
  let notWritten: Uint8Array | null = null;
  let keepExisting: Uint32Array | null = null;
  let conflictsWithTable = 0;
  let tableDuplicates = 0;
  let replaced = 0;
  if (job.mode === 'merge') {
    const m = mergeWithTable(incRows, d.winners, ex, exOrder, job.onConflict);
    write = m.write;
    notWritten = m.notWritten;
    conflictsWithTable = m.conflicts;
    tableDuplicates = m.duplicates + (job.onConflict === 'keep-existing' ? m.conflicts : 0);
    replaced = m.overridden;
    if (m.dropExisting) keepExisting = exOrder.filter((j) => !m.dropExisting![j]);
  } else if (ex.n > 0) {
    // Replace: the incoming sensors' rows in the window give way; other sensors' rows are carried over.
    keepExisting = exOrder.filter((j) => ex.name[j] >= present);
    replaced = ex.n - keepExisting.length;
  }

  const perFile = new Map<number, [number, number]>();
  for (let i = 0; i < n; i++) {
    const f = inc.file[i];
    let c = perFile.get(f);
    if (!c) perFile.set(f, (c = [0, 0]));
    if (d.dropped[i] || (notWritten && notWritten[i])) c[1]++;
    else c[0]++;
  }
  const outcome: WindowOutcome = {
    committed: false,
    skipped: false,
    version: null,
    read: n,
    written: write.length,
    duplicates: d.duplicates + tableDuplicates,
    conflictsInInput: d.conflicts,
    conflictsWithTable,
    replaced,
    perFile,
  };
  if (write.length === 0 && keepExisting === null) return { outcome, data: null, replaceWhere: null };
  const parts: OutputPart[] = [{ rows: incRows, idx: write, src: (i) => inc.file[i] }];
  if (keepExisting) parts.push({ rows: ex, idx: keepExisting, src: (j) => ex.src[j] });
  return { outcome, data: buildReadings(parts, byRank, sources.list, job.partition), replaceWhere: keepExisting ? where : null };
}
