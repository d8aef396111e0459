// Parquet bytes <-> Arrow tables through parquet-wasm (arrow-rs). Encoding writes Delta's types (µs UTC timestamps,
// dictionary strings, zstd); decoding brings any writer's timestamps (INT96, ns, ms) to exact microseconds.

import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { CorruptLogError } from '../../errors.js';
import { encodeParquetIpc } from './parquet-encode.js';
import { Compact, footerStart } from './thrift-compact.js';

export { ParquetEncoderPool } from './parquet-pool.js';
export { encodeParquetIpc };

export interface ParquetWriteOptions {
  compression?: 'zstd' | 'snappy' | 'uncompressed';
  /** parquet-wasm 0.8.0 cannot set a zstd level: it always uses 1, so only 1 is accepted. */
  zstdLevel?: number;
  /** Maximum rows per row group; 1,048,576 by default. */
  rowGroupSize?: number;
}

/**
 * Top-level columns written without a dictionary:
 * - timestamps and floats: sensor times and readings are nearly unique, so a dictionary only fills up (1 MB) and
 *   falls back, leaving the first pages larger (45.5 vs 42.0 MB on 5 M readings);
 * - integers, when the file is compressed: arrow-rs hashes every value into its dictionary, ~35 ns a row in wasm
 *   (an eighth of encoding 1.4 M sensor rows), while zstd and snappy fold repeated small codes nearly as well
 *   (quality codes per 1.4 M rows: 0.02 MB plain + zstd vs 0.03 MB dictionary + zstd; 0.30 vs 0.04 MB with snappy).
 * Every other column, strings above all, is dictionary-encoded, as Spark does.
 */
export function plainEncodedColumns(schema: arrow.Schema, compression: ParquetWriteOptions['compression'] = 'zstd'): string[] {
  const compressed = compression !== 'uncompressed';
  return schema.fields
    .filter((f) => arrow.DataType.isTimestamp(f.type) || arrow.DataType.isFloat(f.type) || (compressed && arrow.DataType.isInt(f.type)))
    .map((f) => f.name);
}

/**
 * Top-level timestamp columns, written DELTA_BINARY_PACKED: sensor times rise in small steps, so this is smaller than
 * plain + zstd (2.1 vs 3.0 MB per 1.4 M readings) and writes ~3x faster. Spark (vectorized reader since 3.3, row
 * reader always), delta-rs, DuckDB and pyarrow read it.
 */
export function deltaEncodedColumns(schema: arrow.Schema): string[] {
  return schema.fields.filter((f) => arrow.DataType.isTimestamp(f.type)).map((f) => f.name);
}

/** Encodes a table synchronously on this thread (zstd level 1, page statistics, dictionary-encoded strings). */
export function encodeParquet(table: arrow.Table, opts: ParquetWriteOptions = {}): Uint8Array {
  return encodeParquetIpc(arrow.tableToIPC(table, 'stream'), opts, plainEncodedColumns(table.schema, opts.compression), deltaEncodedColumns(table.schema));
}

/**
 * Decodes a whole Parquet file. Timestamp columns (also inside structs, lists and maps) come back as microseconds
 * with the file's time zone-ness; INT96 ones (Spark's legacy instants) as microseconds in UTC. `columns` keeps only
 * those top-level columns (parquet-wasm's synchronous reader ignores projection, so everything is still decoded:
 * readParquetColumns decodes only the chosen ones).
 */
export function decodeParquet(bytes: Uint8Array, where: string, opts: { columns?: string[] } = {}): arrow.Table {
  let table: arrow.Table;
  let int96: number[];
  try {
    const hinted = hintInt96(bytes);
    int96 = hinted.int96Leaves;
    table = arrow.tableFromIPC(pw.readParquet(hinted.bytes, { batchSize: 1 << 16 }).intoIPCStream());
  } catch (e) {
    throw unreadable(e, where);
  }
  checkInt96(table.schema, int96, where);
  if (opts.columns) {
    const keep = new Set(opts.columns);
    table = table.select(table.schema.fields.map((f) => f.name).filter((n) => keep.has(n)));
  }
  return normaliseTimestamps(table, where);
}

/** What readParquetColumns decoded: the chosen columns (in file order) and the file's row count. */
export interface ProjectedParquet {
  /** The chosen top-level columns only; numRows is 0 when none was chosen: use `rows`. */
  table: arrow.Table;
  rows: number;
}

/**
 * Decodes only some top-level columns of a Parquet file, chosen by `choose` from the file's own schema (so a caller
 * can match columns by name or by field id), with decodeParquet's timestamp handling. Other columns' pages are
 * never decompressed or decoded; rows keep their positions in the file (every row of the chosen columns is read).
 */
