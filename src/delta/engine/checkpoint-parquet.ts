// Checkpoint files: actions <-> Parquet rows in the protocol's checkpoint schema (one action per row, one nullable
// struct column per action kind, real MAP and LIST columns). Reads Spark's, delta-rs's and Databricks' variants.

import * as arrow from 'apache-arrow';
import type { Action, Add, DeletionVectorDescriptor, Metadata, Protocol, Remove, Txn } from '../kernel/actions.js';
import { CorruptLogError, InvalidArgumentError } from '../../errors.js';
import { decodeParquet, encodeParquet } from './parquet.js';

// ---- Schema (field names, order and types follow what Spark 3.5 / Delta 3 write) ---------------------------------

const str = new arrow.Utf8();
const i32 = new arrow.Int32();
const i64 = new arrow.Int64();
const bool = new arrow.Bool();
const f = (name: string, type: arrow.DataType): arrow.Field => new arrow.Field(name, type, true);

function stringMap(): arrow.Map_ {
  const entries = new arrow.Struct<{ key: arrow.Utf8; value: arrow.Utf8 }>([new arrow.Field('key', str, false), new arrow.Field('value', str, true)]);
  const t = new arrow.Map_(new arrow.Field('key_value', entries, false));
  // apache-arrow renames the entries field to "entries"; Parquet's MAP spec and Spark name the group "key_value".
  (t.children[0] as { name: string }).name = 'key_value';
  return t;
}
const stringList = (): arrow.List => new arrow.List(f('element', str));
const dvType = (): arrow.Struct =>
  new arrow.Struct([f('storageType', str), f('pathOrInlineDv', str), f('offset', i32), f('sizeInBytes', i32), f('cardinality', i64)]);

const SCHEMA = new arrow.Schema([
  f('txn', new arrow.Struct([f('appId', str), f('version', i64), f('lastUpdated', i64)])),
  f(
    'add',
    new arrow.Struct([
      f('path', str),
      f('partitionValues', stringMap()),
      f('size', i64),
      f('modificationTime', i64),
      f('dataChange', bool),
      f('tags', stringMap()),
      f('deletionVector', dvType()),
      f('baseRowId', i64),
      f('defaultRowCommitVersion', i64),
      f('clusteringProvider', str),
      f('stats', str),
    ]),
  ),
  f(
    'remove',
    new arrow.Struct([
      f('path', str),
      f('deletionTimestamp', i64),
      f('dataChange', bool),
      f('extendedFileMetadata', bool),
      f('partitionValues', stringMap()),
      f('size', i64),
      f('tags', stringMap()),
      f('deletionVector', dvType()),
      f('baseRowId', i64),
      f('defaultRowCommitVersion', i64),
      f('stats', str),
    ]),
  ),
  f(
    'metaData',
    new arrow.Struct([
      f('id', str),
      f('name', str),
      f('description', str),
      f('format', new arrow.Struct([f('provider', str), f('options', stringMap())])),
      f('schemaString', str),
      f('partitionColumns', stringList()),
      f('configuration', stringMap()),
      f('createdTime', i64),
    ]),
  ),
  f('protocol', new arrow.Struct([f('minReaderVersion', i32), f('minWriterVersion', i32), f('readerFeatures', stringList()), f('writerFeatures', stringList())])),
  f('domainMetadata', new arrow.Struct([f('domain', str), f('configuration', str), f('removed', bool)])),
]);

// ---- Encoding ----------------------------------------------------------------------------------------------------
// Columns are built straight from the action objects, whose field names are the schema's (absent = null): arrow-js's
// generic builders spent most of their time in garbage collection on checkpoints of 100 k files.

const KINDS = new Set(SCHEMA.fields.map((fl) => fl.name));

function validity(values: unknown[]): { nullCount: number; nullBitmap: Uint8Array } {
  const nullBitmap = new Uint8Array((values.length + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null || values[i] === undefined) nullCount++;
    else nullBitmap[i >> 3] |= 1 << (i & 7);
  }
  return { nullCount, nullBitmap };
}

