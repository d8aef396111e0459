// Dedup on (sensor_id, ts) without disk: key order, the later record winning within the input, duplicate and
// conflict counts, and the merge join against the table under both conflict policies; plus a property check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dedupInput, mergeWithTable, orderByKey, type InputRows, type KeyedRows } from '../../src/backfill/dedup.js';

interface R {
  rank: number;
  ts: number;
  value: number | null;
  text?: string | null;
  quality?: number;
  file?: number;
  loc?: number;
}

function rows(list: R[]): InputRows {
  const n = list.length;
  const anyText = list.some((r) => r.text != null);
  return {
    n,
    rank: Int32Array.from(list.map((r) => r.rank)),
    ts: Float64Array.from(list.map((r) => r.ts)),
    value: Float64Array.from(list.map((r) => r.value ?? 0)),
    valid: Uint8Array.from(list.map((r) => (r.value === null ? 0 : 1))),
    text: anyText ? list.map((r) => r.text ?? null) : null,
    quality: Uint32Array.from(list.map((r) => r.quality ?? 0)),
    file: Int32Array.from(list.map((r) => r.file ?? 0)),
    loc: Float64Array.from(list.map((r, i) => r.loc ?? i + 2)),
  };
}

test('orderByKey sorts by sensor rank then ts, keeping input order among equal keys', () => {
  const r = rows([
    { rank: 1, ts: 5, value: 1 },
    { rank: 0, ts: 9, value: 2 },
    { rank: 1, ts: 2, value: 3 },
    { rank: 0, ts: 9, value: 4 },
    { rank: 0, ts: 1, value: 5 },
  ]);
  assert.deepEqual([...orderByKey(r, 2)], [4, 1, 3, 2, 0]);
});

test('dedupInput keeps the last record in input order and counts exact copies and conflicts apart', () => {
  const r = rows([
    { rank: 0, ts: 1, value: 10, loc: 2 },
    { rank: 0, ts: 1, value: 10, loc: 3 }, // exact copy
    { rank: 0, ts: 2, value: 20, loc: 4 },
    { rank: 0, ts: 2, value: 21, loc: 5 }, // conflict: this later one wins
    { rank: 0, ts: 3, value: 30, file: 1, loc: 2 }, // a later file wins over an earlier one whatever the location
    { rank: 0, ts: 3, value: 31, file: 0, loc: 9 },
    { rank: 0, ts: 4, value: 40, quality: 0x40000000, loc: 6 },
    { rank: 0, ts: 4, value: 40, quality: 0, loc: 7 }, // quality differs: a conflict
  ]);
  const d = dedupInput(r, orderByKey(r, 1));
  assert.deepEqual([...d.winners], [1, 3, 4, 7]);
  assert.equal(d.duplicates, 4);
  assert.equal(d.conflicts, 3);
  assert.deepEqual([...d.dropped], [1, 0, 1, 0, 0, 1, 1, 0]);
});

test('mergeWithTable: new keys written, equal rows duplicates, different rows conflicts resolved by policy', () => {
  const inc = rows([
    { rank: 0, ts: 1, value: 1 }, // same as table
    { rank: 0, ts: 2, value: 2 }, // differs from table
    { rank: 1, ts: 1, value: 3 }, // new
  ]);
  const ex: KeyedRows = rows([
    { rank: 0, ts: 2, value: 99 },
    { rank: 0, ts: 1, value: 1 },
    { rank: 2, ts: 1, value: 7 },
  ]);
  const winners = dedupInput(inc, orderByKey(inc, 3)).winners;
  const keep = mergeWithTable(inc, winners, ex, orderByKey(ex, 3), 'keep-existing');
  assert.deepEqual([...keep.write], [2]);
  assert.equal(keep.duplicates, 1);
  assert.equal(keep.conflicts, 1);
  assert.equal(keep.dropExisting, null);
  assert.deepEqual([...keep.notWritten], [1, 1, 0]);

  const take = mergeWithTable(inc, winners, ex, orderByKey(ex, 3), 'keep-incoming');
  assert.deepEqual([...take.write], [1, 2]);
  assert.equal(take.conflicts, 1);
  assert.equal(take.overridden, 1);
  assert.deepEqual([...take.dropExisting!], [1, 0, 0]);
});

test('property: one winner per key, the latest in input order, and every record accounted for', () => {
  const rec = fc.record({ rank: fc.integer({ min: 0, max: 3 }), ts: fc.integer({ min: 0, max: 6 }), value: fc.integer({ min: 0, max: 2 }) });
  fc.assert(
    fc.property(fc.array(rec, { maxLength: 60 }), (list) => {
      const r = rows(list.map((x, i) => ({ ...x, loc: i })));
      const d = dedupInput(r, orderByKey(r, 4));
      const last = new Map<string, number>();
      list.forEach((x, i) => last.set(`${x.rank}/${x.ts}`, i));
      assert.equal(d.winners.length, last.size);
      assert.deepEqual(new Set(d.winners), new Set(last.values()));
      assert.equal(d.winners.length + d.duplicates, list.length);
      // Winners come in key order.
      for (let k = 1; k < d.winners.length; k++) {
        const a = list[d.winners[k - 1]];
        const b = list[d.winners[k]];
        assert.ok(a.rank < b.rank || (a.rank === b.rank && a.ts < b.ts));
      }
      const conflicts = list.filter((x, i) => !d.winners.includes(i) && list[last.get(`${x.rank}/${x.ts}`)!].value !== x.value).length;
      assert.equal(d.conflicts, conflicts);
    }),
  );
});
