// The robust rolling z-score: a reading far from the median of the readings before it, in robust standard
// deviations, and rare in that window.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectAnomalies } from '../../src/quality/anomaly/index.js';
import { clean, series, spans } from './anomaly-helpers.js';

const only = { detectors: ['zscore'] as const };

test('zscore: an outlier is one reading; the reason gives value, distance and the window', () => {
  const v = clean(600);
  v[300] = 70;
  const s = series(v);
  const d = detectAnomalies(s, {}, only);
  assert.deepEqual(spans(s, d), [[300, 300]]);
  assert.equal(d[0].tsDetected, s.ts[300]);
  assert.ok(d[0].score > 0.9);
  assert.match(d[0].reason, /^value 70 is \d+\.?\d* robust standard deviations above the median 50(\.\d+)? of the last 300 readings \(1st-99th percentile 49\.\d+ to 50\.\d+\)$/);
});

test('zscore: nothing before the warm-up, nothing on clean data', () => {
  const v = clean(600);
  v[50] = 70; // inside the first 100 readings
  assert.deepEqual(detectAnomalies(series(v), {}, only), []);
  assert.deepEqual(detectAnomalies(series(clean(5000)), {}, only), []);
});

test('zscore: a value the window holds three times or more is not rare any more', () => {
  const v = clean(600);
  for (let i = 120; i < 600; i += 60) v[i] = 60;
  const s = series(v);
  assert.deepEqual(spans(s, detectAnomalies(s, {}, only)), [[120, 120], [180, 180], [240, 240]]);
});
