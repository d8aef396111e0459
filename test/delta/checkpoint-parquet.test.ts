// Checkpoint Parquet: exact round trips of every action kind, decoding of the checkpoints Spark, delta-rs and
// Databricks wrote in the conformance set (checked against pyarrow), and delta-rs and Spark reading tables whose
// state only our checkpoint holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/delta/engine/checkpoint-parquet.js';
import { encodeParquet } from '../../src/delta/engine/parquet.js';
import { serializeCommit, type Action, type Add, type Metadata, type Protocol, type Remove } from '../../src/delta/kernel/actions.js';
import { REPO_ROOT, SHARED, tempDir } from '../helpers.js';

const PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');
const CONFORMANCE = path.join(SHARED, 'conformance');

const varied: Action[] = [
  { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors', 'timestampNtz'], writerFeatures: ['deletionVectors', 'timestampNtz', 'domainMetadata'] } },
  {
    metaData: {
      id: 'a9b8c7d6-0000-4000-8000-000000000001',
      name: 'Öfen',
      description: 'furnace sensors — 温度',
      format: { provider: 'parquet', options: { k: 'v' } },
      schemaString: '{"type":"struct","fields":[{"name":"ts","type":"timestamp","nullable":true,"metadata":{}}]}',
      partitionColumns: ['date', 'site'],
      configuration: { 'delta.checkpointInterval': '10', 'delta.enableDeletionVectors': 'true', 'ü': '' },
      createdTime: 1_717_171_717_171,
    },
  },
  { metaData: { id: 'min', format: { provider: 'parquet', options: {} }, schemaString: '{"type":"struct","fields":[]}', partitionColumns: [], configuration: {} } },
  { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
  { txn: { appId: 'backfill-🚀', version: 42, lastUpdated: 1_717_171_717_000 } },
  { txn: { appId: 'bare', version: 0 } },
  {
    add: {
      path: 'date=2024-01-01/site=Z%C3%BCrich/part-00000-ü.zstd.parquet',
      partitionValues: { date: '2024-01-01', site: null },
      size: 2 ** 40,
      modificationTime: 1_717_171_717_171,
      dataChange: true,
      stats: '{"numRecords":3,"minValues":{"v":1.5},"maxValues":{"v":"é"},"nullCount":{"v":0}}',
      tags: { INSERTION_TIME: '1717171717171000', empty: '' },
      deletionVector: { storageType: 'u', pathOrInlineDv: 'ab^-aqEH.-t@S}K{vb[*k^', offset: 1, sizeInBytes: 36, cardinality: 2 },
      baseRowId: 100,
      defaultRowCommitVersion: 3,
      clusteringProvider: 'liquid',
    },
  },
  { add: { path: 'plain.parquet', partitionValues: {}, size: 0, modificationTime: 0, dataChange: false } },
  { add: { path: 'inline.parquet', partitionValues: { date: '' }, size: 1, modificationTime: 2, dataChange: true, deletionVector: { storageType: 'i', pathOrInlineDv: 'wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L', sizeInBytes: 40, cardinality: 6 } } },
  {
    remove: {
      path: 'old.parquet',
      deletionTimestamp: 1_717_000_000_000,
      dataChange: true,
      extendedFileMetadata: true,
      partitionValues: { date: '2023-12-31', site: null },
      size: 12345,
      stats: '{"numRecords":1}',
      tags: { a: 'b' },
      deletionVector: { storageType: 'p', pathOrInlineDv: 's3://bucket/dv.bin', offset: 0, sizeInBytes: 8, cardinality: 1 },
      baseRowId: 7,
      defaultRowCommitVersion: 1,
    },
  },
  { remove: { path: 'bare.parquet', dataChange: false } },
  { domainMetadata: { domain: 'delta.clustering', configuration: '{"clusteringColumns":[["site"]]}', removed: false } },
  { domainMetadata: { domain: 'gone', configuration: '', removed: true } },
];

test('every checkpoint action kind round-trips exactly; commitInfo and cdc are not written', () => {
  const withNoise: Action[] = [{ commitInfo: { timestamp: 1, operation: 'WRITE' } }, ...varied, { cdc: { path: 'x' } }];
  assert.deepStrictEqual(decodeCheckpoint(encodeCheckpoint(withNoise), 'mem'), varied);
  assert.deepStrictEqual(decodeCheckpoint(encodeCheckpoint([]), 'empty'), []);
});

test('our checkpoint schema matches the protocol: nullable action structs, MAP and LIST columns, INT64 sizes', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = path.join(dir, 'cp.parquet');
    writeFileSync(file, encodeCheckpoint(varied));
    const script = `
import json, sys, pyarrow.parquet as pq
s = pq.ParquetFile(sys.argv[1]).schema
print(json.dumps({s.column(i).path: [s.column(i).physical_type, str(s.column(i).logical_type), s.column(i).max_definition_level] for i in range(len(s))}))
print(json.dumps([f.name for f in pq.ParquetFile(sys.argv[1]).schema_arrow]))
`;
    const r = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [leafLine, topLine] = r.stdout.trim().split('\n');
    const leaves = JSON.parse(leafLine) as Record<string, [string, string, number]>;
    assert.deepEqual(JSON.parse(topLine), ['txn', 'add', 'remove', 'metaData', 'protocol', 'domainMetadata']);
    // Parquet MAP and LIST layouts exactly as Spark writes them (key_value / list.element).
    for (const m of ['add.partitionValues', 'add.tags', 'remove.partitionValues', 'metaData.configuration', 'metaData.format.options']) {
      assert.equal(leaves[`${m}.key_value.key`]?.[0], 'BYTE_ARRAY', m);
      assert.equal(leaves[`${m}.key_value.value`]?.[0], 'BYTE_ARRAY', m);
    }
    for (const l of ['metaData.partitionColumns', 'protocol.readerFeatures', 'protocol.writerFeatures']) assert.equal(leaves[`${l}.list.element`]?.[0], 'BYTE_ARRAY', l);
    for (const c of ['add.size', 'add.modificationTime', 'remove.deletionTimestamp', 'txn.version', 'metaData.createdTime', 'add.deletionVector.cardinality']) {
      assert.equal(leaves[c]?.[0], 'INT64', c);
    }
    for (const c of ['protocol.minReaderVersion', 'add.deletionVector.offset', 'add.deletionVector.sizeInBytes']) assert.equal(leaves[c]?.[0], 'INT32', c);
    assert.deepEqual(leaves['add.stats'].slice(0, 2), ['BYTE_ARRAY', 'String']);
    assert.equal(leaves['add.path'][2], 2, 'add and add.path are both optional');
  } finally {
    cleanup();
  }
});

