// The seasonal residual: readings against the same time of day in the previous days. A missing evening peak is
// flagged; the peak itself, every evening, is not (and the seasonal profile vetoes the z-score for it too).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectAnomalies } from '../../src/quality/anomaly/index.js';
import { noise, series, spans } from './anomaly-helpers.js';

const FIVE_MIN = 300_000_000;
const DAY = 288;
/** 10 days at 5 min: 50 by day, 70 from 17:00 to 21:00 UTC, noise +-1. */
function evenings(skipDay = -1): Float64Array {
  const e = noise(10 * DAY, 5);
  return e.map((x, i) => {
    const slot = i % DAY;
    const peak = slot >= 204 && slot < 252 && Math.floor(i / DAY) !== skipDay;
    return (peak ? 70 : 50) + x;
  });
}

test('seasonal: the missing evening peak of day 8 is one interval, 17:00 to 20:55', () => {
  const s = series(evenings(8), { step: FIVE_MIN });
  const d = detectAnomalies(s, {}, { detectors: ['seasonal'] });
  assert.deepEqual(spans(s, d), [[8 * DAY + 204, 8 * DAY + 251]]);
  assert.equal(d[0].tsDetected, s.ts[8 * DAY + 204]);
  assert.match(d[0].reason, /^value \d+\.\d+ at \d\d:\d\d UTC is below the daily profile's 7\d(\.\d+)? by \d+\.?\d* robust standard deviations of the profile's residuals$/);
});

test('seasonal: every evening the same is no anomaly, and the profile keeps the z-score quiet about it', () => {
  const s = series(evenings(), { step: FIVE_MIN });
  assert.deepEqual(detectAnomalies(s, {}, { detectors: ['seasonal'] }), []);
  // Before the profile has two days of history the first evening is new to the z-score: flagged while its
  // readings keep beating the evening's highest so far (rare: fewer than three as high), then never again.
  assert.deepEqual(spans(s, detectAnomalies(s, {}, { detectors: ['zscore', 'seasonal'] })), [[204, 226]]);
});
