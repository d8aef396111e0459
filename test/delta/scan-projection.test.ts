// Column projection in scans: a scan of some columns returns exactly those columns of a full scan's rows (deletion
// vectors, column mapping, partition columns, predicates on other columns), on our tables and on Spark/delta-rs
// conformance tables read in place from ../shared; columns not asked for are never decoded; keepDictionaries.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DeltaTable, shutdownWorkers } from '../../src/delta/table.js';
import { decodeParquet, encodeParquet, readParquetColumns } from '../../src/delta/engine/parquet.js';
import { CorruptLogError } from '../../src/errors.js';
import { tempDir, readingsTable, makeReadings, SHARED } from '../helpers.js';

after(() => shutdownWorkers());

const conformance = path.join(SHARED, 'conformance');

/** Each row as text, columns in order (bigints and nested values spelled out, so deepEqual compares values). */
function rowTexts(t: arrow.Table): string[] {
  const out: string[] = [];
  for (let i = 0; i < t.numRows; i++) {
    const row = t.schema.fields.map((f) => t.getChild(f.name)!.get(i) as unknown);
    out.push(JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Array.from(v) : v)));
  }
  return out;
}

/** Checks every single-column projection, and all columns reversed, against the full scan (same rows, same order). */
async function checkProjections(table: DeltaTable, where?: string): Promise<number> {
  const full = await table.read({ where });
  const names = full.schema.fields.map((f) => f.name);
  const sets = [...names.map((n) => [n]), [...names].reverse()];
  for (const columns of sets) {
    const projected = await table.read({ where, columns });
    assert.deepEqual(projected.schema.fields.map((f) => f.name), columns, `${table.location}: ${columns.join(',')}`);
    assert.deepEqual(
      projected.schema.fields.map((f) => String(f.type)),
      columns.map((c) => String(full.schema.fields.find((f) => f.name === c)!.type)),
    );
    assert.deepEqual(rowTexts(projected), rowTexts(full.select(columns)), `${table.location}: rows of ${columns.join(',')}${where ? ` where ${where}` : ''}`);
  }
  return full.numRows;
}

const CONFORMANCE: { table: string; where?: string; rows?: number }[] = [
  // deletion vectors (row positions must survive projection), with and without column mapping and partitions
  { table: 'delta-golden/dv-with-columnmapping' },
  { table: 'delta-golden/dv-partitioned-with-checkpoint' },
  { table: 'delta-rs/table-with-dv-small' },
  // column mapping by name and by id: the projection asks the file for physical names / field ids
  { table: 'delta-golden/table-with-columnmapping-mode-name' },
  { table: 'delta-golden/table-with-columnmapping-mode-id' },
  { table: 'delta-rs/table_with_column_mapping' },
  { table: 'delta-golden/data-reader-nested-struct' },
  { table: 'delta-golden/data-reader-partition-values' },
];

for (const c of CONFORMANCE) {
  const location = path.join(conformance, c.table);
  test(`a projected scan of ${c.table} returns the full scan's rows of those columns`, { skip: !existsSync(location) && 'no conformance data' }, async () => {
    const table = await DeltaTable.open(location);
    const rows = await checkProjections(table, c.where);
    assert.ok(rows > 0, `${c.table} has rows`);
  });
}

test('a deletion-vector table scanned with a predicate on one column and another returned keeps the same rows', async (t) => {
  const location = path.join(conformance, 'delta-golden/dv-with-columnmapping');
  if (!existsSync(location)) return t.skip('no conformance data');
  const table = await DeltaTable.open(location);
  const full = await table.read();
  const [a, b] = full.schema.fields.map((f) => f.name);
  // A predicate on `a` (not returned) keeping about half the rows, by the median of its values.
  const values = [...full.getChild(a)!].filter((v) => v !== null).map(Number).sort((x, y) => x - y);
  const mid = values[values.length >> 1];
  const where = `${a} < ${mid}`;
  const projected = await table.read({ where, columns: [b] });
  const expected = rowTexts(full.select([b])).filter((_r, i) => {
    const v = full.getChild(a)!.get(i) as unknown;
    return v !== null && Number(v) < mid;
  });
  assert.ok(expected.length > 0 && expected.length < full.numRows);
  assert.deepEqual(rowTexts(projected), expected);
});

test('a projected scan of our readings table equals the full scan, with a predicate on columns not returned', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const rows = makeReadings({ days: 3, sensors: 7, perDay: 40 });
    const table = await DeltaTable.create(path.join(dir, 't'), { schema: readingsTable(rows.slice(0, 1)).schema, partitionColumns: ['date'] });
    await table.write(readingsTable(rows.slice(0, 300)));
    await table.write(readingsTable(rows.slice(300)));
    assert.equal(await checkProjections(table), rows.length);
    const where = "sensor_id >= 'sensor-2' AND sensor_id <= 'sensor-4' AND value > 0.5 AND date >= DATE '2024-01-02'";
    const n = await checkProjections(table, where);
    assert.ok(n > 0 && n < rows.length, `the predicate keeps some rows (${n})`);
  } finally {
    cleanup();
  }
});