function findCheckpoints(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findCheckpoints(p));
    else if (/\.checkpoint.*\.parquet$/.test(e.name) && p.includes(`${path.sep}_delta_log${path.sep}`)) out.push(p);
  }
  return out.sort();
}

// The same actions, derived independently by pyarrow from each file with the rules our JSON parser implies:
// absent (null) optional fields left out; required maps/lists default to empty.
const PYARROW_ACTIONS = `
import json, sys, pyarrow.parquet as pq
def m(v): return None if v is None else {k: x for k, x in v}
def clean(d): return {k: v for k, v in d.items() if v is not None}
def dv(d):
    if d is None: return None
    return clean({k: d.get(k) for k in ('storageType', 'pathOrInlineDv', 'offset', 'sizeInBytes', 'cardinality')})
def conv(kind, r):
    g = r.get
    if kind == 'add':
        return clean({'path': g('path'), 'partitionValues': m(g('partitionValues')) or {}, 'size': g('size'),
            'modificationTime': g('modificationTime') or 0, 'dataChange': bool(g('dataChange')), 'stats': g('stats'),
            'tags': m(g('tags')), 'deletionVector': dv(g('deletionVector')), 'baseRowId': g('baseRowId'),
            'defaultRowCommitVersion': g('defaultRowCommitVersion'), 'clusteringProvider': g('clusteringProvider')})
    if kind == 'remove':
        return clean({'path': g('path'), 'deletionTimestamp': g('deletionTimestamp'), 'dataChange': bool(g('dataChange')),
            'extendedFileMetadata': g('extendedFileMetadata'), 'partitionValues': m(g('partitionValues')), 'size': g('size'),
            'stats': g('stats'), 'tags': m(g('tags')), 'deletionVector': dv(g('deletionVector')), 'baseRowId': g('baseRowId'),
            'defaultRowCommitVersion': g('defaultRowCommitVersion')})
    if kind == 'metaData':
        f = g('format') or {}
        return clean({'id': g('id'), 'name': g('name'), 'description': g('description'),
            'format': {'provider': f.get('provider') or 'parquet', 'options': m(f.get('options')) or {}},
            'schemaString': g('schemaString'), 'partitionColumns': g('partitionColumns') or [],
            'configuration': m(g('configuration')) or {}, 'createdTime': g('createdTime')})
    if kind == 'protocol':
        return clean({k: g(k) for k in ('minReaderVersion', 'minWriterVersion', 'readerFeatures', 'writerFeatures')})
    if kind == 'txn':
        return clean({k: g(k) for k in ('appId', 'version', 'lastUpdated')})
    if kind == 'domainMetadata':
        return {'domain': g('domain'), 'configuration': g('configuration') or '', 'removed': bool(g('removed'))}
    if kind == 'checkpointMetadata':
        return clean({'version': g('version'), 'tags': m(g('tags'))})
    return clean({'path': g('path'), 'sizeInBytes': g('sizeInBytes'), 'modificationTime': g('modificationTime'), 'tags': m(g('tags'))})
out = {}
for f in sys.argv[1:]:
    acts = []
    for row in pq.read_table(f).to_pylist():
        for kind in ('add', 'remove', 'metaData', 'protocol', 'txn', 'domainMetadata', 'checkpointMetadata', 'sidecar'):
            if row.get(kind) is not None:
                acts.append({kind: conv(kind, row[kind])})
    out[f] = acts
print(json.dumps(out))
`;