function integer(v: unknown, where: string): number | bigint {
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v))) return v;
  throw new InvalidArgumentError(`checkpoint: ${where} must be an integer, got ${JSON.stringify(v)}`);
}

/** Entries of a string map given as a plain object or a Map. */
function entries(v: unknown, where: string): [string, unknown][] {
  if (v instanceof Map) return [...(v as Map<string, unknown>)];
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return Object.entries(v);
  throw new InvalidArgumentError(`checkpoint: ${where} must be a string map, got ${JSON.stringify(v)}`);
}

function build(type: arrow.DataType, values: unknown[], where: string): arrow.Data {
  const n = values.length;
  const { nullCount, nullBitmap } = validity(values);
  const base = { length: n, nullCount, nullBitmap };
  if (arrow.DataType.isStruct(type)) {
    const children = type.children.map((c) =>
      build(c.type, values.map((v) => (v === null || v === undefined ? null : (v as Record<string, unknown>)[c.name])), `${where}.${c.name}`),
    );
    return arrow.makeData({ type, ...base, children });
  }
  if (arrow.DataType.isList(type) || arrow.DataType.isMap(type)) {
    const valueOffsets = new Int32Array(n + 1);
    const items: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) {
        if (arrow.DataType.isMap(type)) for (const [key, value] of entries(v, where)) items.push({ key, value });
        else if (Array.isArray(v)) items.push(...(v as unknown[]));
        else throw new InvalidArgumentError(`checkpoint: ${where} must be a list, got ${JSON.stringify(v)}`);
      }
      valueOffsets[i + 1] = items.length;
    }
    return arrow.makeData({ type, ...base, valueOffsets, child: build(type.children[0].type, items, where) } as never);
  }
  if (arrow.DataType.isUtf8(type)) {
    const valueOffsets = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v !== null && v !== undefined && typeof v !== 'string') throw new InvalidArgumentError(`checkpoint: ${where} must be a string, got ${JSON.stringify(v)}`);
      total += v ? Buffer.byteLength(v as string) : 0;
    }
    const data = Buffer.allocUnsafe(total);
    for (let i = 0, off = 0; i < n; i++) {
      if (values[i]) off += data.write(values[i] as string, off);
      valueOffsets[i + 1] = off;
    }
    return arrow.makeData({ type, ...base, valueOffsets, data });
  }
  if (arrow.DataType.isBool(type)) {
    const data = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (values[i] === true) data[i >> 3] |= 1 << (i & 7);
    return arrow.makeData({ type, ...base, data });
  }
  if (arrow.DataType.isInt(type) && type.bitWidth === 64) {
    const data = new BigInt64Array(n);
    for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) data[i] = BigInt(integer(values[i], where));
    return arrow.makeData({ type: type as arrow.Int64, ...base, data });
  }
  if (arrow.DataType.isInt(type)) {
    const data = new Int32Array(n);
    for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) data[i] = Number(integer(values[i], where));
    return arrow.makeData({ type: type as arrow.Int32, ...base, data });
  }
  throw new Error(`checkpoint schema type ${String(type)} has no builder`);
}

/** One row per txn/add/remove/metaData/protocol/domainMetadata action, in the given order; others are skipped. */
export function encodeCheckpoint(actions: Action[]): Uint8Array {
  const cols = new Map<string, unknown[]>(SCHEMA.fields.map((fl) => [fl.name, []]));
  for (const a of actions) {
    const kind = Object.keys(a).find((k) => KINDS.has(k));
    if (kind === undefined) continue; // commitInfo, cdc, ...: never in a checkpoint
    for (const [k, c] of cols) c.push(k === kind ? (a as Record<string, unknown>)[kind] : null);
  }
  const n = cols.get('add')!.length;
  const children = SCHEMA.fields.map((fl) => build(fl.type, cols.get(fl.name)!, fl.name));
  const batch = new arrow.RecordBatch(SCHEMA, arrow.makeData({ type: new arrow.Struct(SCHEMA.fields), length: n, nullCount: 0, children }));
  // Snappy, as Spark and delta-rs write checkpoints: every Delta reader can read it.
  return encodeParquet(new arrow.Table([batch]), { compression: 'snappy' });
}

