// Predicates: parsing (and its error messages), formatting and the round trip, binding, row masks, and pruning on
// partition values and stats, including the millisecond-rounded timestamp bounds and Spark's real stats.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import {
  bindPredicate,
  evalOnPartitionValues,
  evalOnRows,
  formatPredicate,
  mayMatchFile,
  parsePredicate,
  type Literal,
  type Predicate,
} from '../../src/delta/kernel/predicate.js';
import { field, parseSchema, struct } from '../../src/delta/kernel/schema.js';
import { InvalidArgumentError } from '../../src/errors.js';

const root = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const conformance = path.resolve(root, '..', 'shared', 'conformance');

const EXAMPLE =
  "date = '2024-01-01' AND ts >= '2024-01-01T00:00:00Z' AND ts < '2024-01-02T00:00:00Z' AND sensor_id IN ('a','b')";

const schema = struct([
  field('date', 'date'),
  field('ts', 'timestamp'),
  field('sensor_id', 'string'),
  field('value', 'double'),
  field('id', 'long'),
  field('n', 'integer'),
  field('price', 'decimal(5,2)'),
  field('blob', 'binary'),
  field('s', struct([field('a', 'integer')])),
]);

// ---- parsing and formatting ----

test('parsePredicate reads the scan example into the AST', () => {
  assert.deepEqual(parsePredicate(EXAMPLE), {
    op: 'and',
    args: [
      { op: '=', column: 'date', value: '2024-01-01' },
      { op: '>=', column: 'ts', value: '2024-01-01T00:00:00Z' },
      { op: '<', column: 'ts', value: '2024-01-02T00:00:00Z' },
      { op: 'in', column: 'sensor_id', values: ['a', 'b'] },
    ],
  });
});

test('parsePredicate: precedence, NOT forms, BETWEEN, literals and quoting', () => {
  assert.deepEqual(parsePredicate('a = 1 OR b = 2 AND NOT c IS NULL'), {
    op: 'or',
    args: [
      { op: '=', column: 'a', value: 1 },
      { op: 'and', args: [{ op: '=', column: 'b', value: 2 }, { op: 'not', arg: { op: 'isNull', column: 'c' } }] },
    ],
  });
  assert.deepEqual(parsePredicate('x NOT IN (1, -2.5, NULL) and y is not null'), {
    op: 'and',
    args: [
      { op: 'not', arg: { op: 'in', column: 'x', values: [1, -2.5, null] } },
      { op: 'isNotNull', column: 'y' },
    ],
  });
  assert.deepEqual(parsePredicate('n BETWEEN 1 AND 5'), {
    op: 'and',
    args: [{ op: '>=', column: 'n', value: 1 }, { op: '<=', column: 'n', value: 5 }],
  });
  assert.deepEqual(parsePredicate("5 < n"), { op: '>', column: 'n', value: 5 });
  assert.deepEqual(parsePredicate("n <> 3 AND n == 4"), {
    op: 'and',
    args: [{ op: '!=', column: 'n', value: 3 }, { op: '=', column: 'n', value: 4 }],
  });
  assert.deepEqual(parsePredicate('id = 9007199254740993'), { op: '=', column: 'id', value: 9007199254740993n });
  assert.deepEqual(parsePredicate('id = 12L'), { op: '=', column: 'id', value: 12n });
  assert.deepEqual(parsePredicate('v >= 1e-3 AND v < .5'), {
    op: 'and',
    args: [{ op: '>=', column: 'v', value: 0.001 }, { op: '<', column: 'v', value: 0.5 }],
  });
  assert.deepEqual(parsePredicate("s = 'it\\'s a \\\\ \"x\"' AND t = \"dq\""), {
    op: 'and',
    args: [{ op: '=', column: 's', value: 'it\'s a \\ "x"' }, { op: '=', column: 't', value: 'dq' }],
  });
  assert.deepEqual(parsePredicate('`weird col` = TRUE AND `a``b`.c IS NULL AND s.a > 1'), {
    op: 'and',
    args: [
      { op: '=', column: 'weird col', value: true },
      { op: 'isNull', column: 'a`b.c' },
      { op: '>', column: 's.a', value: 1 },
    ],
  });
  assert.deepEqual(parsePredicate("ts >= TIMESTAMP '2024-01-01 00:00:00' AND day = DATE '2024-01-02'"), {
    op: 'and',
    args: [
      { op: '>=', column: 'ts', value: new Date('2024-01-01T00:00:00Z') },
      { op: '=', column: 'day', value: '2024-01-02' },
    ],
  });
  // Finer than a millisecond, a TIMESTAMP keeps its text so no digit is lost.
  assert.deepEqual(parsePredicate("ts = TIMESTAMP '2024-01-01 00:00:00.000001'"), {
    op: '=',
    column: 'ts',
    value: '2024-01-01 00:00:00.000001',
  });
});

