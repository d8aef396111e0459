// Partition values, partition directories and add.path encoding, checked against exact cases, properties, and the
// logs and files of real tables in ../shared/conformance (written by Spark, delta-rs and Databricks).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import {
  decodeAddPath,
  encodeAddPath,
  escapePathName,
  HIVE_DEFAULT_PARTITION,
  parsePartitionValue,
  partitionDirectory,
  partitionValueAt,
  serializePartitionValue,
  unescapePathName,
} from '../../src/delta/kernel/partition-values.js';
import { parseSchema, type PrimitiveType } from '../../src/delta/kernel/schema.js';
import { CorruptLogError, InvalidArgumentError } from '../../src/errors.js';

const root = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const conformance = path.resolve(root, '..', 'shared', 'conformance');

interface LogTable {
  dir: string;
  partitionColumns: string[];
  types: Record<string, PrimitiveType>;
  adds: { path: string; partitionValues: Record<string, string | null> }[];
  removes: { path: string }[];
}

function readLog(rel: string): LogTable {
  const dir = path.join(conformance, rel);
  const logDir = path.join(dir, '_delta_log');
  const t: LogTable = { dir, partitionColumns: [], types: {}, adds: [], removes: [] };
  for (const f of fs.readdirSync(logDir).filter((n) => /^\d{20}\.json$/.test(n)).sort()) {
    for (const line of fs.readFileSync(path.join(logDir, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const a = JSON.parse(line);
      if (a.add) t.adds.push(a.add);
      if (a.remove) t.removes.push(a.remove);
      if (a.metaData) {
        t.partitionColumns = a.metaData.partitionColumns ?? [];
        // Some log-replay tables carry a bare metaData without a schema.
        if (a.metaData.schemaString) for (const f of parseSchema(a.metaData.schemaString).fields) t.types[f.name] = f.type as PrimitiveType;
      }
    }
  }
  assert.ok(t.adds.length > 0, `${rel} has add actions`);
  return t;
}

const dataFiles = (dir: string): string[] =>
  fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet'));

// ---- serialize / parse ----

test('serializePartitionValue writes each type as Spark and the protocol do', () => {
  const cases: [unknown, PrimitiveType, string | null][] = [
    ['A/A', 'string', 'A/A'],
    ['', 'string', null],
    [null, 'long', null],
    [undefined, 'date', null],
    [12n, 'long', '12'],
    [-9223372036854775808n, 'long', '-9223372036854775808'],
    [7, 'long', '7'],
    [5, 'integer', '5'],
    [-3, 'byte', '-3'],
    [2021, 'double', '2021.0'],
    [0.1, 'double', '0.1'],
    [-0, 'double', '-0.0'],
    [Math.fround(0.1), 'float', '0.1'],
    [NaN, 'double', 'NaN'],
    [-Infinity, 'double', '-Infinity'],
    [1e21, 'double', '1e+21'],
    [true, 'boolean', 'true'],
    [false, 'boolean', 'false'],
    [19723, 'date', '2024-01-01'],
    [-1, 'date', '1969-12-31'],
    [new Date('2021-09-08T23:00:00Z'), 'date', '2021-09-08'],
    [1704103200123456n, 'timestamp', '2024-01-01T10:00:00.123456Z'],
    [1704103200000000n, 'timestamp', '2024-01-01T10:00:00.000000Z'],
    [-1n, 'timestamp', '1969-12-31T23:59:59.999999Z'],
    [new Date('2024-01-01T10:00:00.5Z'), 'timestamp', '2024-01-01T10:00:00.500000Z'],
    [1704103200000000n, 'timestamp_ntz', '2024-01-01 10:00:00'],
    [1373043660123456n, 'timestamp_ntz', '2013-07-05 17:01:00.123456'],
    [150n, 'decimal(5,2)', '1.50'],
    [-5n, 'decimal(5,2)', '-0.05'],
    ['1.5', 'decimal(5,2)', '1.50'],
    [0n, 'decimal(38,0)', '0'],
  ];
  for (const [value, type, expected] of cases) {
    assert.equal(serializePartitionValue(value, type), expected, `${String(value)} as ${type}`);
  }
});

test('serializePartitionValue refuses values that do not fit the type', () => {
  const bad: [unknown, PrimitiveType][] = [
    ['12', 'long'],
    [1.5, 'long'],
    [2147483648, 'integer'],
    [1704103200000, 'timestamp'], // a bare number could be ms or µs
    [1.5, 'date'],
    ['yes', 'boolean'],
    ['1.234', 'decimal(5,2)'],
  ];
  for (const [value, type] of bad) {
    assert.throws(() => serializePartitionValue(value, type), InvalidArgumentError, `${String(value)} as ${type}`);
  }
  assert.throws(() => serializePartitionValue('12', 'long'), /partition value '12' \(string\) cannot be written as a long/);
});

test('parsePartitionValue reads legacy and ISO timestamps, empty strings and every type', () => {
  const jan1 = 1609459200000000n;
  assert.equal(parsePartitionValue('2021-01-01 00:00:00', 'timestamp'), jan1);
  assert.equal(parsePartitionValue('2021-01-01T00:00:00.000000Z', 'timestamp'), jan1);
  assert.equal(parsePartitionValue('2021-01-01T00:00:00Z', 'timestamp'), jan1);
  assert.equal(parsePartitionValue('2021-01-01T01:00:00+01:00', 'timestamp'), jan1);
  assert.equal(parsePartitionValue('2021-01-01 00:00:00.123456', 'timestamp'), jan1 + 123456n);
  assert.equal(parsePartitionValue('2021-01-01 00:00:00.1', 'timestamp_ntz'), jan1 + 100000n);
  assert.equal(parsePartitionValue('2021-01-01 00:00:00.123456789', 'timestamp'), jan1 + 123456n);
  assert.equal(parsePartitionValue('2023-01-02', 'date'), 19359);
  assert.equal(parsePartitionValue('9007199254740993', 'long'), 9007199254740993n);
  assert.equal(parsePartitionValue('-7', 'integer'), -7);
  assert.equal(parsePartitionValue('2021.0', 'double'), 2021);
  assert.equal(parsePartitionValue('TRUE', 'boolean'), true);
  assert.equal(parsePartitionValue('1.50', 'decimal(5,2)'), 150n);
  assert.equal(parsePartitionValue('1.5E-1', 'decimal(5,2)'), 15n);
  assert.equal(parsePartitionValue(null, 'string'), null);
  assert.equal(parsePartitionValue('', 'string'), '');
  for (const t of ['long', 'date', 'timestamp', 'double', 'boolean'] as PrimitiveType[]) {
    assert.equal(parsePartitionValue('', t), null, `'' as ${t}`);
  }
  assert.throws(() => parsePartitionValue('abc', 'long'), CorruptLogError);
  assert.throws(() => parsePartitionValue('2021-02-30', 'date'), /'2021-02-30' is not a valid date/);
  assert.throws(() => parsePartitionValue('2021-01-01T00:00:00Z', 'timestamp_ntz'), CorruptLogError);
  assert.throws(() => parsePartitionValue('9223372036854775808', 'long'), CorruptLogError);
});

test('parsePartitionValue reads every partition value of Spark- and delta-rs-written tables', () => {
  const tables = [
    'delta-golden/data-reader-partition-values',
    'delta-golden/kernel-timestamp-partition-col-ISO8601',
    'delta-golden/data-reader-timestamp_ntz',
    'delta-rs/partition-type-primitives',
    'delta-rs/delta-0.8.0-null-partition',
  ];
  let parsed = 0;
  for (const rel of tables) {
    const t = readLog(rel);
    for (const add of t.adds) {
      for (const c of t.partitionColumns) {
        const v = parsePartitionValue(add.partitionValues[c], t.types[c]);
        if (add.partitionValues[c] !== null) {
          assert.notEqual(v, null, `${rel} ${c}`);
          // Writing the typed value back gives text that reads as the same value.
          assert.deepEqual(parsePartitionValue(serializePartitionValue(v, t.types[c]), t.types[c]), v);
        }
        parsed++;
      }
    }
  }
  assert.ok(parsed > 60, `parsed ${parsed} values`);
  const iso = readLog('delta-golden/kernel-timestamp-partition-col-ISO8601');
  const ts = iso.adds.map((a) => parsePartitionValue(a.partitionValues.ts, 'timestamp')).sort();
  assert.deepEqual(ts, [1704103200000000n, 1704198600000000n]);
  const legacy = readLog('delta-golden/data-reader-partition-values').adds.find((a) => a.partitionValues.as_int === '0');
  assert.equal(parsePartitionValue(legacy!.partitionValues.as_timestamp, 'timestamp'), 1631099471000000n);
  assert.equal(parsePartitionValue(legacy!.partitionValues.as_big_decimal, 'decimal(1,0)'), 0n);
});

test('partitionValueAt reads Arrow columns exactly: µs timestamps, dates, int64, dictionaries, nulls', () => {
  const ts = arrow.makeVector(
    arrow.makeData({
      type: new arrow.TimestampMicrosecond('UTC'),
      length: 2,
      nullCount: 1,
      nullBitmap: new Uint8Array([0b01]),
      data: new BigInt64Array([1700000000000001n, 0n]),
    }),
  );
  assert.equal(partitionValueAt(ts, 0, 'timestamp'), '2023-11-14T22:13:20.000001Z');
  assert.equal(partitionValueAt(ts, 1, 'timestamp'), null);
  const tsMs = arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMillisecond(), length: 1, data: new BigInt64Array([1500n]) }));
  assert.equal(partitionValueAt(tsMs, 0, 'timestamp_ntz'), '1970-01-01 00:00:01.500000');
  const days = arrow.makeVector(arrow.makeData({ type: new arrow.DateDay(), length: 1, data: new Int32Array([19723]) }));
  assert.equal(partitionValueAt(days, 0, 'date'), '2024-01-01');
  const longs = arrow.makeVector(new BigInt64Array([9007199254740993n]));
  assert.equal(partitionValueAt(longs, 0, 'long'), '9007199254740993');
  const dict = arrow.vectorFromArray(['b', 'a', null, 'b'], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()));
  assert.deepEqual([0, 1, 2, 3].map((i) => partitionValueAt(dict, i, 'string')), ['b', 'a', null, 'b']);
  const doubles = arrow.makeVector(new Float64Array([2021, 0.5]));
  assert.deepEqual([0, 1].map((i) => partitionValueAt(doubles, i, 'double')), ['2021.0', '0.5']);
  const floats = arrow.makeVector(new Float32Array([0.1]));
  assert.equal(partitionValueAt(floats, 0, 'float'), '0.1');
  const dec = arrow.makeVector(arrow.makeData({ type: new arrow.Decimal(2, 5, 128), length: 1, data: new Uint32Array([0xffffff6a, 0xffffffff, 0xffffffff, 0xffffffff]) }));
  assert.equal(partitionValueAt(dec, 0, 'decimal(5,2)'), '-1.50');
  // A slice keeps its offset on the Data but its values buffer already starts at the slice.
  const sliced = ts.slice(1);
  assert.equal(sliced.data[0].offset, 1);
  assert.equal(partitionValueAt(sliced, 0, 'timestamp'), null);
  const slicedLongs = arrow.makeVector(new BigInt64Array([1n, 2n, 3n])).slice(2);
  assert.equal(partitionValueAt(slicedLongs, 0, 'long'), '3');
  const slicedDict = dict.slice(1);
  assert.deepEqual([0, 1, 2].map((i) => partitionValueAt(slicedDict, i, 'string')), ['a', null, 'b']);
  const chunked = new arrow.Table({ x: arrow.makeVector(new Int32Array([1, 2])) }).concat(new arrow.Table({ x: arrow.makeVector(new Int32Array([3])) }));
  assert.equal(partitionValueAt(chunked.getChild('x')!, 2, 'integer'), '3');
});

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