test("decodes every Spark / delta-rs / Databricks checkpoint in the conformance set as pyarrow reads it", () => {
  const files = findCheckpoints(CONFORMANCE);
  assert.ok(files.length >= 40, `only ${files.length} checkpoint files under ${CONFORMANCE}`);
  const r = spawnSync(PYTHON, ['-c', PYARROW_ACTIONS, ...files], { encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const expected = JSON.parse(r.stdout) as Record<string, Action[]>;
  const decoded = new Map<string, Action[]>();
  for (const f of files) {
    const actions = decodeCheckpoint(readFileSync(f), f);
    decoded.set(path.relative(CONFORMANCE, f), actions);
    assert.deepStrictEqual(actions, expected[f], f);
  }
  // Exact counts, from pyarrow: pq.read_table(f).column(kind).drop_null() lengths.
  const counts = (rel: string): Record<string, number> => {
    const c: Record<string, number> = {};
    for (const a of decoded.get(rel)!) c[Object.keys(a)[0]] = (c[Object.keys(a)[0]] ?? 0) + 1;
    return c;
  };
  assert.deepEqual(counts('delta-rs/table-with-domain-metadata/_delta_log/00000000000000000108.checkpoint.parquet'), { protocol: 1, metaData: 1, domainMetadata: 3, add: 109 });
  assert.deepEqual(counts('delta-golden/dv-partitioned-with-checkpoint/_delta_log/00000000000000000010.checkpoint.parquet'), { protocol: 1, metaData: 1, add: 18, remove: 10 });
  assert.deepEqual(counts('delta-rs/delta-0.2.0/_delta_log/00000000000000000003.checkpoint.parquet'), { protocol: 1, metaData: 1, txn: 1, add: 3, remove: 4 });
  assert.deepEqual(counts('delta-golden/multi-part-checkpoint/_delta_log/00000000000000000001.checkpoint.0000000002.0000000002.parquet'), { add: 5 });
  // pyarrow: 3 adds of dv-partitioned-with-checkpoint carry a deletion vector; all 109 adds of table-with-domain-metadata
  // have both stats and stats_parsed, and the JSON string is what we keep.
  const dvAdds = decoded.get('delta-golden/dv-partitioned-with-checkpoint/_delta_log/00000000000000000010.checkpoint.parquet')!.filter((a) => 'add' in a && a.add.deletionVector);
  assert.equal(dvAdds.length, 3);
  const withParsed = decoded.get('delta-rs/table-with-domain-metadata/_delta_log/00000000000000000108.checkpoint.parquet')!.filter((a): a is { add: Add } => 'add' in a);
  assert.ok(withParsed.every((a) => typeof a.add.stats === 'string' && JSON.parse(a.add.stats).numRecords > 0));
  const v2 = decoded.get('delta-golden/v2-checkpoint-parquet/_delta_log/00000000000000000002.checkpoint.e8fa2696-9728-4e9c-b285-634743fdd4fb.parquet')!;
  assert.equal(v2.filter((a) => 'sidecar' in a).length, 2);
});

test('corrupt checkpoint bytes are a CorruptLogError naming the file', () => {
  assert.throws(() => decodeCheckpoint(new Uint8Array([1, 2, 3]), '/t/_delta_log/00000000000000000010.checkpoint.parquet'), (e: Error) => {
    assert.equal(e.name, 'CorruptLogError');
    assert.match(e.message, /00000000000000000010\.checkpoint\.parquet/);
    return true;
  });
});

// ---- delta-rs and Spark read tables whose state is in our checkpoint -------------------------------------------

const SCHEMA_STRING = JSON.stringify({
  type: 'struct',
  fields: [
    { name: 'ts', type: 'timestamp', nullable: true, metadata: {} },
    { name: 'sensor_id', type: 'string', nullable: true, metadata: {} },
    { name: 'value', type: 'double', nullable: true, metadata: {} },
    { name: 'quality', type: 'integer', nullable: true, metadata: {} },
    { name: 'site', type: 'string', nullable: true, metadata: {} },
  ],
});
const T0 = 1_704_067_200_000_000n; // 2024-01-01T00:00:00Z

interface Row {
  ts: string;
  sensor_id: string;
  value: number;
  quality: number;
  site: string | null;
}

/** Writes one data file of `rows` (all of one site) and returns its add action. */
function writeDataFile(table: string, site: string | null, rows: Row[], now: number): Add {
  const n = rows.length;
  const t = new arrow.Table({
    ts: arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: n, nullCount: 0, data: BigInt64Array.from(rows.map((r) => BigInt(r.ts))) })),
    sensor_id: arrow.vectorFromArray(rows.map((r) => r.sensor_id), new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
    value: arrow.vectorFromArray(rows.map((r) => r.value), new arrow.Float64()),
    quality: arrow.vectorFromArray(rows.map((r) => r.quality), new arrow.Int32()),
  });
  const dir = `site=${site === null ? '__HIVE_DEFAULT_PARTITION__' : site}`;
  const rel = `${dir}/part-00000-${randomUUID()}-c000.zstd.parquet`;
  mkdirSync(path.join(table, dir), { recursive: true });
  const bytes = encodeParquet(t);
  writeFileSync(path.join(table, rel), bytes);
  const q = rows.map((r) => r.quality);
  const stats = { numRecords: n, minValues: { quality: Math.min(...q) }, maxValues: { quality: Math.max(...q) }, nullCount: { quality: 0, ts: 0, value: 0 } };
  return { path: rel, partitionValues: { site }, size: bytes.length, modificationTime: now, dataChange: true, stats: JSON.stringify(stats) };
}