test('parsePredicate errors name the offset and what was expected', () => {
  const cases: [string, RegExp][] = [
    ['x = ', /expected a literal .* at offset 4 \(near the end\)/],
    ["x = 'abc", /unterminated string literal at offset 4/],
    ['x IN ()', /expected a literal .* at offset 6/],
    ['and = 1', /'and' is a keyword; quote a column so named as `and` at offset 0/],
    ['x = 1 y', /expected AND, OR or the end at offset 6/],
    ['x <=> 1', /unexpected character '<=>' at offset 2/],
    ["x = 'a' 'b'", /adjacent string literals.* at offset 8/],
    ['x = 12abc', /malformed number '12a' at offset 4/],
    ['(x = 1', /expected '\)' at offset 6/],
    ['x IS 1', /expected NULL at offset 5/],
    ['x NOT = 1', /expected IN or BETWEEN after NOT at offset 6/],
    ['', /empty predicate at offset 0/],
    ["ts = TIMESTAMP 'soon'", /invalid TIMESTAMP 'soon' at offset 5/],
    ['x = 1 $', /unexpected character '\$' at offset 6/],
  ];
  for (const [sql, re] of cases) {
    assert.throws(() => parsePredicate(sql), (e: unknown) => e instanceof InvalidArgumentError && re.test(e.message), sql);
  }
});

test('formatPredicate writes SQL Spark accepts', () => {
  assert.equal(
    formatPredicate(parsePredicate(EXAMPLE)),
    "date = '2024-01-01' AND ts >= '2024-01-01T00:00:00Z' AND ts < '2024-01-02T00:00:00Z' AND sensor_id IN ('a', 'b')",
  );
  const p: Predicate = {
    op: 'or',
    args: [
      { op: 'and', args: [{ op: '=', column: 'a', value: 1 }, { op: '!=', column: 'b', value: 2n }] },
      { op: 'not', arg: { op: 'isNull', column: 'weird col' } },
      { op: '>=', column: 'ts', value: new Date('2024-01-01T00:00:00.123Z') },
      { op: '=', column: 'in', value: "it's \\" },
      { op: 'isNotNull', column: 's.a' },
    ],
  };
  assert.equal(
    formatPredicate(p),
    "(a = 1 AND b != 2L) OR NOT (`weird col` IS NULL) OR ts >= TIMESTAMP '2024-01-01T00:00:00.123Z' OR `in` = 'it\\'s \\\\' OR s.a IS NOT NULL",
  );
  assert.throws(() => formatPredicate({ op: '=', column: 'v', value: NaN }), InvalidArgumentError);
  assert.throws(() => formatPredicate({ op: 'and', args: [] }), InvalidArgumentError);
  assert.throws(() => formatPredicate({ op: 'in', column: 'x', values: [] }), /IN with no values on 'x'/);
});

const literalArb: fc.Arbitrary<Literal> = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n),
  fc.boolean(),
  fc.constant(null),
  fc.date({ noInvalidDate: true }),
);
const columnArb = fc.oneof(
  fc.constantFrom('a', 'sensor_id', 'date', 'timestamp', 'ts', 's.a', 'weird col', 'in', 'Not', 'a`b', 'x.`y', 'a..b'),
  fc.string({ minLength: 1, unit: 'binary' }),
);
const predicateArb = fc.letrec<{ p: Predicate }>((tie) => ({
  p: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ op: fc.constantFrom('=', '!=', '<', '<=', '>', '>=' as const), column: columnArb, value: literalArb }, { noNullPrototype: true }),
    fc.record({ op: fc.constant('in' as const), column: columnArb, values: fc.array(literalArb, { minLength: 1, maxLength: 4 }) }, { noNullPrototype: true }),
    fc.record({ op: fc.constantFrom('isNull', 'isNotNull' as const), column: columnArb }, { noNullPrototype: true }),
    fc.record({ op: fc.constant('not' as const), arg: tie('p') }, { noNullPrototype: true }),
    fc.record({ op: fc.constantFrom('and', 'or' as const), args: fc.array(tie('p'), { minLength: 2, maxLength: 3 }) }, { noNullPrototype: true }),
  ) as fc.Arbitrary<Predicate>,
}));

