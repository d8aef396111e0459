// Reads chosen columns of the readings table's data files for dedup: the files the engine's pruning selects (by
// partition values and min/max stats), decoded through parquet-wasm's projecting reader, so a rerun decodes the key
// columns (and the few it compares) instead of every column, and keeps sensor ids dictionary-encoded. Files this
// cannot read exactly (column mapping, deletion vectors, other column types) raise NotDirectlyReadable: scan then.

import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import type { DeltaTable } from '../delta/table.js';
import { CorruptLogError, SensorlakeError } from '../errors.js';

/** One data file's projected columns: the arrays as read, chunk by chunk (one chunk per decoded batch). */
export type FileBatch = arrow.RecordBatch;

/** What each column may be in a file for the reader to take it as the table's type without a cast. */
const ACCEPT: Record<string, (t: arrow.DataType) => boolean> = {
  ts: (t) => arrow.DataType.isTimestamp(t) && t.unit === arrow.TimeUnit.MICROSECOND,
  sensor_id: (t) => utf8(t),
  value: (t) => arrow.DataType.isFloat(t) && t.precision === arrow.Precision.DOUBLE,
  value_text: (t) => utf8(t),
  quality: (t) => arrow.DataType.isInt(t) && t.bitWidth === 64,
  source: (t) => utf8(t),
};

function utf8(t: arrow.DataType): boolean {
  return arrow.DataType.isUtf8(t) || (arrow.DataType.isDictionary(t) && arrow.DataType.isUtf8(t.dictionary) && t.indices.bitWidth === 32);
}

/** The relative paths of the files a scan with `where` reads; null when they cannot be read directly. */
async function plainFiles(table: DeltaTable, where: string): Promise<string[] | null> {
  const snap = await table.snapshot();
  if (snap.columnMappingMode !== 'none') return null;
  const adds = snap.fileMap();
  const out: string[] = [];
  for (const p of await table.files({ where, version: snap.version })) {
    const add = adds.get(p);
    if (!add || add.deletionVector) return null;
    // add.path is a relative URI: percent-encoded, and an absolute one (another location) is not ours to read.
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(p) || p.startsWith('/')) return null;
    let rel: string;
    try {
      rel = decodeURIComponent(p);
    } catch {
      return null;
    }
    out.push(rel);
  }
  return out;
}

/** Thrown by readTableColumns when the table's files cannot be read directly: the caller scans instead. */
export class NotDirectlyReadable extends SensorlakeError {}

/**
 * The batches of `columns` of every file the engine would scan for `where` (rows of the whole files: the caller
 * filters them), file by file. Throws NotDirectlyReadable, possibly after some files' batches, when the table needs
 * the engine's scan: the caller then drops what it took and scans.
 */
export async function* readTableColumns(table: DeltaTable, where: string, columns: string[]): AsyncGenerator<FileBatch> {
  const files = await plainFiles(table, where);
  if (!files) throw new NotDirectlyReadable(`${table.location}: data files need the engine's scan`);
  for (const rel of files) {
    const batches = await decodeColumns(await table.storage.read(rel), columns, `${table.location}/${rel}`);
    if (!batches) throw new NotDirectlyReadable(`${table.location}/${rel}: columns ${columns.join(', ')} need the engine's scan`);
    yield* batches;
  }
}

/** The file's `columns` (all present, each of a type ACCEPT takes), or null when it does not have them so. */
async function decodeColumns(bytes: Uint8Array, columns: string[], where: string): Promise<FileBatch[] | null> {
  let table: arrow.Table;
  try {
    const file = await pw.ParquetFile.fromFile(new Blob([bytes]));
    try {
      const names = new Set(arrow.tableFromIPC(file.schema().intoIPCStream()).schema.fields.map((f) => f.name));
      if (columns.some((c) => !names.has(c))) return null;
      table = arrow.tableFromIPC((await file.read({ columns, batchSize: 1 << 20 })).intoIPCStream());
    } finally {
      file.free();
    }
  } catch (e) {
    throw new CorruptLogError(`${where}: not a readable Parquet file: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  for (const c of columns) {
    const f = table.schema.fields.find((x) => x.name === c);
    if (!f || !(ACCEPT[c] ?? (() => false))(f.type)) return null;
  }
  return table.batches.filter((b) => b.numRows > 0);
}