function row(k: number, site: string | null): Row {
  return { ts: String(T0 + BigInt(k) * 60_000_123n), sensor_id: `sensor-${k % 3}`, value: k + 0.5, quality: k, site };
}

function writeCheckpointFiles(table: string, version: number, actions: Action[]): void {
  const log = path.join(table, '_delta_log');
  const name = `${String(version).padStart(20, '0')}.checkpoint.parquet`;
  writeFileSync(path.join(log, name), encodeCheckpoint(actions));
  writeFileSync(path.join(log, '_last_checkpoint'), JSON.stringify({ version, size: actions.length }));
}

const PEER_READ = `
import json, os, sys, time
os.environ['TZ'] = 'UTC'; time.tzset()
from deltalake import DeltaTable
out = {}
def rows_of(tbl):
    d = tbl.to_pydict()
    return [[str(ts), sid, v, q, s] for ts, sid, v, q, s in zip(d['ts'], d['sensor_id'], d['value'], d['quality'], d['site'])]
import pyarrow as pa
for p in sys.argv[1:]:
    dt = DeltaTable(p)
    t = dt.to_pyarrow_table()
    t = t.set_column(t.schema.get_field_index('ts'), 'ts', t.column('ts').cast(pa.int64()))
    out[p] = {'deltars': {'version': dt.version(), 'rows': rows_of(t), 'txn': dt.transaction_version('backfill')}}
from pyspark.sql import SparkSession
root = ${JSON.stringify(REPO_ROOT)}
jars = ','.join(os.path.join(root, '.cache', 'jars', j) for j in sorted(os.listdir(os.path.join(root, '.cache', 'jars'))) if j.endswith('.jar'))
spark = (SparkSession.builder.master('local[1]').appName('sensorlake-checkpoint-test')
    .config('spark.jars', jars)
    .config('spark.sql.extensions', 'io.delta.sql.DeltaSparkSessionExtension')
    .config('spark.sql.catalog.spark_catalog', 'org.apache.spark.sql.delta.catalog.DeltaCatalog')
    .config('spark.sql.session.timeZone', 'UTC').config('spark.ui.enabled', 'false')
    .config('spark.driver.host', '127.0.0.1').config('spark.driver.bindAddress', '127.0.0.1')
    .config('spark.sql.shuffle.partitions', '1').config('spark.databricks.delta.snapshotPartitions', '1')
    .getOrCreate())
for p in sys.argv[1:]:
    try:
        df = spark.read.format('delta').load(p)
        rows = [[str(r[0]), r[1], r[2], r[3], r[4]] for r in df.selectExpr('unix_micros(ts)', 'sensor_id', 'value', 'quality', 'site').collect()]
        detail = spark.sql(f"DESCRIBE DETAIL delta.\`{p}\`").collect()[0]
        out[p]['spark'] = {'rows': rows, 'count': spark.sql(f"SELECT count(*) FROM delta.\`{p}\`").collect()[0][0],
                           'numFiles': detail['numFiles']}
    except Exception as e:
        out[p]['spark'] = {'error': str(e).split('\\n')[1 if str(e).startswith('An error') else 0][:300]}
spark.stop()
print('RESULT ' + json.dumps(out))
`;