test('property: serialize then parse gives the value back, for every type', () => {
  const cases: [PrimitiveType, fc.Arbitrary<unknown>][] = [
    ['string', fc.string({ minLength: 1, unit: 'binary' })],
    ['long', fc.bigInt(INT64_MIN, INT64_MAX)],
    ['integer', fc.integer()],
    ['short', fc.integer({ min: -32768, max: 32767 })],
    ['byte', fc.integer({ min: -128, max: 127 })],
    ['double', fc.double()],
    ['float', fc.float()],
    ['boolean', fc.boolean()],
    ['date', fc.integer({ min: -4_000_000, max: 4_000_000 })],
    ['timestamp', fc.bigInt(INT64_MIN, INT64_MAX)],
    ['timestamp_ntz', fc.bigInt(INT64_MIN, INT64_MAX)],
    ['decimal(10,3)', fc.bigInt(-(10n ** 10n) + 1n, 10n ** 10n - 1n)],
    ['decimal(38,18)', fc.bigInt(-(10n ** 38n) + 1n, 10n ** 38n - 1n)],
  ];
  for (const [type, arb] of cases) {
    fc.assert(
      fc.property(arb, (v) => {
        const text = serializePartitionValue(v, type);
        assert.notEqual(text, null);
        const back = parsePartitionValue(text, type);
        assert.ok(Object.is(back, v) || back === v, `${type}: ${String(v)} -> '${text}' -> ${String(back)}`);
      }),
      { numRuns: 300 },
    );
  }
});

