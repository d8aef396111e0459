// The readings a window writes, built in pieces: any piece size gives the same rows, merged in (sensor_id, ts) order
// across incoming and carried-over rows, with the partition columns, as one piece does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type * as arrow from 'apache-arrow';
import type { KeyedRows } from '../../src/backfill/dedup.js';
import { readingPieces, type OutputPart } from '../../src/backfill/output.js';

const DAY = 86_400e6;
const T0 = Date.UTC(2024, 0, 30) * 1000; // a month boundary falls inside the rows

function part(rows: { rank: number; t: number; v: number | null; text: string | null }[], src: number): OutputPart {
  const sorted = [...rows].sort((a, b) => a.rank - b.rank || a.t - b.t);
  const r: KeyedRows = {
    n: sorted.length,
    rank: Int32Array.from(sorted.map((x) => x.rank)),
    ts: Float64Array.from(sorted.map((x) => T0 + x.t * (DAY / 4))),
    value: Float64Array.from(sorted.map((x) => x.v ?? 0)),
    valid: Uint8Array.from(sorted.map((x) => (x.v === null ? 0 : 1))),
    text: sorted.some((x) => x.text !== null) ? sorted.map((x) => x.text) : null,
    quality: Uint32Array.from(sorted.map((x, i) => i % 3)),
  };
  return { rows: r, idx: Uint32Array.from(sorted.map((_, i) => i)), src: new Int32Array(sorted.length).fill(src) };
}

function rowsOf(tables: arrow.Table[]): unknown[] {
  return tables.flatMap((t) => t.toArray().map((r) => JSON.stringify(r.toJSON(), (_, v) => (typeof v === 'bigint' ? String(v) : v))));
}

const row = fc.record({ rank: fc.integer({ min: 0, max: 3 }), t: fc.integer({ min: 0, max: 40 }), v: fc.option(fc.integer({ min: -9, max: 9 }), { freq: 4 }), text: fc.option(fc.constantFrom('ON', 'OFF'), { freq: 3 }) });

test('readingPieces: pieces of any size give the rows of one piece, in key order, partition columns included', () => {
  fc.assert(
    fc.property(fc.array(row, { maxLength: 40 }), fc.array(row, { maxLength: 40 }), fc.integer({ min: 1, max: 12 }), fc.constantFrom('date' as const, 'month' as const), fc.boolean(), (a, b0, size, partition, one) => {
      // One part (a first load) takes a straight path; two (carried-over rows) are merged.
      const b = one ? [] : b0;
      const parts = () => (one ? [part(a, 0)] : [part(a, 0), part(b, 1)]);
      const names = ['s0', 's1', 's2', 's3'];
      const whole = [...readingPieces(parts(), names, ['a.csv', 'b.csv'], partition, Infinity)];
      const pieces = [...readingPieces(parts(), names, ['a.csv', 'b.csv'], partition, size)];
      assert.ok(whole.length <= 1);
      assert.equal(pieces.length, Math.ceil((a.length + b.length) / size));
      assert.ok(pieces.every((p) => p.numRows <= size));
      assert.deepEqual(rowsOf(pieces), rowsOf(whole));
      const keys = whole.flatMap((t) => t.toArray().map((r) => [names.indexOf(r.sensor_id as string), Number(r.ts)] as [number, number]));
      for (let i = 1; i < keys.length; i++) assert.ok(keys[i - 1][0] < keys[i][0] || (keys[i - 1][0] === keys[i][0] && keys[i - 1][1] <= keys[i][1]), 'key order');
    }),
    { numRuns: 200 },
  );
});