export async function readParquetColumns(bytes: Uint8Array, where: string, choose: (fileSchema: arrow.Schema) => string[]): Promise<ProjectedParquet> {
  let table: arrow.Table;
  let rows: number;
  let int96: number[];
  let fileSchema: arrow.Schema;
  let file: pw.ParquetFile | null = null;
  try {
    const hinted = hintInt96(bytes);
    int96 = hinted.int96Leaves;
    // The synchronous readParquet ignores `columns`; the file reader honours it.
    file = await pw.ParquetFile.fromFile(new Blob([hinted.bytes]));
    const meta = file.metadata();
    const fileMeta = meta.fileMetadata();
    rows = fileMeta.numRows();
    fileMeta.free();
    meta.free();
    fileSchema = arrow.tableFromIPC(file.schema().intoIPCStream()).schema;
    const columns = choose(fileSchema);
    // Large batches: a scan filters and gathers batch by batch, and each costs a little in JS.
    table = columns.length === 0 ? new arrow.Table() : arrow.tableFromIPC((await file.read({ columns, batchSize: 1 << 20 })).intoIPCStream());
  } catch (e) {
    throw unreadable(e, where);
  } finally {
    file?.free();
  }
  // The INT96 leaves are counted over the whole file schema; the columns were read with the same (hinted) footer.
  checkInt96(fileSchema, int96, where);
  if (table.numCols > 0 && table.numRows !== rows) {
    throw new CorruptLogError(`${where}: read ${table.numRows} rows of columns ${table.schema.names.join(', ')} but the footer says ${rows}`);
  }
  return { table: normaliseTimestamps(table, where), rows };
}

function unreadable(e: unknown, where: string): CorruptLogError {
  if (e instanceof CorruptLogError) return new CorruptLogError(`${where}: ${e.message}`, { cause: e });
  return new CorruptLogError(`${where}: not a readable Parquet file: ${message(e)}`, { cause: e });
}

