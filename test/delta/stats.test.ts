// Per-file stats: exact JSON for small tables (µs timestamps, nulls, NaN, long strings, structs, dictionaries),
// Spark's string truncation, parsing of garbage, and the bound property on random tables.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import {
  compareUtf8,
  computeStats,
  parseStats,
  statsJson,
  truncateMaxString,
  truncateMinString,
  type FileStats,
} from '../../src/delta/kernel/stats.js';
import { field, struct, type StructType } from '../../src/delta/kernel/schema.js';
import { parseDateText, parseTimestampText } from '../../src/delta/kernel/partition-values.js';
import { rawVector as raw } from '../helpers.js';


// makeData's overloads cannot pick one for a generic type; the props are checked by the assertions instead.
const looseData = arrow.makeData as unknown as (props: object) => arrow.Data;
const ts = (v: (bigint | null)[], tz: string | null = 'UTC') => raw(new arrow.TimestampMicrosecond(tz), v, BigInt64Array);
const longs = (v: (bigint | null)[]) => raw(new arrow.Int64(), v, BigInt64Array);
const days = (v: (number | null)[]) => raw(new arrow.DateDay(), v, Int32Array);
const dictStrings = (v: (string | null)[]) => arrow.vectorFromArray(v, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()));

test('computeStats: exact JSON for a small table of every kind of column', () => {
  const schema = struct([
    field('id', 'long'),
    field('value', 'double'),
    field('name', 'string'),
    field('ts', 'timestamp'),
    field('ntz', 'timestamp_ntz'),
    field('day', 'date'),
    field('empty', 'integer'),
    field('flag', 'boolean'),
    field('price', 'decimal(5,2)'),
    field('s', struct([field('a', 'integer'), field('b', 'string')])),
    field('blob', 'binary'),
  ]);
  const sType = new arrow.Struct([new arrow.Field('a', new arrow.Int32(), true), new arrow.Field('b', new arrow.Utf8(), true)]);
  const table = new arrow.Table({
    id: longs([1n, 9007199254740993n, null]),
    value: arrow.makeVector(new Float64Array([1.5, NaN, -2.25])),
    name: dictStrings(['b', 'a', null]),
    // 1700000000000001 µs is 22:13:20.000001: the min truncates to .000, the max (…00.000500) rounds up to .001.
    ts: ts([1700000000000001n, 1700000000000500n, null]),
    ntz: ts([1700000000000001n, null, 1700000000000000n], null),
    day: days([19723, 19724, 19723]),
    empty: arrow.vectorFromArray([null, null, null], new arrow.Int32()),
    flag: arrow.vectorFromArray([true, false, null], new arrow.Bool()),
    price: arrow.makeVector(
      arrow.makeData({
        type: new arrow.Decimal(2, 5, 128),
        length: 3,
        nullCount: 1,
        nullBitmap: new Uint8Array([0b011]),
        data: new Uint32Array([150, 0, 0, 0, 0xfffffffb, 0xffffffff, 0xffffffff, 0xffffffff, 0, 0, 0, 0]),
      }),
    ),
    s: arrow.vectorFromArray([{ a: 1, b: 'x' }, null, { a: 3, b: null }], sType),
    blob: arrow.vectorFromArray([new Uint8Array([1]), null, new Uint8Array([2])], new arrow.Binary()),
  });
  const stats = computeStats(table, schema);
  assert.equal(
    statsJson(stats),
    '{"numRecords":3,' +
      '"minValues":{"id":1,"value":-2.25,"name":"a","ts":"2023-11-14T22:13:20.000Z","ntz":"2023-11-14T22:13:20.000",' +
      '"day":"2024-01-01","price":-0.05,"s":{"a":1,"b":"x"}},' +
      '"maxValues":{"id":9007199254740993,"value":1.5,"name":"b","ts":"2023-11-14T22:13:20.001Z","ntz":"2023-11-14T22:13:20.001",' +
      '"day":"2024-01-02","price":1.5,"s":{"a":3,"b":"x"}},' +
      '"nullCount":{"id":1,"value":0,"name":1,"ts":1,"ntz":1,"day":0,"empty":3,"flag":1,"price":1,"s":{"a":1,"b":2},"blob":1}}',
  );
  assert.equal(stats.maxValues.id, 9007199254740993n, 'a long past 2^53 stays exact');
  const back = parseStats(statsJson(stats));
  assert.deepEqual(back?.nullCount, stats.nullCount);
  assert.equal(back?.minValues.ts, '2023-11-14T22:13:20.000Z');
});