test('property: formatPredicate then parsePredicate gives the same AST', () => {
  fc.assert(
    fc.property(predicateArb.p, (p) => {
      const sql = formatPredicate(p);
      assert.deepStrictEqual(parsePredicate(sql), p, sql);
    }),
    { numRuns: 1000 },
  );
});

// ---- binding ----

test('bindPredicate resolves columns case-insensitively and refuses what it cannot type', () => {
  const b = bindPredicate(parsePredicate("SENSOR_ID = 'a' AND S.A > 1 AND Date IS NULL"), schema);
  assert.deepEqual(b.columns, ['sensor_id', 's', 'date']);
  const cases: [string, RegExp][] = [
    ['nope = 1', /unknown column 'nope' \(the table has: date, ts, sensor_id, value, id, n, price, blob, s\)/],
    ['s.b = 1', /unknown column 's.b'/],
    ["id = 'abc'", /literal 'abc' cannot be compared with column 'id' \(long\)/],
    ['id = 2.5', /literal 2.5 cannot be compared with column 'id' \(long\)/],
    ['n = 3000000000', /literal 3000000000 cannot be compared with column 'n' \(integer\)/],
    ["ts >= 'yesterday'", /literal 'yesterday' cannot be compared with column 'ts' \(timestamp\)/],
    ["date = '2024-02-30'", /literal '2024-02-30' cannot be compared with column 'date' \(date\)/],
    ['price = 1.234', /literal 1.234 cannot be compared with column 'price' \(decimal\(5,2\)\)/],
    ["blob = 'x'", /column 'blob' has type binary, which cannot be compared/],
    ['s = 1', /column 's' has type struct, which cannot be compared/],
    ["sensor_id = 5", /literal 5 cannot be compared with column 'sensor_id' \(string\)/],
  ];
  for (const [sql, re] of cases) {
    assert.throws(() => bindPredicate(parsePredicate(sql), schema), (e: unknown) => e instanceof InvalidArgumentError && re.test(e.message), sql);
  }
  // Null checks work on any type, binary and structs included.
  bindPredicate(parsePredicate('blob IS NULL OR s IS NOT NULL'), schema);
});

// ---- rows ----

const US_2024 = 1704067200000000n; // 2024-01-01T00:00:00Z