/** The INT96 hint must have reached arrow-rs: nanoseconds here would be values that wrapped outside 1677..2262. */
function checkInt96(schema: arrow.Schema, int96: number[], where: string): void {
  if (int96.length === 0) return;
  const types = leafTypes(schema.fields);
  for (const i of int96) {
    const t = types[i];
    if (!t || !arrow.DataType.isTimestamp(t) || t.unit === arrow.TimeUnit.NANOSECOND) {
      throw new CorruptLogError(`${where}: INT96 column ${i} could not be read at microsecond precision (got ${String(t)})`);
    }
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---- Timestamps in units other than µs -------------------------------------------------------------------------

function needsFix(t: arrow.DataType): boolean {
  if (arrow.DataType.isTimestamp(t)) return t.unit !== arrow.TimeUnit.MICROSECOND;
  if (arrow.DataType.isStruct(t) || arrow.DataType.isList(t) || arrow.DataType.isMap(t) || arrow.DataType.isFixedSizeList(t)) {
    return t.children.some((f) => needsFix(f.type));
  }
  return false;
}

const TO_MICROS: Record<number, [mul: bigint, div: bigint]> = {
  [arrow.TimeUnit.SECOND]: [1_000_000n, 1n],
  [arrow.TimeUnit.MILLISECOND]: [1000n, 1n],
  [arrow.TimeUnit.NANOSECOND]: [1n, 1000n],
};
const MAX_I64 = (1n << 63n) - 1n;

function fixTimestamps(d: arrow.Data, where: string): arrow.Data {
  const t = d.type;
  if (arrow.DataType.isTimestamp(t)) {
    if (t.unit === arrow.TimeUnit.MICROSECOND) return d;
    const [mul, div] = TO_MICROS[t.unit];
    const src = d.values as unknown as BigInt64Array; // sliced to this Data: index i is row i
    const out = new BigInt64Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      if (div !== 1n) {
        const q = v / div; // BigInt division truncates; floor it so pre-1970 instants stay exact
        out[i] = v < 0n && q * div !== v ? q - 1n : q;
      } else {
        const r = v * mul;
        if ((r > MAX_I64 || r < -MAX_I64) && i < d.length && d.getValid(i)) {
          throw new CorruptLogError(`${where}: timestamp ${v} (unit ${arrow.TimeUnit[t.unit]}) does not fit in microseconds`);
        }
        out[i] = r;
      }
    }
    const type = new arrow.Timestamp(arrow.TimeUnit.MICROSECOND, t.timezone);
    return d.clone(type, d.offset, d.length, d.nullCount, [undefined, out, d.nullBitmap, undefined] as never);
  }
  if (!needsFix(t)) return d;
  const children = d.children.map((c) => fixTimestamps(c, where));
  const fields = t.children.map((f, i) => f.clone({ type: children[i].type }));
  let type: arrow.DataType;
  if (arrow.DataType.isStruct(t)) type = new arrow.Struct(fields);
  else if (arrow.DataType.isList(t)) type = new arrow.List(fields[0]);
  else if (arrow.DataType.isFixedSizeList(t)) type = new arrow.FixedSizeList(t.listSize, fields[0]);
  else type = new arrow.Map_(fields[0] as arrow.Field<arrow.Struct<{ key: arrow.DataType; value: arrow.DataType }>>, (t as arrow.Map_).keysSorted);
  return d.clone(type, d.offset, d.length, d.nullCount, d.buffers as never, children);
}

function normaliseTimestamps(table: arrow.Table, where: string): arrow.Table {
  if (!table.schema.fields.some((f) => needsFix(f.type))) return table;
  const batches = table.batches.map((b) => {
    const children = b.data.children.map((c, i) => fixTimestamps(c, `${where}: column ${table.schema.fields[i].name}`));
    const fields = table.schema.fields.map((f, i) => f.clone({ type: children[i].type }));
    const schema = new arrow.Schema(fields, table.schema.metadata);
    const data = arrow.makeData({ type: new arrow.Struct(fields), length: b.numRows, nullCount: 0, children });
    return new arrow.RecordBatch(schema, data);
  });
  if (batches.length === 0) {
    const empty = table.schema.fields.map((f) => f.clone({ type: fixTimestamps(arrow.makeData({ type: f.type, length: 0 } as never), where).type }));
    return new arrow.Table(new arrow.Schema(empty, table.schema.metadata));
  }
  return new arrow.Table(batches);
}

// ---- INT96 -----------------------------------------------------------------------------------------------------
// arrow-rs decodes INT96 as nanoseconds with wrapping arithmetic, so Spark instants before 1677 or after 2262 come
// back as other, plausible-looking instants. It reads them exactly when the footer's ARROW:schema asks for
// microseconds, so for files with INT96 columns we splice such a hint into a copy of the footer (Thrift compact).

const PARQUET_INT96 = 3;

function leafTypes(fields: arrow.Field[]): arrow.DataType[] {
  const out: arrow.DataType[] = [];
  const walk = (t: arrow.DataType): void => {
    if (arrow.DataType.isStruct(t) || arrow.DataType.isList(t) || arrow.DataType.isFixedSizeList(t) || arrow.DataType.isLargeList(t)) {
      for (const c of t.children) walk(c.type);
    } else if (arrow.DataType.isMap(t)) for (const c of t.children[0].type.children) walk(c.type);
    else out.push(t);
  };
  for (const f of fields) walk(f.type);
  return out;
}

/** Rebuilds a type with leaf `i` (counted across the schema) replaced by `to(leaf)`. */
function replaceLeaves(t: arrow.DataType, counter: { i: number }, to: (leaf: arrow.DataType, i: number) => arrow.DataType): arrow.DataType {
  const kids = (fs: arrow.Field[]): arrow.Field[] => fs.map((f) => f.clone({ type: replaceLeaves(f.type, counter, to) }));
  if (arrow.DataType.isStruct(t)) return new arrow.Struct(kids(t.children));
  if (arrow.DataType.isList(t)) return new arrow.List(kids(t.children)[0]);
  if (arrow.DataType.isLargeList(t)) return new arrow.LargeList(kids(t.children)[0]);
  if (arrow.DataType.isFixedSizeList(t)) return new arrow.FixedSizeList(t.listSize, kids(t.children)[0]);
  if (arrow.DataType.isMap(t)) {
    const entries = t.children[0];
    const type = new arrow.Struct(kids(entries.type.children)) as arrow.Struct<{ key: arrow.DataType; value: arrow.DataType }>;
    return new arrow.Map_(entries.clone({ type }), t.keysSorted);
  }
  return to(t, counter.i++);
}

function hintInt96(bytes: Uint8Array): { bytes: Uint8Array; int96Leaves: number[] } {
  const start = footerStart(bytes);
  if (start === null) return { bytes, int96Leaves: [] }; // not PAR1-terminated (or encrypted): let parquet-wasm report it
  const r = new Compact(bytes, start);
  const fields: { id: number; type: number; start: number; end: number }[] = [];
  const leaves: number[] = [];
  const kv: [Uint8Array, Uint8Array | null][] = [];
  for (let f = r.field(0); f; f = r.field(f.id)) {
    const s = r.pos;
    if (f.id === 2 && f.type === 9) {
      const l = r.list();
      for (let e = 0; e < l.size; e++) {
        let type = -1;
        let children = 0;
        for (let g = r.field(0); g; g = r.field(g.id)) {
          if (g.id === 1 && g.type === 5) type = r.i32();
          else if (g.id === 5 && g.type === 5) children = r.i32();
          else r.skip(g.type, true);
        }
        if (e > 0 && children === 0) leaves.push(type);
      }
    } else if (f.id === 5 && f.type === 9) {
      const l = r.list();
      for (let e = 0; e < l.size; e++) {
        let key: Uint8Array = new Uint8Array();
        let value: Uint8Array | null = null;
        for (let g = r.field(0); g; g = r.field(g.id)) {
          if (g.id === 1 && g.type === 8) key = r.binary();
          else if (g.id === 2 && g.type === 8) value = r.binary();
          else r.skip(g.type, true);
        }
        kv.push([key, value]);
      }
    } else r.skip(f.type, true);
    fields.push({ id: f.id, type: f.type, start: s, end: r.pos });
  }
  const int96Leaves = leaves.flatMap((t, i) => (t === PARQUET_INT96 ? [i] : []));
  if (int96Leaves.length === 0) return { bytes, int96Leaves };

  const inferred = arrow.tableFromIPC(pw.readSchema(bytes).intoIPCStream()).schema;
  if (leafTypes(inferred.fields).length !== leaves.length) {
    throw new CorruptLogError(`cannot match the ${leaves.length} Parquet leaf columns to the Arrow schema to read INT96 exactly`);
  }
  const isInt96 = new Set(int96Leaves);
  const counter = { i: 0 };
  const hintFields = inferred.fields.map((f) =>
    f.clone({
      type: replaceLeaves(f.type, counter, (leaf, i) =>
        isInt96.has(i) && arrow.DataType.isTimestamp(leaf) && leaf.unit === arrow.TimeUnit.NANOSECOND ? new arrow.TimestampMicrosecond('UTC') : leaf,
      ),
    }),
  );
  const ipc = arrow.tableToIPC(new arrow.Table(new arrow.Schema(hintFields)), 'stream');
  const msgLen = new DataView(ipc.buffer, ipc.byteOffset + 4, 4).getInt32(0, true);
  const hint = Buffer.from(ipc.subarray(0, 8 + msgLen)).toString('base64');

  // Re-emit FileMetaData with field 5 (key_value_metadata) replaced: field headers are deltas, so rewrite them all.
  const enc = new TextEncoder();
  const out: number[] = [];
  const varint = (v: number): void => {
    while (v >= 0x80) {
      out.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
  };
  const bin = (b: Uint8Array): void => {
    varint(b.length);
    for (const x of b) out.push(x);
  };
  let last = 0;
  const header = (id: number, type: number): void => {
    if (id > last && id - last <= 15) out.push(((id - last) << 4) | type);
    else {
      out.push(type);
      varint(id < 0 ? -2 * id - 1 : 2 * id);
    }
    last = id;
  };
  const entries = kv.filter(([k]) => Buffer.from(k).toString() !== 'ARROW:schema');
  entries.push([enc.encode('ARROW:schema'), enc.encode(hint)]);
  let wroteKv = false;
  const writeKv = (): void => {
    header(5, 9);
    if (entries.length < 15) out.push((entries.length << 4) | 12);
    else {
      out.push(0xf0 | 12);
      varint(entries.length);
    }
    for (const [k, v] of entries) {
      out.push(0x18);
      bin(k);
      if (v) {
        out.push(0x18);
        bin(v);
      }
      out.push(0);
    }
    wroteKv = true;
  };
  for (const f of fields) {
    if (f.id === 5) {
      writeKv();
      continue;
    }
    if (f.id > 5 && !wroteKv) writeKv();
    header(f.id, f.type);
    for (let i = f.start; i < f.end; i++) out.push(bytes[i]);
  }
  if (!wroteKv) writeKv();
  out.push(0);
  const result = new Uint8Array(start + out.length + 8);
  result.set(bytes.subarray(0, start));
  result.set(out, start);
  new DataView(result.buffer).setUint32(start + out.length, out.length, true);
  result.set([0x50, 0x41, 0x52, 0x31], start + out.length + 4);
  return { bytes: result, int96Leaves };
}