test('computeStats: exact millisecond values are not rounded; negative timestamps floor and ceil correctly', () => {
  const schema = struct([field('ts', 'timestamp')]);
  const s1 = computeStats(new arrow.Table({ ts: ts([1700000000001000n, 1700000000000000n]) }), schema);
  assert.deepEqual([s1.minValues.ts, s1.maxValues.ts], ['2023-11-14T22:13:20.000Z', '2023-11-14T22:13:20.001Z']);
  const s2 = computeStats(new arrow.Table({ ts: ts([-1n, -1500n]) }), schema);
  assert.deepEqual([s2.minValues.ts, s2.maxValues.ts], ['1969-12-31T23:59:59.998Z', '1970-01-01T00:00:00.000Z']);
});

test('computeStats: sliced columns count only their own rows', () => {
  const table = new arrow.Table({ ts: ts([1n, null, 5000n, 9000n]), n: longs([7n, 1n, 2n, null]) }).slice(1, 3);
  assert.equal(
    statsJson(computeStats(table, struct([field('ts', 'timestamp'), field('n', 'long')]))),
    '{"numRecords":2,"minValues":{"ts":"1970-01-01T00:00:00.005Z","n":1},"maxValues":{"ts":"1970-01-01T00:00:00.005Z","n":2},"nullCount":{"ts":1,"n":0}}',
  );
});

test('computeStats: NaN is ignored, all-NaN and infinite bounds are left out', () => {
  const schema = struct([field('a', 'double'), field('b', 'double'), field('c', 'float')]);
  const table = new arrow.Table({
    a: arrow.makeVector(new Float64Array([NaN, 3, NaN, -1])),
    b: arrow.makeVector(new Float64Array([NaN, NaN, NaN, NaN])),
    c: arrow.makeVector(new Float32Array([-Infinity, 0.5, 2, Infinity])),
  });
  assert.equal(
    statsJson(computeStats(table, schema)),
    '{"numRecords":4,"minValues":{"a":-1},"maxValues":{"a":3},"nullCount":{"a":0,"b":0,"c":0}}',
  );
});

test('string stats: 32-character prefixes, the max bumped so it still bounds every value (Spark/Delta 3.x)', () => {
  const a40 = 'a'.repeat(40);
  assert.equal(truncateMinString(a40), 'a'.repeat(32));
  assert.equal(truncateMaxString(a40), `${'a'.repeat(32)}\u007f`);
  assert.equal(truncateMaxString('a'.repeat(32)), 'a'.repeat(32), 'exactly 32 is kept whole');
  assert.equal(truncateMaxString(`${'a'.repeat(32)}é...`), `${'a'.repeat(32)}\u{10ffff}`);
  assert.equal(truncateMaxString(`${'a'.repeat(32)}\u{10ffff}b`), `${'a'.repeat(32)}\u{10ffff}\u007f`);
  assert.equal(truncateMaxString(`${'a'.repeat(32)}${'\u{10ffff}'.repeat(20)}`), null, 'no max within 64 units');
  // A surrogate pair at the cut stays whole.
  const emoji = `${'a'.repeat(31)}\u{1f600}bbbb`;
  assert.equal(truncateMinString(emoji), `${'a'.repeat(31)}\u{1f600}`);
  assert.equal(truncateMaxString(emoji), `${'a'.repeat(31)}\u{1f600}\u007f`);

  const schema = struct([field('s', 'string'), field('t', 'string')]);
  const table = new arrow.Table({
    s: arrow.vectorFromArray([`${'z'.repeat(40)}`, `${'a'.repeat(33)}`, 'm']),
    t: arrow.vectorFromArray([`${'a'.repeat(32)}${'\u{10ffff}'.repeat(20)}`, 'b']),
  });
  const st = computeStats(new arrow.Table({ s: table.getChild('s')!.slice(0, 2) }), struct([schema.fields[0]]));
  assert.deepEqual([st.minValues.s, st.maxValues.s], ['a'.repeat(32), `${'z'.repeat(32)}\u007f`]);
  const tt = computeStats(new arrow.Table({ t: arrow.vectorFromArray(['b', `${'a'.repeat(32)}${'\u{10ffff}'.repeat(20)}`]) }), struct([schema.fields[1]]));
  assert.deepEqual(tt.minValues, { t: 'a'.repeat(32) });
  assert.deepEqual(tt.maxValues, { t: 'b' });
});

