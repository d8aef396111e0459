// The encoder pool's IPC writer against apache-arrow's: the same bytes for sliced, chunked tables with nulls, also
// when written into a reused buffer full of old bytes, and through the fallback for dictionary columns.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { tableToIpcStream } from '../../src/delta/engine/ipc-stream.js';
import { rawVector as raw } from '../helpers.js';

const row = fc.record({
  s: fc.option(fc.string({ maxLength: 12 })),
  i: fc.option(fc.integer()),
  t: fc.option(fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n })),
  d: fc.option(fc.double()),
  b: fc.option(fc.boolean()),
});

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

test('tableToIpcStream writes what apache-arrow writes, into fresh or reused buffers', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(row, { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 4 }),
      fc.nat(5),
      fc.nat(5),
      fc.boolean(),
      (chunks, head, tail, dict) => {
        const stringType = dict ? new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()) : new arrow.Utf8();
        let t = chunks
          .map(
            (rows) =>
              new arrow.Table({
                s: arrow.vectorFromArray(rows.map((r) => r.s), stringType),
                i: arrow.vectorFromArray(rows.map((r) => r.i), new arrow.Int32()),
                t: raw(new arrow.TimestampMicrosecond('UTC'), rows.map((r) => r.t), BigInt64Array),
                d: arrow.vectorFromArray(rows.map((r) => r.d), new arrow.Float64()),
                b: arrow.vectorFromArray(rows.map((r) => r.b), new arrow.Bool()),
              }),
          )
          .reduce((a, b) => a.concat(b));
        const lo = Math.min(head, t.numRows);
        t = t.slice(lo, Math.max(lo, t.numRows - tail));
        const expected = arrow.tableToIPC(t, 'stream');
        assert.ok(same(tableToIpcStream(t), expected), 'fresh buffer');
        const dirty = new Uint8Array(expected.byteLength + 64).fill(0xa5);
        const reused = tableToIpcStream(t, dirty.buffer);
        assert.ok(same(reused, expected), 'reused buffer');
        if (!dict) assert.equal(reused.buffer, dirty.buffer, 'a large enough buffer is written into, not replaced');
        assert.equal(arrow.tableFromIPC(reused).numRows, t.numRows);
      },
    ),
    { numRuns: 300 },
  );
});

test('a buffer too small for the rows is left alone and a new one is made', () => {
  const t = new arrow.Table({ i: arrow.vectorFromArray([1, 2, 3], new arrow.Int32()) });
  const small = new ArrayBuffer(16);
  const out = tableToIpcStream(t, small);
  assert.notEqual(out.buffer, small);
  assert.deepEqual([...arrow.tableFromIPC(out).getChild('i')!], [1, 2, 3]);
});