function rows(): arrow.Table {
  const tsData = arrow.makeData({
    type: new arrow.TimestampMicrosecond('UTC'),
    length: 4,
    nullCount: 1,
    nullBitmap: new Uint8Array([0b0111]),
    data: new BigInt64Array([US_2024, US_2024 + 1n, US_2024 + 86_400_000_000n, 0n]),
  });
  const idData = arrow.makeData({
    type: new arrow.Int64(),
    length: 4,
    nullCount: 1,
    nullBitmap: new Uint8Array([0b1011]),
    data: new BigInt64Array([9007199254740993n, 9007199254740992n, 0n, 1n]),
  });
  return new arrow.Table({
    ts: arrow.makeVector(tsData),
    sensor_id: arrow.vectorFromArray(['a', 'b', 'c', null], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
    value: arrow.vectorFromArray([1.5, NaN, null, -3], new arrow.Float64()),
    id: arrow.makeVector(idData),
    s: arrow.vectorFromArray([{ a: 1 }, null, { a: 3 }, { a: null }], new arrow.Struct([new arrow.Field('a', new arrow.Int32(), true)])),
  });
}

const mask = (sql: string, constants?: Record<string, string | null>) =>
  [...evalOnRows(bindPredicate(parsePredicate(sql), schema), rows(), constants)];

test('evalOnRows: exact masks over µs timestamps, dictionary strings, NaN and nulls, int64 beyond 2^53', () => {
  assert.deepEqual(mask("ts >= '2024-01-01T00:00:00.000001Z'"), [0, 1, 1, 0]);
  assert.deepEqual(mask("ts < '2024-01-02T00:00:00Z'"), [1, 1, 0, 0]);
  assert.deepEqual(mask("ts = TIMESTAMP '2024-01-01 00:00:00'"), [1, 0, 0, 0]);
  assert.deepEqual(mask('ts > 1704067200000'), [0, 1, 1, 0], 'a number is milliseconds');
  assert.deepEqual(mask("sensor_id IN ('a','b')"), [1, 1, 0, 0]);
  assert.deepEqual(mask("sensor_id NOT IN ('a', NULL)"), [0, 0, 0, 0], 'NOT IN with a NULL never matches');
  assert.deepEqual(mask("sensor_id > 'a'"), [0, 1, 1, 0]);
  assert.deepEqual(mask('value > 1'), [1, 0, 0, 0]);
  assert.deepEqual(mask('NOT (value > 1)'), [0, 1, 0, 1], 'NaN compares false, so NOT matches it; null stays null');
  assert.deepEqual(mask('value != 1.5'), [0, 1, 0, 1]);
  assert.deepEqual(mask('value IS NULL'), [0, 0, 1, 0]);
  assert.deepEqual(mask('value = NULL'), [0, 0, 0, 0]);
  assert.deepEqual(mask('NOT (value = NULL)'), [0, 0, 0, 0]);
  assert.deepEqual(mask('id > 9007199254740992L'), [1, 0, 0, 0]);
  assert.deepEqual(mask('id = 9007199254740993'), [1, 0, 0, 0]);
  assert.deepEqual(mask('id <= 9007199254740992'), [0, 1, 0, 1]);
  assert.deepEqual(mask("sensor_id = 'c' OR value IS NULL OR id = 1"), [0, 0, 1, 1]);
  assert.deepEqual(mask('s.a >= 1'), [1, 0, 1, 0]);
  assert.deepEqual(mask('s.a IS NULL'), [0, 1, 0, 1], 'a null struct makes its fields null');
  assert.deepEqual(mask('s IS NULL'), [0, 1, 0, 0]);
  assert.deepEqual(mask('n IS NULL AND price IS NULL'), [1, 1, 1, 1], 'columns missing from the file are null');
});

test('evalOnRows takes partition columns from constants', () => {
  assert.deepEqual(mask(EXAMPLE, { date: '2024-01-01' }), [1, 1, 0, 0]);
  assert.deepEqual(mask(EXAMPLE, { date: '2024-01-02' }), [0, 0, 0, 0]);
  assert.deepEqual(mask('date IS NULL', { date: null }), [1, 1, 1, 1]);
  assert.deepEqual(mask("date = '2024-01-01'", { Date: null }), [0, 0, 0, 0]);
});

// ---- partition values ----

test('evalOnPartitionValues: true, false, or null when data columns decide', () => {
  const on = (sql: string, pv: Record<string, string | null>) => evalOnPartitionValues(bindPredicate(parsePredicate(sql), schema), pv);
  assert.equal(on(EXAMPLE, { date: '2024-01-01' }), null);
  assert.equal(on(EXAMPLE, { date: '2024-01-02' }), false);
  assert.equal(on(EXAMPLE, { date: null }), false);
  assert.equal(on("date = '2024-01-01'", { date: '2024-01-01' }), true);
  assert.equal(on("date >= '2023-12-31' AND date < '2024-01-02'", { date: '2024-01-01' }), true);
  assert.equal(on('date IS NULL', { date: null }), true);
  assert.equal(on('date IS NULL', { date: '2024-01-01' }), false);
  assert.equal(on("NOT (date = '2024-01-01')", { date: null }), false, 'NOT NULL is still NULL');
  assert.equal(on("date = '2024-01-01' OR value > 3", { date: '2024-01-01' }), true);
  assert.equal(on("date = '2024-01-01' OR value > 3", { date: '2024-01-05' }), null);
  assert.equal(on("date = '2024-01-01' AND value > 3", { date: '2024-01-05' }), false);
  assert.equal(on("date = '2024-01-01'", { date: '' }), false, 'an empty partition value is null');

  const hourly = struct([field('hour', 'timestamp'), field('v', 'double')]);
  const p = bindPredicate(parsePredicate("hour >= '2024-01-01T10:00:00Z' AND hour < TIMESTAMP '2024-01-01 11:00:00'"), hourly);
  assert.equal(evalOnPartitionValues(p, { hour: '2024-01-01T10:00:00.000000Z' }), true, 'Delta 3.3 ISO form');
  assert.equal(evalOnPartitionValues(p, { hour: '2024-01-01 10:30:00' }), true, 'legacy form');
  assert.equal(evalOnPartitionValues(p, { hour: '2024-01-01 11:00:00' }), false);
});

// ---- stats ----

const file = (stats: object | string | null, partitionValues: Record<string, string | null> = {}) => ({
  partitionValues,
  stats: stats === null || typeof stats === 'string' ? stats : JSON.stringify(stats),
});
const may = (sql: string, f: ReturnType<typeof file>, sch = schema) => mayMatchFile(bindPredicate(parsePredicate(sql), sch), f);

test('mayMatchFile: millisecond timestamp bounds never skip a file holding a matching row', () => {
  const row = 1700000000000500n; // 2023-11-14T22:13:20.000500Z
  const ours = file({ numRecords: 1, minValues: { ts: '2023-11-14T22:13:20.000Z' }, maxValues: { ts: '2023-11-14T22:13:20.001Z' }, nullCount: { ts: 0 } });
  // Spark truncates the max to …20.000Z, below the row itself.
  const spark = file({ numRecords: 1, minValues: { ts: '2023-11-14T22:13:20.000Z' }, maxValues: { ts: '2023-11-14T22:13:20.000Z' }, nullCount: { ts: 0 } });
  for (const f of [ours, spark]) {
    const p = bindPredicate({ op: '>=', column: 'ts', value: row }, schema);
    assert.equal(mayMatchFile(p, f), true);
    assert.equal(mayMatchFile(bindPredicate({ op: '=', column: 'ts', value: row }, schema), f), true);
    assert.equal(mayMatchFile(bindPredicate({ op: '!=', column: 'ts', value: row }, schema), f), true, 'equal bounds do not pin a ms-precision value');
    assert.equal(may("ts < '2023-11-14T22:13:20.000Z'", f), true, 'the min is widened too');
    assert.equal(may("ts < '2023-11-14T22:13:19.999Z'", f), false);
  }
  assert.equal(may("ts >= '2023-11-14T22:13:20.002Z'", ours), false);
  assert.equal(may("ts >= '2023-11-14T22:13:20.001Z'", spark), false);
  assert.equal(may("ts >= '2023-11-14T22:13:20.000999Z'", spark), true);
});

test('mayMatchFile: partition values, null counts, pinned bounds, missing stats, empty files', () => {
  const stats = { numRecords: 10, minValues: { n: 5, value: 1, sensor_id: 'b' }, maxValues: { n: 5, value: 9, sensor_id: 'm' }, nullCount: { n: 0, value: 10, sensor_id: 2 } };
  const f = file(stats, { date: '2024-01-01' });
  assert.equal(may(EXAMPLE, f), true);
  assert.equal(may(EXAMPLE, file(stats, { date: '2024-01-02' })), false);
  assert.equal(may('n = 5', f), true);
  assert.equal(may('n = 6', f), false);
  assert.equal(may('n != 5', f), false, 'min = max = 5 with no nulls: every row is 5');
  assert.equal(may('NOT (n = 5)', f), false);
  assert.equal(may('n IN (1, 5)', f), true);
  assert.equal(may('n IN (1, 2)', f), false);
  assert.equal(may('NOT (n IN (5, 7))', f), false);
  assert.equal(may('n > 4 AND n < 6', f), true);
  assert.equal(may('value = 3', f), false, 'value is all null');
  assert.equal(may('value IS NULL', f), true);
  assert.equal(may('value IS NOT NULL', f), false);
  assert.equal(may('n IS NULL', f), false);
  assert.equal(may("sensor_id IN ('a', 'z')", f), false);
  assert.equal(may("sensor_id IS NULL AND sensor_id > 'c'", f), true, 'leaves are not correlated: over-approximate');
  assert.equal(may("sensor_id >= 'm'", f), true);
  assert.equal(may('id = 1', f), true, 'no stats for id');
  assert.equal(may('n = 6', file(null)), true, 'no stats at all');
  assert.equal(may('n = 6', file('{garbage')), true);
  assert.equal(may('n IS NULL', file({ numRecords: 0, minValues: {}, maxValues: {}, nullCount: {} })), false);
  assert.equal(may('s.a > 3', file({ numRecords: 2, minValues: { s: { a: 1 } }, maxValues: { s: { a: 3 } }, nullCount: { s: { a: 0 } } })), false);
  assert.equal(may('s.a > 2', file({ numRecords: 2, minValues: { s: { a: 1 } }, maxValues: { s: { a: 3 } }, nullCount: { s: { a: 0 } } })), true);
});

test('mayMatchFile: NaN, truncated strings, longs past 2^53 and decimals stay sound', () => {
  const a32 = 'a'.repeat(32);
  // Written as text: the long bounds are past 2^53, where JSON.parse rounds them.
  const f = file(
    `{"numRecords":3,"minValues":{"value":1,"sensor_id":"${a32}","id":9007199254740993,"price":1.5},` +
      `"maxValues":{"value":5,"sensor_id":"${a32}\\u007f","id":9007199254740995,"price":2.25},` +
      '"nullCount":{"value":0,"sensor_id":0,"id":0,"price":0}}',
  );
  assert.equal(may('value > 10', f), false);
  assert.equal(may('NOT (value > 0)', f), true, 'NaN rows are outside the stats and fail value > 0');
  assert.equal(may('value != 3', f), true);
  assert.equal(may(`sensor_id = '${'a'.repeat(40)}'`, f), true);
  assert.equal(may("sensor_id > 'b'", f), false);
  assert.equal(may("sensor_id < 'a'", f), false);
  // A writer that cut the max to a bare 32-character prefix: values above it exist.
  const prefixOnly = file({ numRecords: 1, minValues: { sensor_id: 'a'.repeat(32) }, maxValues: { sensor_id: 'a'.repeat(32) }, nullCount: { sensor_id: 0 } });
  assert.equal(may(`sensor_id > '${'a'.repeat(32)}'`, prefixOnly), true);
  assert.equal(may(`sensor_id != '${'a'.repeat(32)}'`, prefixOnly), true);
  // JSON read 9007199254740993 as ...992: such bounds are unknown rather than wrong.
  assert.equal(may('id = 9007199254740993L', f), true);
  assert.equal(may('id < 5', f), true);
  assert.equal(may('price = 2.25', f), true);
  assert.equal(may('price > 2.25', f), false);
  assert.equal(may('price < 1.5', f), false);
});

test("mayMatchFile on Spark's stats (session time zone -08:00) from the golden tables", () => {
  const read = (rel: string) => {
    const log = path.join(conformance, rel, '_delta_log');
    const lines = fs
      .readdirSync(log)
      .filter((f) => /^\d{20}\.json$/.test(f))
      .sort()
      .flatMap((f) => fs.readFileSync(path.join(log, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
    const meta = lines.find((a) => a.metaData).metaData;
    return { schema: parseSchema(meta.schemaString), adds: lines.filter((a) => a.add).map((a) => a.add) };
  };
  const all = read('delta-golden/data-skipping-basic-stats-all-types');
  const [add] = all.adds;
  const yes = [
    "as_timestamp = TIMESTAMP '2000-01-01T08:00:00Z'",
    "as_timestamp = '2000-01-01 00:00:00-08:00'",
    "as_date = '2000-01-01'",
    'as_big_decimal = 0',
    "as_string = '0'",
    'as_float >= 0 AND as_double <= 0',
    'as_int = 0 AND as_long = 0L AND as_byte = 0 AND as_short = 0',
  ];
  const no = [
    "as_timestamp > '2000-01-01T08:00:01Z'",
    "as_timestamp < '2000-01-01T07:59:59Z'",
    "as_date > '2000-01-01'",
    'as_big_decimal > 0',
    "as_string = '1'",
    'as_float < 0',
    'as_int != 0',
    'as_long IS NULL',
  ];
  for (const sql of yes) assert.equal(may(sql, add, all.schema), true, sql);
  for (const sql of no) assert.equal(may(sql, add, all.schema), false, sql);

  const both = read('delta-golden/data-skipping-partition-and-data-column');
  const kept = both.adds.filter((a) => may('part = 0 AND id = 1', a, both.schema));
  assert.equal(kept.length, 1);
  assert.deepEqual(JSON.parse(kept[0].stats).minValues, { part: 0, id: 1 });
});
