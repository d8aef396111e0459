// The gap finder and interval inference on small series with known answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findGaps, missingBetween } from '../../src/quality/gaps.js';
import { expectedIntervalUs, inferIntervalUs } from '../../src/quality/interval.js';

const S = 1e6;

function series(ts: number[]): { sensorId: string; ts: Float64Array } {
  return { sensorId: 's', ts: Float64Array.from(ts.map((t) => t * S)) };
}

test('gaps are the readings either side and the count of missing ones', () => {
  // 10 s interval; 30 -> 70 misses 40, 50, 60; 100 -> 120 misses 110; 80 -> 94 is jitter (1.4 intervals), not a gap.
  const s = series([0, 10, 20, 30, 70, 80, 94, 100, 120, 130]);
  const gaps = findGaps(s, 10 * S);
  assert.deepEqual(
    gaps.map((g) => [g.start / S, g.end / S, g.missing]),
    [
      [30, 70, 3],
      [100, 120, 1],
    ],
  );
  assert.equal(findGaps(s, 10 * S, { minMissing: 2 }).length, 1);
  assert.equal(missingBetween(15 * S, 10 * S), 1, '1.5 intervals rounds to 2 steps: one reading missing');
  assert.equal(missingBetween(14 * S, 10 * S), 0);
});

test('the inferred interval is the median step, not pulled by gaps or bursts', () => {
  // Mostly 5 s steps, a few long gaps and a burst of 1 s steps.
  const ts: number[] = [];
  let t = 0;
  for (let i = 0; i < 200; i++) {
    t += i % 40 === 39 ? 600 : i % 50 === 10 ? 1 : 5;
    ts.push(t * S);
  }
  assert.equal(inferIntervalUs(ts), 5 * S);
  assert.deepEqual(expectedIntervalUs(ts, 2), { intervalUs: 2 * S, inferred: false }, 'the sensors table wins');
  assert.deepEqual(expectedIntervalUs(ts, null), { intervalUs: 5 * S, inferred: true });
  assert.ok(Number.isNaN(inferIntervalUs([1])));
});