test("string values keep a leading U+FEFF (Arrow's Vector.get drops it)", () => {
  const values = ['\ufeffz', 'a'];
  assert.equal(arrow.vectorFromArray(values).get(0), 'z', 'the Arrow behaviour this guards against');
  const stats = computeStats(new arrow.Table({ s: arrow.vectorFromArray(values), d: dictStrings(values) }), struct([field('s', 'string'), field('d', 'string')]));
  assert.deepEqual(stats.maxValues, { s: '\ufeffz', d: '\ufeffz' });
});

test('compareUtf8 orders by code point, as Spark and Parquet do', () => {
  assert.ok(compareUtf8('\uffff', '\u{10000}') < 0, 'U+FFFF sorts before U+10000 (JS < says the opposite)');
  assert.ok('\u{10000}' < '\uffff');
  assert.ok(compareUtf8('a', 'ab') < 0);
  assert.equal(compareUtf8('é', 'é'), 0);
  assert.ok(compareUtf8('\u007f', '\u0080') < 0);
});

test('computeStats: dictionary-encoded strings, across several record batches', () => {
  const schema = struct([field('sensor', 'string')]);
  const type = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
  const chunk = (dictionary: string[], indices: (number | null)[]) =>
    looseData({ type, length: indices.length, nullCount: indices.filter((i) => i === null).length,
      nullBitmap: Uint8Array.from([indices.reduce<number>((m, i, k) => (i === null ? m : m | (1 << k)), 0)]),
      data: Int32Array.from(indices.map((i) => i ?? 0)), dictionary: arrow.vectorFromArray(dictionary) });
  // 'a' sits in the second dictionary but no row uses it: it must not become the min.
  const vector = arrow.makeVector([chunk(['q', 'm'], [1, null, 0]), chunk(['a', 'x', 'b'], [2, 1])]);
  const stats = computeStats(new arrow.Table({ sensor: vector }), schema);
  assert.deepEqual(stats, { numRecords: 5, minValues: { sensor: 'b' }, maxValues: { sensor: 'x' }, nullCount: { sensor: 1 } });
});

test('computeStats: only the first numIndexedCols leaf columns; missing columns count as null', () => {
  const schema: StructType = struct([
    field('s', struct([field('x', 'integer'), field('y', 'integer')])),
    field('b', 'integer'),
    field('gone', 'string'),
  ]);
  const sType = new arrow.Struct([new arrow.Field('x', new arrow.Int32()), new arrow.Field('y', new arrow.Int32())]);
  const table = new arrow.Table({
    s: arrow.vectorFromArray([{ x: 1, y: 2 }], sType),
    b: arrow.vectorFromArray([5], new arrow.Int32()),
  });
  assert.deepEqual(computeStats(table, schema, { numIndexedCols: 1 }), {
    numRecords: 1,
    minValues: { s: { x: 1 } },
    maxValues: { s: { x: 1 } },
    nullCount: { s: { x: 0 } },
  });
  assert.deepEqual(computeStats(table, schema, { numIndexedCols: 0 }), { numRecords: 1, minValues: {}, maxValues: {}, nullCount: {} });
  const all = computeStats(table, schema, { numIndexedCols: -1 });
  assert.deepEqual(all.nullCount, { s: { x: 0, y: 0 }, b: 0, gone: 1 });
  assert.deepEqual(all.maxValues, { s: { x: 1, y: 2 }, b: 5 });
  assert.deepEqual(computeStats(table, schema).nullCount, all.nullCount, 'default 32 covers all four leaves');
});