// ---- directories ----

test('partitionDirectory escapes as Spark does and names the real directories of Spark-written tables', () => {
  assert.equal(partitionDirectory(['_2'], { _2: 'bar+%21' }), '_2=bar+%2521');
  assert.equal(partitionDirectory(['c2'], { c2: '+ =%0' }), 'c2=+ %3D%250');
  assert.equal(partitionDirectory(['x'], { x: 'A/A' }), 'x=A%2FA');
  assert.equal(partitionDirectory(['k', 'j'], { k: null, j: '' }), `k=${HIVE_DEFAULT_PARTITION}/j=${HIVE_DEFAULT_PARTITION}`);
  assert.equal(partitionDirectory(['a:b'], { 'a:b': '\u0001#?*"\'[]^{}\\\u007f é' }), 'a%3Ab=%01%23%3F%2A%22%27%5B%5D%5E%7B}%5C%7F é');
  assert.equal(partitionDirectory(['ts'], { ts: '2024-01-01T10:00:00.000000Z' }), 'ts=2024-01-01T10%3A00%3A00.000000Z');
  assert.throws(() => partitionDirectory(['a', 'b'], { a: '1' }), /partition column 'b' has no value/);

  // Tables whose directories Spark named from these very partitionValues strings.
  const tables = [
    'delta-golden/data-reader-partition-values',
    'delta-golden/data-reader-escaped-chars',
    'delta-golden/hive/deltatbl-special-chars-in-partition-column',
    'delta-golden/data-reader-timestamp_ntz',
    'delta-rs/delta-0.8.0-null-partition',
    'delta-rs/partition-type-primitives',
  ];
  let checked = 0;
  for (const rel of tables) {
    const t = readLog(rel);
    for (const add of t.adds) {
      const decoded = decodeAddPath(add.path);
      assert.ok('relative' in decoded, add.path);
      const dir = path.posix.dirname(decoded.relative);
      assert.equal(partitionDirectory(t.partitionColumns, add.partitionValues), dir, `${rel}: ${add.path}`);
      assert.ok(fs.statSync(path.join(t.dir, dir)).isDirectory());
      checked++;
    }
  }
  assert.ok(checked >= 20, `checked ${checked} directories`);
});

