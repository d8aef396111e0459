// The write path's typed-array fast paths against the generic code they replace: stats from typed arrays equal
// the cell-by-cell reader's (reached by nesting the same chunks in a struct), stats read back from the Parquet footer
// equal the scanned ones, and range gathers equal row gathers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { computeStats, statsJson } from '../../src/delta/kernel/stats.js';
import { field, struct, type PrimitiveType } from '../../src/delta/kernel/schema.js';
import { takeRanges, takeRows } from '../../src/delta/arrow/columns.js';
import { rawVector as raw } from '../helpers.js';
import { encodeParquet } from '../../src/delta/engine/parquet.js';
import { footerBounds, readFooterStats } from '../../src/delta/engine/parquet-footer.js';



const strings = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', '\uFEFFa', 'é', '\u{10FFFF}x', '\uE000', 'a\u007f', 'line1/asset1/temp0', 'z'.repeat(70)),
  fc.string({ unit: 'binary', maxLength: 5 }),
);

interface Kind {
  delta: PrimitiveType;
  make: (values: unknown[]) => arrow.Vector;
  value: fc.Arbitrary<unknown>;
}

const KINDS: Kind[] = [
  { delta: 'integer', make: (v) => arrow.vectorFromArray(v, new arrow.Int32()), value: fc.integer() },
  { delta: 'short', make: (v) => arrow.vectorFromArray(v, new arrow.Int16()), value: fc.integer({ min: -32768, max: 32767 }) },
  { delta: 'long', make: (v) => raw(new arrow.Int64(), v as (bigint | null)[], BigInt64Array), value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) },
  {
    delta: 'double',
    make: (v) => arrow.vectorFromArray(v, new arrow.Float64()),
    value: fc.oneof(fc.double(), fc.constantFrom(Number.NaN, -0, 0, Infinity, -Infinity)),
  },
  { delta: 'float', make: (v) => arrow.vectorFromArray(v, new arrow.Float32()), value: fc.float() },
  { delta: 'date', make: (v) => raw(new arrow.DateDay(), v as (number | null)[], Int32Array), value: fc.integer({ min: -100_000, max: 100_000 }) },
  {
    delta: 'timestamp',
    make: (v) => raw(new arrow.TimestampMicrosecond('UTC'), v as (bigint | null)[], BigInt64Array),
    value: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
  },
  { delta: 'string', make: (v) => arrow.vectorFromArray(v, new arrow.Utf8()), value: strings },
  { delta: 'string', make: (v) => arrow.vectorFromArray(v, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())), value: strings },
  { delta: 'boolean', make: (v) => arrow.vectorFromArray(v, new arrow.Bool()), value: fc.boolean() },
];

