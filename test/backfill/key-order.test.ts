// Pass 2's load of a window in (sensor_id, ts) order, without the table: every staged row once, sensors ranked by
// UTF-8 bytes (as Delta stats compare them, not as JS compares UTF-16), times in order, staging order among ties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as path from 'node:path';
import { loadInKeyOrder } from '../../src/backfill/key-order.js';
import { rankNames, RowBuffer } from '../../src/backfill/rows.js';
import { appendSegment } from '../../src/backfill/staging.js';
import { tempDir } from '../helpers.js';

// '\uFFFD' sorts after '😀' in UTF-16 code units but before it in UTF-8 bytes.
const SENSORS = ['b', 'a', 'é', '😀', '\uFFFD', 'a/x', 'A'];

const staged = fc.array(
  fc.record({
    sid: fc.integer({ min: 0, max: SENSORS.length - 1 }),
    ts: fc.integer({ min: 0, max: 20 }),
    value: fc.option(fc.integer({ min: -5, max: 5 }), { freq: 5 }),
    text: fc.option(fc.constantFrom('ON', 'OFF', 'FAULT'), { freq: 3 }),
  }),
  { minLength: 0, maxLength: 200 },
);

test('loadInKeyOrder: each row once, in (UTF-8 sensor id, ts, staging order)', async () => {
  const t = tempDir('key-order-');
  try {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(staged, fc.integer({ min: 1, max: 50 }), fc.boolean(), fc.option(fc.subarray([0, 1, 2, 3, 4, 5, 6])), async (all, segment, spilled, only) => {
        const file = path.join(t.dir, `w${run++}.stg`);
        for (let k = 0; k < all.length; k += segment) {
          const b = new RowBuffer(4);
          all.slice(k, k + segment).forEach((r, j) => b.push(r.ts, r.sid, r.value, r.text, j % 3, k % 2, k + j));
          // Spilled windows are sorted by sensor index per segment; bucket files and the like need not be.
          await appendSegment(file, spilled ? b.sortedByRank(rankNames(SENSORS).rank) : b);
        }
        // A bucket: only some sensors' rows (any subset reads right; a contiguous one reads least).
        const got = await loadInKeyOrder(file, SENSORS, only ?? undefined);
        const rows = all.map((r, i) => ({ ...r, i })).filter((r) => !only || only.includes(r.sid));
        const key = (s: string): Buffer => Buffer.from(s, 'utf8');
        const expectedNames = [...new Set(rows.map((r) => SENSORS[r.sid]))].sort((x, y) => Buffer.compare(key(x), key(y)));
        assert.deepEqual(got.names, expectedNames);
        const expected = rows
          .sort((x, y) => Buffer.compare(key(SENSORS[x.sid]), key(SENSORS[y.sid])) || x.ts - y.ts || x.i - y.i)
          .map((r) => [SENSORS[r.sid], r.ts, r.value, r.text, r.i]);
        const g = got.rows;
        const actual = Array.from({ length: g.n }, (_, p) => [got.names[g.rank[p]], g.ts[p], g.valid[p] ? g.value[p] : null, g.text?.[p] ?? null, g.loc[p]]);
        assert.deepEqual(actual, expected);
      }),
      { numRuns: 150 },
    );
  } finally {
    t.cleanup();
  }
});