test('property: partition directory escaping is undone by percent-decoding', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const escaped = escapePathName(s);
      assert.equal(unescapePathName(escaped), s);
      assert.ok(!/[/=:%#?]/.test(escaped.replace(/%[0-9A-F]{2}/g, '')), escaped);
    }),
    { numRuns: 1000 },
  );
  const value = fc.option(fc.string({ minLength: 1, unit: 'binary' }).filter((s) => s !== HIVE_DEFAULT_PARTITION));
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ minLength: 1, unit: 'binary' }), { minLength: 1, maxLength: 4 }), fc.array(value, { minLength: 4, maxLength: 4 }), (cols, vals) => {
      const values = Object.fromEntries(cols.map((c, i) => [c, vals[i]]));
      const dir = partitionDirectory(cols, values);
      const back = dir.split('/').map((seg) => {
        const [k, v] = seg.split('=');
        return [unescapePathName(k), v === HIVE_DEFAULT_PARTITION ? null : unescapePathName(v)];
      });
      assert.deepEqual(back, cols.map((c) => [c, values[c]]));
    }),
    { numRuns: 500 },
  );
});

// ---- add.path ----

test('encodeAddPath encodes once, as Spark does', () => {
  assert.equal(encodeAddPath('x=A%2FA/part-0.parquet'), 'x=A%252FA/part-0.parquet');
  assert.equal(encodeAddPath('a%3Ab/f.parquet'), 'a%253Ab/f.parquet');
  assert.equal(encodeAddPath('c2=+ %3D%250/p.parquet'), 'c2=+%20%253D%25250/p.parquet');
  assert.equal(encodeAddPath('special p@#h'), 'special%20p@%23h');
  assert.equal(encodeAddPath("a,;$&+=@!~*'()_-.b"), "a,;$&+=@!~*'()_-.b");
  assert.equal(encodeAddPath('x:y?z[1]{2}"<>|\\^`'), 'x%3Ay%3Fz%5B1%5D%7B2%7D%22%3C%3E%7C%5C%5E%60');
  // Non-ASCII stays as it is (java.net.URI's "other" characters); controls and Unicode spaces are encoded.
  assert.equal(encodeAddPath('温度/é\u00a0\u0085\u{1f600}'), '温度/é%C2%A0%C2%85\u{1f600}');
  // A byte-order mark is no Java space character, so it stays; decoding must not swallow it.
  assert.deepEqual(decodeAddPath(encodeAddPath('\ufeff\u0000')), { relative: '\ufeff\u0000' });
  assert.throws(() => encodeAddPath('/abs/file'), InvalidArgumentError);
  assert.throws(() => encodeAddPath(''), InvalidArgumentError);
  assert.throws(() => encodeAddPath('a\ud800b'), /lone UTF-16 surrogate/);
});