test('parseStats tolerates garbage and reads real stats', () => {
  for (const bad of [null, undefined, '', 'not json', '[]', '3', '{"numRecords":"x"}', '{"numRecords":-1}', '{"minValues":{}}']) {
    assert.equal(parseStats(bad), null, String(bad));
  }
  const spark =
    '{"numRecords":1,"minValues":{"as_int":0,"as_timestamp":"2000-01-01T00:00:00.000-08:00"},"maxValues":[],"nullCount":{"as_int":0},"tightBounds":true}';
  assert.deepEqual(parseStats(spark), {
    numRecords: 1,
    minValues: { as_int: 0, as_timestamp: '2000-01-01T00:00:00.000-08:00' },
    maxValues: {},
    nullCount: { as_int: 0 },
    tightBounds: true,
  });
  const s: FileStats = { numRecords: 2, minValues: {}, maxValues: {}, nullCount: { a: 2 }, tightBounds: false };
  assert.equal(statsJson(s), '{"numRecords":2,"minValues":{},"maxValues":{},"nullCount":{"a":2},"tightBounds":false}');
});

test('property: every value of a random table lies within its stats bounds, at stats precision', () => {
  const row = fc.record({
    id: fc.option(fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n)),
    v: fc.option(fc.double()),
    s: fc.option(fc.string({ unit: 'binary', maxLength: 50 })),
    ts: fc.option(fc.bigInt(-(2n ** 60n), 2n ** 60n)),
    d: fc.option(fc.integer({ min: -1_000_000, max: 1_000_000 })),
  });
  const schema = struct([field('id', 'long'), field('v', 'double'), field('s', 'string'), field('ts', 'timestamp'), field('d', 'date'), field('ds', 'string')]);
  fc.assert(
    fc.property(fc.array(row, { minLength: 1, maxLength: 40 }), (rows) => {
      const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
      const table = new arrow.Table({
        id: longs(col('id')),
        v: arrow.vectorFromArray(col('v'), new arrow.Float64()),
        s: arrow.vectorFromArray(col('s'), new arrow.Utf8()),
        ts: ts(col('ts')),
        d: days(col('d')),
        ds: dictStrings(col('s')),
      });
      const stats = parseStats(statsJson(computeStats(table, schema)));
      assert.ok(stats);
      assert.equal(stats.numRecords, rows.length);
      const within = <T>(name: string, values: (T | null)[], read: (x: unknown) => T, cmp: (a: T, b: T) => number) => {
        const present = values.filter((x): x is T => x !== null);
        assert.equal(stats.nullCount[name], values.length - present.length, `${name} nullCount`);
        const min = stats.minValues[name];
        const max = stats.maxValues[name];
        for (const x of present) {
          if (min !== undefined) assert.ok(cmp(read(min), x) <= 0, `${name}: min ${String(min)} <= ${String(x)}`);
          if (max !== undefined) assert.ok(cmp(x, read(max)) <= 0, `${name}: ${String(x)} <= max ${String(max)}`);
        }
        if (present.length > 0 && name !== 'v') assert.ok(min !== undefined, `${name} has a min`);
      };
      const num = (a: number, b: number) => a - b;
      within('id', col('id').map((x) => (x === null ? null : Number(x))), (x) => x as number, num);
      // NaN rows are neither nulls nor inside the bounds: Spark leaves them out of min/max.
      within('v', col('v').filter((x) => !Number.isNaN(x)), (x) => x as number, num);
      within('s', col('s'), (x) => x as string, compareUtf8);
      within('ds', col('s'), (x) => x as string, compareUtf8);
      within('ts', col('ts'), (x) => parseTimestampText(x as string) as bigint, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
      within('d', col('d'), (x) => parseDateText(x as string) as number, num);
    }),
    { numRuns: 300 },
  );
});