test('delta-rs and Spark read tables whose state is in our checkpoint, with and without the JSON commits', () => {
  const { dir, cleanup } = tempDir();
  try {
    const now = Date.now();
    const protocol: Protocol = { minReaderVersion: 1, minWriterVersion: 2 };
    const metaData: Metadata = {
      id: randomUUID(),
      format: { provider: 'parquet', options: {} },
      schemaString: SCHEMA_STRING,
      partitionColumns: ['site'],
      configuration: { 'delta.checkpointInterval': '10' },
      createdTime: now,
    };
    const log = (t: string, v: number): string => path.join(t, '_delta_log', `${String(v).padStart(20, '0')}.json`);
    // Table A: version 0 as JSON and as our checkpoint, both kept.
    const a = path.join(dir, 'a');
    mkdirSync(path.join(a, '_delta_log'), { recursive: true });
    const aRows = [row(0, 'north'), row(1, 'north'), row(2, null)];
    const aAdds = [writeDataFile(a, 'north', aRows.slice(0, 2), now), writeDataFile(a, null, aRows.slice(2), now)];
    const a0: Action[] = [{ protocol }, { metaData }, ...aAdds.map((add) => ({ add }))];
    writeFileSync(log(a, 0), serializeCommit([{ commitInfo: { timestamp: now, operation: 'WRITE' } }, ...a0]));
    writeCheckpointFiles(a, 0, a0);

    // Table B: two commits (the second removes a file and records a txn), checkpointed at 1, then 0.json deleted as
    // log cleanup would: 1.json alone lacks protocol, metaData and a live file, so readers must use our checkpoint.
    const b = path.join(dir, 'b');
    mkdirSync(path.join(b, '_delta_log'), { recursive: true });
    const b1 = writeDataFile(b, 'north', [row(10, 'north')], now);
    const b2 = writeDataFile(b, 'Zürich', [row(11, 'Zürich'), row(12, 'Zürich')], now);
    const b3 = writeDataFile(b, null, [row(13, null)], now);
    const remove: Remove = { path: b1.path, deletionTimestamp: now, dataChange: true, extendedFileMetadata: true, partitionValues: b1.partitionValues, size: b1.size };
    writeFileSync(log(b, 0), serializeCommit([{ protocol }, { metaData }, { add: b1 }, { add: b2 }]));
    const txn = { appId: 'backfill', version: 7, lastUpdated: now };
    writeFileSync(log(b, 1), serializeCommit([{ remove }, { add: b3 }, { txn }]));
    writeCheckpointFiles(b, 1, [{ protocol }, { metaData }, { txn }, { add: b2 }, { add: b3 }, { remove }]);
    rmSync(log(b, 0));

    // Table C: like A, but 0.json deleted too: only the checkpoint is left.
    const c = path.join(dir, 'c');
    mkdirSync(path.join(c, '_delta_log'), { recursive: true });
    const cRows = [row(20, 'south'), row(21, null)];
    const cAdds = [writeDataFile(c, 'south', cRows.slice(0, 1), now), writeDataFile(c, null, cRows.slice(1), now)];
    const c0: Action[] = [{ protocol }, { metaData }, ...cAdds.map((add) => ({ add }))];
    writeFileSync(log(c, 0), serializeCommit(c0));
    writeCheckpointFiles(c, 0, c0);
    rmSync(log(c, 0));
    assert.deepEqual(readdirSync(path.join(c, '_delta_log')).sort(), ['00000000000000000000.checkpoint.parquet', '_last_checkpoint']);

    const r = spawnSync(PYTHON, ['-c', PEER_READ, a, b, c], { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    const firstError = Math.max(0, r.stderr.search(/Traceback|Exception|Error/));
    assert.ok(line, `peers failed (status ${r.status}):\n${r.stderr.slice(firstError, firstError + 4000)}`);
    type Read = { rows: unknown[]; count: number; numFiles: number; error?: string };
    const out = JSON.parse(line.slice(7)) as Record<string, { deltars: { version: number; rows: unknown[]; txn: number | null }; spark: Read }>;
    const sorted = (rows: unknown[]): unknown[] => rows.map((x) => JSON.stringify(x)).sort().map((x) => JSON.parse(x) as unknown);
    const expect = (rows: Row[]): unknown[] => sorted(rows.map((x) => [x.ts, x.sensor_id, x.value, x.quality, x.site]));
    const check = (t: string, rows: Row[], version: number, numFiles: number, spark: boolean): void => {
      assert.deepEqual(sorted(out[t].deltars.rows), expect(rows), `delta-rs ${t}`);
      assert.equal(out[t].deltars.version, version);
      if (!spark) return;
      assert.equal(out[t].spark.error, undefined, `Spark ${t}`);
      assert.deepEqual(sorted(out[t].spark.rows), expect(rows), `Spark ${t}`);
      assert.equal(out[t].spark.count, rows.length);
      assert.equal(out[t].spark.numFiles, numFiles);
    };
    check(a, aRows, 0, 2, true);
    check(b, [row(11, 'Zürich'), row(12, 'Zürich'), row(13, null)], 1, 2, true);
    assert.equal(out[b].deltars.txn, 7);
    // delta-rs reads a log that is only a checkpoint; Spark 3.5 / Delta 3.3 insists on the commit file of the
    // checkpoint's version (it takes the snapshot's timestamp from it), so it refuses this table.
    check(c, cRows, 0, 2, false);
    assert.match(out[c].spark.error ?? '', /Could not find any delta files for version 0/);
  } finally {
    cleanup();
  }
});