test('decodeAddPath tells relative, absolute and foreign paths apart', () => {
  assert.deepEqual(decodeAddPath('x=A%252FA/p.parquet'), { relative: 'x=A%2FA/p.parquet' });
  assert.deepEqual(decodeAddPath('bar%2Dbar.snappy.parquet'), { relative: 'bar-bar.snappy.parquet' });
  assert.deepEqual(decodeAddPath('%E6%B8%A9/%C3%A9'), { relative: '温/é' });
  assert.deepEqual(decodeAddPath('100%.parquet'), { relative: '100%.parquet' });
  assert.deepEqual(decodeAddPath('file:/some/with%20space/p@%23h'), { absolute: '/some/with space/p@#h' });
  assert.deepEqual(decodeAddPath('file:///some/path'), { absolute: '/some/path' });
  assert.deepEqual(decodeAddPath('file://localhost/some/path'), { absolute: '/some/path' });
  assert.deepEqual(decodeAddPath('file://host/share/p'), { absolute: 'file://host/share/p' }, 'a remote host stays a URI');
  assert.deepEqual(decodeAddPath('/some/unqualified/path'), { absolute: '/some/unqualified/path' });
  assert.deepEqual(decodeAddPath('s3://bucket/t/p.parquet'), { absolute: 's3://bucket/t/p.parquet' });
  assert.throws(() => decodeAddPath('bad%FF.parquet'), CorruptLogError);
});

