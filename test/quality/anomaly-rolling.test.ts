// The sorted trailing window the detectors read their statistics from, against brute force on random data.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { normalQuantile, RollingStats, SortedWindow } from '../../src/quality/anomaly/rolling.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

test('SortedWindow: median and MAD equal brute force, ties and duplicates included', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: -25, max: 25 }), (xs, c) => {
      const w = new SortedWindow(4);
      for (const x of xs) w.add(x);
      assert.equal(w.median(), median(xs));
      assert.equal(w.mad(), median(xs.map((x) => Math.abs(x - median(xs)))));
      assert.equal(w.mad(c), median(xs.map((x) => Math.abs(x - c))));
      assert.equal(w.countBelow(c), xs.filter((x) => x < c).length);
      assert.equal(w.countAtMost(c), xs.filter((x) => x <= c).length);
    }),
  );
});

test('RollingStats: only the last `length` values count', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 80 }), fc.integer({ min: 1, max: 20 }), (xs, n) => {
      const r = new RollingStats(n);
      for (const x of xs) r.push(x);
      const tail = xs.slice(-n);
      assert.equal(r.size, tail.length);
      // === rather than Object.is: which of 0 and -0 sorts first is not the window's business.
      assert.ok(r.median() === median(tail), `median ${r.median()} of ${JSON.stringify(tail)}, brute force ${median(tail)}`);
    }),
  );
});

test('deviationQuantile at 0.5 is the MAD; the normal quantile is the textbook one', () => {
  const w = new SortedWindow();
  for (const x of [1, 2, 3, 4, 100]) w.add(x);
  assert.equal(w.deviationQuantile(0.5), w.mad());
  assert.equal(w.deviationQuantile(1), 97);
  assert.equal(normalQuantile(0.975).toFixed(4), '1.9600');
  assert.equal(normalQuantile(0.5), 0);
  assert.equal(normalQuantile(0.001).toFixed(4), '-3.0902');
});

test('RollingStats.sigma: with a zero robust spread it is 1.2533 × the mean absolute deviation, as brute force sums it', () => {
  fc.assert(
    fc.property(
      // Mostly one value (so the 0.9 deviation quantile is 0), a few others on either side.
      fc.array(fc.oneof({ weight: 12, arbitrary: fc.constant(5) }, { weight: 1, arbitrary: fc.double({ min: -50, max: 50, noNaN: true }) }), { minLength: 1, maxLength: 80 }),
      (xs) => {
        const r = new RollingStats(100);
        for (const x of xs) r.push(x);
        const c = r.median();
        const spread = r.sorted.deviationQuantile(0.9, c);
        fc.pre(spread === 0);
        const brute = (1.2533 * [...xs].sort((a, b) => a - b).reduce((s, x) => s + Math.abs(x - c), 0)) / xs.length;
        assert.equal(r.sigma(c, 0.9), brute);
      },
    ),
  );
});
