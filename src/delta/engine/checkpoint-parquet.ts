// Checkpoint files: actions <-> Parquet rows in the protocol's checkpoint schema (one action per row, one nullable
// struct column per action kind, real MAP and LIST columns). Reads Spark's, delta-rs's and Databricks' variants.

import * as arrow from 'apache-arrow';
import type { Action, Add, DeletionVectorDescriptor, DomainMetadata, Metadata, Protocol, Remove, Txn } from '../kernel/actions.js';
import { CorruptLogError } from '../../errors.js';
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

type Row = Record<string, unknown> | null;
const big = (n: number | null | undefined): bigint | null => (n === null || n === undefined ? null : BigInt(n));
const map = (o: Record<string, string | null> | null | undefined): Map<string, string | null> | null => (o ? new Map(Object.entries(o)) : null);
const dv = (d: DeletionVectorDescriptor | null | undefined): Row =>
  d ? { ...d, offset: d.offset ?? null, cardinality: BigInt(d.cardinality) } : null;

function addRow(a: Add): Row {
  return {
    path: a.path,
    partitionValues: map(a.partitionValues) ?? new Map(),
    size: BigInt(a.size),
    modificationTime: BigInt(a.modificationTime),
    dataChange: a.dataChange,
    tags: map(a.tags),
    deletionVector: dv(a.deletionVector),
    baseRowId: big(a.baseRowId),
    defaultRowCommitVersion: big(a.defaultRowCommitVersion),
    clusteringProvider: a.clusteringProvider ?? null,
    stats: a.stats ?? null,
  };
}

function removeRow(r: Remove): Row {
  return {
    path: r.path,
    deletionTimestamp: big(r.deletionTimestamp),
    dataChange: r.dataChange,
    extendedFileMetadata: r.extendedFileMetadata ?? null,
    partitionValues: map(r.partitionValues),
    size: big(r.size),
    tags: map(r.tags),
    deletionVector: dv(r.deletionVector),
    baseRowId: big(r.baseRowId),
    defaultRowCommitVersion: big(r.defaultRowCommitVersion),
    stats: r.stats ?? null,
  };
}

function metaDataRow(m: Metadata): Row {
  return {
    id: m.id,
    name: m.name ?? null,
    description: m.description ?? null,
    format: { provider: m.format.provider, options: map(m.format.options ?? {}) },
    schemaString: m.schemaString,
    partitionColumns: m.partitionColumns,
    configuration: map(m.configuration ?? {}),
    createdTime: big(m.createdTime),
  };
}

const protocolRow = (p: Protocol): Row => ({ ...p, readerFeatures: p.readerFeatures ?? null, writerFeatures: p.writerFeatures ?? null });
const txnRow = (t: Txn): Row => ({ appId: t.appId, version: BigInt(t.version), lastUpdated: big(t.lastUpdated) });
const domainRow = (d: DomainMetadata): Row => ({ domain: d.domain, configuration: d.configuration, removed: d.removed });

/** One row per txn/add/remove/metaData/protocol/domainMetadata action, in the given order; others are skipped. */
export function encodeCheckpoint(actions: Action[]): Uint8Array {
  const cols: Record<string, Row[]> = { txn: [], add: [], remove: [], metaData: [], protocol: [], domainMetadata: [] };
  const push = (kind: string, row: Row): void => {
    for (const [k, c] of Object.entries(cols)) c.push(k === kind ? row : null);
  };
  for (const a of actions) {
    if ('add' in a) push('add', addRow(a.add));
    else if ('remove' in a) push('remove', removeRow(a.remove));
    else if ('metaData' in a) push('metaData', metaDataRow(a.metaData));
    else if ('protocol' in a) push('protocol', protocolRow(a.protocol));
    else if ('txn' in a) push('txn', txnRow(a.txn));
    else if ('domainMetadata' in a) push('domainMetadata', domainRow(a.domainMetadata));
  }
  const vectors: Record<string, arrow.Vector> = {};
  for (const field of SCHEMA.fields) vectors[field.name] = arrow.vectorFromArray(cols[field.name], field.type);
  const data = arrow.makeData({
    type: new arrow.Struct(SCHEMA.fields),
    length: cols.add.length,
    nullCount: 0,
    children: SCHEMA.fields.map((fl) => vectors[fl.name].data[0]),
  });
  // Snappy, as Spark and delta-rs write checkpoints: every Delta reader can read it.
  return encodeParquet(new arrow.Table([new arrow.RecordBatch(SCHEMA, data)]), { compression: 'snappy' });
}

// ---- Decoding ----------------------------------------------------------------------------------------------------

/** Reads one column of a struct by name, or always null when this writer did not write that field. */
type Get<T> = (i: number) => T | null;

class StructReader {
  private readonly children = new Map<string, arrow.Vector>();
  constructor(
    readonly vector: arrow.Vector,
    private readonly where: string,
  ) {
    const t = vector.type as arrow.Struct;
    t.children.forEach((c, k) => this.children.set(c.name, new arrow.Vector(vector.data.map((d) => d.children[k]))));
  }
  valid(i: number): boolean {
    return this.vector.isValid(i);
  }
  private col(name: string): arrow.Vector | undefined {
    return this.children.get(name);
  }
  str(name: string): Get<string> {
    const c = this.col(name);
    return c ? (i) => (c.isValid(i) ? String(c.get(i)) : null) : () => null;
  }
  bool(name: string): Get<boolean> {
    const c = this.col(name);
    return c ? (i) => (c.isValid(i) ? Boolean(c.get(i)) : null) : () => null;
  }
  num(name: string): Get<number> {
    const c = this.col(name);
    if (!c) return () => null;
    return (i) => {
      if (!c.isValid(i)) return null;
      const v = c.get(i) as number | bigint;
      const n = Number(v);
      if (!Number.isSafeInteger(n)) throw new CorruptLogError(`${this.where}: ${name} = ${v} in row ${i} is not a safe integer`);
      return n;
    };
  }
  map(name: string): Get<Record<string, string | null>> {
    const c = this.col(name);
    if (!c) return () => null;
    return (i) => {
      if (!c.isValid(i)) return null;
      const out: Record<string, string | null> = {};
      for (const [k, v] of c.get(i) as Iterable<[string, string | null]>) out[k] = v ?? null;
      return out;
    };
  }
  list(name: string): Get<string[]> {
    const c = this.col(name);
    if (!c) return () => null;
    return (i) => (c.isValid(i) ? [...(c.get(i) as Iterable<string | null>)].map((s) => String(s)) : null);
  }
  struct(name: string): StructReader | null {
    const c = this.col(name);
    return c && arrow.DataType.isStruct(c.type) ? new StructReader(c, `${this.where}.${name}`) : null;
  }
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
    return new StructReader(v, where);
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