/** Several chunks of one kind, then sliced, so offsets into bitmaps and cut value buffers are exercised. */
const column = fc.nat(KINDS.length - 1).chain((k) =>
  fc.record({
    kind: fc.constant(k),
    chunks: fc.array(fc.array(fc.option(KINDS[k].value, { freq: 4 }), { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 3 }),
    head: fc.nat(10),
    tail: fc.nat(10),
  }),
);

type ColumnSpec = typeof column extends fc.Arbitrary<infer T> ? T : never;

/** Columns c0, c1, ... built chunk by chunk, each sliced by its head and tail, cut to the shortest. */
function tableOf(cols: ColumnSpec[]): arrow.Table {
  const vectors: Record<string, arrow.Vector> = {};
  cols.forEach((c, i) => {
    const v = c.chunks.map((values) => KINDS[c.kind].make(values)).reduce((a, b) => a.concat(b));
    const lo = Math.min(c.head, v.length);
    vectors[`c${i}`] = v.slice(lo, Math.max(lo, v.length - c.tail));
  });
  const n = Math.min(...Object.values(vectors).map((v) => v.length));
  for (const k of Object.keys(vectors)) vectors[k] = vectors[k].slice(0, n);
  return new arrow.Table(vectors);
}

test('stats from typed arrays equal the generic reader on random sliced, chunked columns', () => {
  fc.assert(
    fc.property(fc.array(column, { minLength: 1, maxLength: 4 }), (cols) => {
      const table = tableOf(cols);
      const fields = cols.map((c, i) => field(`c${i}`, KINDS[c.kind].delta));
      const fast = computeStats(table, struct(fields), { numIndexedCols: -1 });
      // The same chunks under a struct parent take the generic, cell-by-cell path.
      for (const f of fields) {
        const chunks = table.getChild(f.name)!.data.map((d) =>
          arrow.makeData({ type: new arrow.Struct([new arrow.Field('x', d.type, true)]), length: d.length, nullCount: 0, children: [d] }),
        );
        const nested = computeStats(new arrow.Table({ s: arrow.makeVector(chunks) }), struct([field('s', struct([field('x', f.type)]))]), {
          numIndexedCols: -1,
        });
        const pick = (o: Record<string, unknown>) => (o.s as Record<string, unknown> | undefined)?.x;
        assert.deepEqual(fast.nullCount[f.name], pick(nested.nullCount), `${f.name} (${String(f.type)}) nulls`);
        assert.deepEqual(fast.minValues[f.name], pick(nested.minValues), `${f.name} (${String(f.type)}) min`);
        assert.deepEqual(fast.maxValues[f.name], pick(nested.maxValues), `${f.name} (${String(f.type)}) max`);
      }
    }),
    { numRuns: 1500 },
  );
});

test('stats read back from the Parquet footer equal the scanned stats, across row groups, nulls, NaN and long strings', () => {
  let fromFooter = 0;
  let scanned = 0;
  fc.assert(
    fc.property(fc.array(column, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), (cols, rowGroupSize, snappy) => {
      const table = tableOf(cols);
      const schema = struct(cols.map((c, i) => field(`c${i}`, KINDS[c.kind].delta)));
      const footer = readFooterStats(encodeParquet(table, { rowGroupSize, compression: snappy ? 'snappy' : 'zstd' }));
      assert.ok(footer);
      const read = computeStats(table, schema, {
        numIndexedCols: -1,
        knownBounds: (name, kind, chunks) => {
          const b = footerBounds(footer, name, kind, chunks);
          if (b) fromFooter++;
          else if (table.numRows > 0 && kind !== 'none') scanned++; // an empty file has no row groups; nulls-only kinds always scan
          return b;
        },
      });
      // As JSON: the footer writes a zero bound as -0 (min) or +0 (max), which the stats JSON spells 0 either way.
      assert.equal(statsJson(read), statsJson(computeStats(table, schema, { numIndexedCols: -1 })));
    }),
    { numRuns: 500 },
  );
  // The footer must vouch for most columns, or this test compares the scan with itself.
  assert.ok(fromFooter > scanned, `bounds from the footer ${fromFooter}, scanned ${scanned}`);
});

test('takeRanges equals takeRows over the same rows, across chunks, slices and nulls', () => {
  const row = fc.record({ s: fc.option(fc.string({ maxLength: 6 })), i: fc.option(fc.integer()), t: fc.option(fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n })) });
  fc.assert(
    fc.property(
      fc.array(fc.array(row, { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 4 }),
      fc.boolean(),
      fc.nat(5),
      fc.array(fc.nat(), { maxLength: 12 }),
      (chunks, dict, cut, cuts) => {
        const stringType = dict ? new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()) : new arrow.Utf8();
        let t = chunks
          .map(
            (rows) =>
              new arrow.Table({
                s: arrow.vectorFromArray(rows.map((r) => r.s), stringType),
                i: arrow.vectorFromArray(rows.map((r) => r.i), new arrow.Int32()),
                t: raw(new arrow.TimestampMicrosecond('UTC'), rows.map((r) => r.t), BigInt64Array),
              }),
          )
          .reduce((a, b) => a.concat(b));
        t = t.slice(Math.min(cut, t.numRows));
        const points = [...new Set(cuts.map((x) => x % (t.numRows + 1)))].sort((a, b) => a - b);
        const ranges: number[] = [];
        for (let k = 0; k + 1 < points.length; k += 2) ranges.push(points[k], points[k + 1]);
        const indices: number[] = [];
        for (let k = 0; k < ranges.length; k += 2) for (let r = ranges[k]; r < ranges[k + 1]; r++) indices.push(r);
        const a = takeRanges(t, ranges);
        const b = takeRows(t, Uint32Array.from(indices));
        assert.equal(a.numRows, indices.length);
        const rows = (x: arrow.Table) => JSON.stringify(x.toArray(), (_, v) => (typeof v === 'bigint' ? String(v) : v));
        assert.equal(rows(a), rows(b));
      },
    ),
    { numRuns: 1000 },
  );
});