// ---- Decoding ----------------------------------------------------------------------------------------------------

/** Reads one field of a struct column by row, null when absent; a field this writer did not write is always null. */
type Get<T> = (i: number) => T | null;

/**
 * A struct column read straight from its Arrow buffers (Vector.get builds wrapper objects per map and list value,
 * which made decoding GC-bound). `chunks` are the column's Data pieces; `starts` their first rows.
 */
class StructReader {
  private readonly fields = new Map<string, arrow.Data[]>();
  constructor(
    private readonly chunks: arrow.Data[],
    private readonly starts: number[],
    private readonly where: string,
  ) {
    const t = chunks[0]?.type as arrow.Struct | undefined;
    t?.children.forEach((c, k) => this.fields.set(c.name, chunks.map((d) => d.children[k])));
  }

  static of(v: arrow.Vector, where: string): StructReader {
    // Empty batches may come back from IPC without child arrays; they hold no rows, so leave them out.
    const chunks = v.data.filter((d) => d.length > 0);
    const starts: number[] = [];
    let row = 0;
    for (const d of chunks) {
      starts.push(row);
      row += d.length;
    }
    return new StructReader(chunks, starts, where);
  }

  private locate(i: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  valid(i: number): boolean {
    const c = this.locate(i);
    return this.chunks[c].getValid(i - this.starts[c]);
  }

  private getter<T>(name: string, read: (d: arrow.Data, j: number) => T): Get<T> {
    const parts = this.fields.get(name);
    if (!parts) return () => null;
    return (i) => {
      const c = this.locate(i);
      const d = parts[c];
      const j = i - this.starts[c];
      return d.getValid(j) ? read(d, j) : null;
    };
  }

  str(name: string): Get<string> {
    return this.getter(name, utf8);
  }
  bool(name: string): Get<boolean> {
    return this.getter(name, (d, j) => ((d.values as Uint8Array)[(d.offset + j) >> 3] & (1 << ((d.offset + j) & 7))) !== 0);
  }
  num(name: string): Get<number> {
    return this.getter(name, (d, j) => {
      const v = (d.values as unknown as ArrayLike<number | bigint>)[j];
      const n = Number(v);
      if (!Number.isSafeInteger(n)) throw new CorruptLogError(`${this.where}: ${name} = ${v} is not a safe integer`);
      return n;
    });
  }
  map(name: string): Get<Record<string, string | null>> {
    return this.getter(name, (d, j) => {
      const o = d.valueOffsets as Int32Array;
      const [keys, values] = d.children[0].children;
      const out: Record<string, string | null> = {};
      for (let k = o[j]; k < o[j + 1]; k++) out[utf8(keys, k)] = values.getValid(k) ? utf8(values, k) : null;
      return out;
    });
  }
  list(name: string): Get<string[]> {
    return this.getter(name, (d, j) => {
      const o = d.valueOffsets as Int32Array;
      const items = d.children[0];
      const out: string[] = [];
      for (let k = o[j]; k < o[j + 1]; k++) {
        if (!items.getValid(k)) throw new CorruptLogError(`${this.where}: ${name} holds a null element`);
        out.push(utf8(items, k));
      }
      return out;
    });
  }
  struct(name: string): StructReader | null {
    const parts = this.fields.get(name);
    return parts && parts.length > 0 && arrow.DataType.isStruct(parts[0].type) ? new StructReader(parts, this.starts, `${this.where}.${name}`) : null;
  }
}

function utf8(d: arrow.Data, j: number): string {
  const o = d.valueOffsets as Int32Array;
  const bytes = d.values as Uint8Array;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', o[j], o[j + 1]);
}

/** Sets `key` only when the value is present, so absent fields stay absent as they would in a JSON commit. */
function put<T extends object, K extends keyof T>(o: T, key: K, v: T[K] | null): void {
  if (v !== null && v !== undefined) o[key] = v;
}

function need<T>(v: T | null, what: string, i: number, where: string): T {
  if (v === null) throw new CorruptLogError(`${where}: row ${i}: ${what} is null`);
  return v;
}

function dvReader(s: StructReader | null, where: string): Get<DeletionVectorDescriptor> {
  if (!s) return () => null;
  const [st, p, off, size, card] = [s.str('storageType'), s.str('pathOrInlineDv'), s.num('offset'), s.num('sizeInBytes'), s.num('cardinality')];
  return (i) => {
    if (!s.valid(i)) return null;
    const w = `${where}.deletionVector`;
    const d: DeletionVectorDescriptor = {
      storageType: need(st(i), 'storageType', i, w) as DeletionVectorDescriptor['storageType'],
      pathOrInlineDv: need(p(i), 'pathOrInlineDv', i, w),
      sizeInBytes: need(size(i), 'sizeInBytes', i, w),
      cardinality: need(card(i), 'cardinality', i, w),
    };
    put(d, 'offset', off(i));
    return d;
  };
}

function fileReader(s: StructReader, kind: 'add' | 'remove', where: string): (i: number) => Add | Remove {
  const [path, pv, size, mtime, dc, tags, stats] = [s.str('path'), s.map('partitionValues'), s.num('size'), s.num('modificationTime'), s.bool('dataChange'), s.map('tags'), s.str('stats')];
  const [dtime, ext, baseRowId, drcv, cp] = [s.num('deletionTimestamp'), s.bool('extendedFileMetadata'), s.num('baseRowId'), s.num('defaultRowCommitVersion'), s.str('clusteringProvider')];
  const dvs = dvReader(s.struct('deletionVector'), `${where} ${kind}`);
  return (i) => {
    if (kind === 'add') {
      const a: Add = {
        path: need(path(i), 'add.path', i, where),
        partitionValues: pv(i) ?? {},
        size: need(size(i), 'add.size', i, where),
        modificationTime: mtime(i) ?? 0,
        dataChange: dc(i) ?? false,
      };
      put(a, 'stats', stats(i));
      put(a, 'tags', tags(i) as Record<string, string> | null);
      put(a, 'deletionVector', dvs(i));
      put(a, 'baseRowId', baseRowId(i));
      put(a, 'defaultRowCommitVersion', drcv(i));
      put(a, 'clusteringProvider', cp(i));
      return a;
    }
    const r: Remove = { path: need(path(i), 'remove.path', i, where), dataChange: dc(i) ?? false };
    put(r, 'deletionTimestamp', dtime(i));
    put(r, 'extendedFileMetadata', ext(i));
    put(r, 'partitionValues', pv(i));
    put(r, 'size', size(i));
    put(r, 'stats', stats(i));
    put(r, 'tags', tags(i) as Record<string, string> | null);
    put(r, 'deletionVector', dvs(i));
    put(r, 'baseRowId', baseRowId(i));
    put(r, 'defaultRowCommitVersion', drcv(i));
    return r;
  };
}

function metaDataReader(s: StructReader, where: string): (i: number) => Metadata {
  const [id, name, desc, schema, parts, conf, created] = [s.str('id'), s.str('name'), s.str('description'), s.str('schemaString'), s.list('partitionColumns'), s.map('configuration'), s.num('createdTime')];
  const fmt = s.struct('format');
  const [provider, options] = fmt ? [fmt.str('provider'), fmt.map('options')] : [() => null, () => null];
  return (i) => {
    const m = {
      id: need(id(i), 'metaData.id', i, where),
      format: { provider: provider(i) ?? 'parquet', options: (options(i) ?? {}) as Record<string, string> },
      partitionColumns: parts(i) ?? [],
      configuration: (conf(i) ?? {}) as Record<string, string>,
    } as Metadata;
    // Old Spark versions checkpoint a table's first, schema-less metaData with a null schemaString (Spark reads it
    // as an empty struct); it stays absent here, as it would be in the JSON commit.
    put(m, 'schemaString', schema(i));
    put(m, 'name', name(i));
    put(m, 'description', desc(i));
    put(m, 'createdTime', created(i));
    return m;
  };
}

/** v2 checkpoint bookkeeping rows, kept as the plain objects our JSON parser would give (nulls left out). */
function v2Reader(s: StructReader, kind: 'checkpointMetadata' | 'sidecar'): (i: number) => Action {
  const [path, size, mtime, version, tags] = [s.str('path'), s.num('sizeInBytes'), s.num('modificationTime'), s.num('version'), s.map('tags')];
  return (i) => {
    const o: Record<string, unknown> = {};
    if (kind === 'sidecar') {
      put(o, 'path', path(i));
      put(o, 'sizeInBytes', size(i));
      put(o, 'modificationTime', mtime(i));
    } else put(o, 'version', version(i));
    put(o, 'tags', tags(i));
    return kind === 'sidecar' ? { sidecar: o } : { checkpointMetadata: o };
  };
}

/** Decodes a classic, multi-part, v2 or sidecar checkpoint file into actions, in row order. */
export function decodeCheckpoint(bytes: Uint8Array, where: string): Action[] {
  const table = decodeParquet(bytes, where);
  const col = (name: string): StructReader | null => {
    const v = table.getChild(name);
    if (!v) return null;
    if (!arrow.DataType.isStruct(v.type)) throw new CorruptLogError(`${where}: checkpoint column ${name} is ${String(v.type)}, not a struct`);
    return StructReader.of(v, where);
  };
  const readers: [StructReader, (i: number) => Action][] = [];
  const add = col('add');
  if (add) {
    const r = fileReader(add, 'add', where);
    readers.push([add, (i) => ({ add: r(i) as Add })]);
  }
  const remove = col('remove');
  if (remove) {
    const r = fileReader(remove, 'remove', where);
    readers.push([remove, (i) => ({ remove: r(i) as Remove })]);
  }
  const md = col('metaData');
  if (md) {
    const r = metaDataReader(md, where);
    readers.push([md, (i) => ({ metaData: r(i) })]);
  }
  const pr = col('protocol');
  if (pr) {
    const [rv, wv, rf, wf] = [pr.num('minReaderVersion'), pr.num('minWriterVersion'), pr.list('readerFeatures'), pr.list('writerFeatures')];
    readers.push([
      pr,
      (i) => {
        const p: Protocol = { minReaderVersion: need(rv(i), 'protocol.minReaderVersion', i, where), minWriterVersion: need(wv(i), 'protocol.minWriterVersion', i, where) };
        put(p, 'readerFeatures', rf(i));
        put(p, 'writerFeatures', wf(i));
        return { protocol: p };
      },
    ]);
  }
  const txn = col('txn');
  if (txn) {
    const [app, ver, lu] = [txn.str('appId'), txn.num('version'), txn.num('lastUpdated')];
    readers.push([
      txn,
      (i) => {
        const t: Txn = { appId: need(app(i), 'txn.appId', i, where), version: need(ver(i), 'txn.version', i, where) };
        put(t, 'lastUpdated', lu(i));
        return { txn: t };
      },
    ]);
  }
  const dm = col('domainMetadata');
  if (dm) {
    const [dom, conf, rem] = [dm.str('domain'), dm.str('configuration'), dm.bool('removed')];
    readers.push([dm, (i) => ({ domainMetadata: { domain: need(dom(i), 'domainMetadata.domain', i, where), configuration: conf(i) ?? '', removed: rem(i) ?? false } })]);
  }
  for (const kind of ['checkpointMetadata', 'sidecar'] as const) {
    const s = col(kind);
    if (s) readers.push([s, v2Reader(s, kind)]);
  }
  const actions: Action[] = [];
  for (let i = 0; i < table.numRows; i++) {
    for (const [s, read] of readers) if (s.valid(i)) actions.push(read(i));
  }
  return actions;
}