test('keepDictionaries returns string columns as Dictionary<Int32, Utf8> with the same values; plain Utf8 by default', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const rows = makeReadings({ days: 2, sensors: 5, perDay: 30 });
    const table = await DeltaTable.create(path.join(dir, 't'), { schema: readingsTable(rows.slice(0, 1)).schema, partitionColumns: ['date'] });
    await table.write(readingsTable(rows));
    const plain = await table.read({ columns: ['sensor_id', 'ts'] });
    assert.ok(arrow.DataType.isUtf8(plain.schema.fields[0].type));
    const where = "sensor_id != 'sensor-3'";
    const kept = await table.read({ columns: ['sensor_id', 'ts'], keepDictionaries: true, where });
    const t = kept.schema.fields[0].type;
    assert.ok(arrow.DataType.isDictionary(t) && arrow.DataType.isUtf8(t.dictionary) && t.indices.bitWidth === 32, String(t));
    for (const b of kept.batches) assert.ok(arrow.DataType.isDictionary(b.schema.fields[0].type));
    assert.deepEqual(rowTexts(kept), rowTexts(await table.read({ columns: ['sensor_id', 'ts'], where })));
    assert.equal(kept.numRows, rows.filter((r) => r.sensor_id !== 'sensor-3').length);
  } finally {
    cleanup();
  }
});

test('keepDictionaries encodes string columns a file holds as plain strings (foreign writers)', async (t) => {
  const location = path.join(conformance, 'delta-golden/table-with-columnmapping-mode-name');
  if (!existsSync(location)) return t.skip('no conformance data');
  const table = await DeltaTable.open(location);
  const snap = await table.snapshot();
  const strings = snap.schema.fields.filter((f) => f.type === 'string').map((f) => f.name);
  assert.ok(strings.length > 0);
  const kept = await table.read({ columns: strings, keepDictionaries: true });
  for (const f of kept.schema.fields) assert.ok(arrow.DataType.isDictionary(f.type), `${f.name}: ${String(f.type)}`);
  assert.deepEqual(rowTexts(kept), rowTexts(await table.read({ columns: strings })));
});

/** The byte range of each column chunk of a one-row-group file arrow-rs wrote (chunks follow each other from byte 4). */
async function chunkRanges(bytes: Uint8Array): Promise<Map<string, [number, number]>> {
  const file = await pw.ParquetFile.fromFile(new Blob([bytes]));
  const groups = file.metadata().rowGroups();
  assert.equal(groups.length, 1);
  const out = new Map<string, [number, number]>();
  let at = 4;
  for (const c of groups[0].columns()) {
    out.set(c.columnPath().join('.'), [at, at + c.compressedSize()]);
    at += c.compressedSize();
  }
  file.free();
  return out;
}

test('columns not asked for are never decoded: a projection reads a file whose other column chunk is garbage', async () => {
  const rows = makeReadings({ days: 1, sensors: 3, perDay: 50 });
  const bytes = encodeParquet(readingsTable(rows));
  const [from, to] = (await chunkRanges(bytes)).get('value')!;
  const broken = bytes.slice();
  broken.fill(0xff, from, to);
  // Decoding every column fails on the broken chunk...
  assert.throws(() => decodeParquet(broken, 'broken.parquet'), CorruptLogError);
  // ...while the projection of the others reads them exactly, without touching it.
  const seen: string[] = [];
  const { table, rows: n } = await readParquetColumns(broken, 'broken.parquet', (schema) => {
    seen.push(...schema.fields.map((f) => f.name));
    return ['sensor_id', 'ts'];
  });
  assert.deepEqual(seen, ['ts', 'sensor_id', 'value', 'quality', 'date']);
  assert.equal(n, rows.length);
  assert.deepEqual(table.schema.fields.map((f) => f.name), ['ts', 'sensor_id']);
  const original = decodeParquet(bytes, 'ok.parquet');
  assert.deepEqual(rowTexts(table), rowTexts(original.select(['ts', 'sensor_id'])));
});

test('a scan of no columns counts rows, also under a predicate on partition columns or on others', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const rows = makeReadings({ days: 3, sensors: 2, perDay: 10 });
    const table = await DeltaTable.create(path.join(dir, 't'), { schema: readingsTable(rows.slice(0, 1)).schema, partitionColumns: ['date'] });
    await table.write(readingsTable(rows));
    const count = async (where?: string): Promise<number> => {
      let n = 0;
      for await (const b of table.scan({ columns: [], where })) n += b.numRows;
      return n;
    };
    assert.equal(await count(), rows.length);
    assert.equal(await count("date = DATE '2024-01-02'"), rows.length / 3);
    assert.equal(await count("date = DATE '2024-01-02' AND sensor_id = 'sensor-1'"), rows.length / 6);
  } finally {
    cleanup();
  }
});