test('property: encodeAddPath then decodeAddPath gives any relative path back', () => {
  const rel = fc.string({ minLength: 1, unit: 'binary' }).filter((s) => !s.startsWith('/'));
  fc.assert(
    fc.property(rel, (s) => {
      const encoded = encodeAddPath(s);
      assert.deepEqual(decodeAddPath(encoded), { relative: s });
      // What stays unencoded: no ASCII controls or spaces, no Unicode spaces, none of `:%?#`.
      const kept = [...encoded.replace(/%[0-9A-F]{2}/g, '')];
      const plain = (ch: string) => {
        const c = ch.codePointAt(0) as number;
        return c > 0x20 && !(c >= 0x7f && c <= 0x9f) && !/[\p{Zs}\p{Zl}\p{Zp}:%?#]/u.test(ch);
      };
      assert.ok(kept.every(plain), encoded);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.array(fc.string({ minLength: 1, unit: 'grapheme' }), { minLength: 1, maxLength: 4 }), (parts) => {
      const s = parts.map((p) => p.replace(/\//g, '_')).join('/');
      assert.deepEqual(decodeAddPath(encodeAddPath(s)), { relative: s });
    }),
  );
});

test('every add.path of tables that ship their data files decodes to a file that exists', () => {
  const tables = [
    'delta-rs/delta-0.8.0-special-partition',
    'delta-rs/delta-0.8.0-null-partition',
    'delta-rs/partition-type-primitives',
    'delta-golden/data-reader-escaped-chars',
    'delta-golden/hive/deltatbl-special-chars-in-partition-column',
    'delta-golden/kernel-timestamp-partition-col-ISO8601',
    'delta-golden/data-reader-partition-values',
    'delta-golden/data-reader-timestamp_ntz',
    'delta-rs/spark-shredded-variant-preview-delta',
  ];
  for (const rel of tables) {
    const t = readLog(rel);
    for (const add of t.adds) {
      const d = decodeAddPath(add.path);
      assert.ok('relative' in d, `${rel}: ${add.path}`);
      const file = path.join(t.dir, d.relative);
      assert.ok(fs.statSync(file).isFile(), `${rel}: ${add.path} -> ${file} exists`);
      // And we would write the same add.path for that file as Spark or delta-rs did.
      assert.equal(encodeAddPath(d.relative), add.path, `${rel}: re-encoding ${add.path}`);
    }
  }
});

test('log-only golden tables: add and remove paths decode to the files they name', () => {
  // These tables test log replay and ship no data files, so existence cannot be checked; their expected targets are.
  const expect = (rel: string, adds: unknown[], removes: unknown[]) => {
    const t = readLog(rel);
    assert.deepEqual(dataFiles(t.dir), [], `${rel} ships no data files`);
    assert.deepEqual(t.adds.map((a) => decodeAddPath(a.path)), adds, rel);
    assert.deepEqual(t.removes.map((r) => decodeAddPath(r.path)), removes, rel);
  };
  const special = { relative: 'special p@#h' };
  expect('delta-golden/log-replay-special-characters-a', [special], [special]);
  expect('delta-golden/log-replay-special-characters-b', [special], []);
  const plain = { absolute: '/some/unqualified/absolute/path' };
  expect('delta-golden/canonicalized-paths-normal-a', [plain], [plain]);
  expect('delta-golden/canonicalized-paths-normal-b', [plain], [plain]);
  const spaced = { absolute: '/some/unqualified/with space/p@#h' };
  expect('delta-golden/canonicalized-paths-special-a', [spaced], [spaced]);
  expect('delta-golden/canonicalized-paths-special-b', [spaced], [spaced]);
  expect(
    'delta-golden/data-reader-absolute-paths-escaped-chars',
    [
      {
        relative: '..//Users/scott.sandre/connectors/golden-tables/src/test/resources/golden/data-reader-absolute-paths-escaped-chars/foo.snappy.parquet',
      },
      { relative: 'bar-bar.snappy.parquet' },
    ],
    [],
  );
});
