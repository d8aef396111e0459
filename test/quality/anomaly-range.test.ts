// The range detector: readings outside the sensors table's valid limits, merged into intervals by the merge gap.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectAnomalies } from '../../src/quality/anomaly/index.js';
import { clean, series, spans } from './anomaly-helpers.js';

const only = { detectors: ['range'] as const };

test('range: readings above valid max form one interval; the reason names value and limit', () => {
  const v = clean(300);
  v[100] = 120;
  v[101] = 130;
  v[102] = 125;
  const s = series(v);
  const d = detectAnomalies(s, { validMin: 0, validMax: 100 }, only);
  assert.deepEqual(spans(s, d), [[100, 102]]);
  assert.equal(d[0].detector, 'range');
  assert.equal(d[0].tsDetected, s.ts[100]);
  // Strength 2 + 10 * 30 / 100 = 5 at the worst reading: score 1 - 0.5 / 5.
  assert.equal(d[0].score, 0.9);
  assert.equal(d[0].reason, 'value 130 above valid max 100 (sensors table)');
  assert.equal(d[0].sensorId, 'line1/press/temp');
  assert.equal(d[0].asset, 'line1/press');
});

test('range: readings closer than the merge gap are one interval, farther ones two', () => {
  const v = clean(400);
  v[100] = -5;
  v[110] = -6; // 9 readings between: within a gap of 10
  v[300] = 101;
  const s = series(v);
  const d = detectAnomalies(s, { validMin: 0, validMax: 100 }, { ...only, mergeGap: 10 });
  assert.deepEqual(spans(s, d), [[100, 110], [300, 300]]);
  assert.equal(d[0].reason, 'value -6 below valid min 0 (sensors table)');
  assert.deepEqual(spans(s, detectAnomalies(s, { validMin: 0, validMax: 100 }, { ...only, mergeGap: 8 })), [[100, 100], [110, 110], [300, 300]]);
});

test('range: one limit is enough; no limits or in-range data flag nothing', () => {
  const v = clean(200);
  v[50] = 80;
  const s = series(v);
  assert.deepEqual(spans(s, detectAnomalies(s, { validMax: 60 }, only)), [[50, 50]]);
  assert.deepEqual(detectAnomalies(s, {}, only), []);
  assert.deepEqual(detectAnomalies(s, { validMin: null, validMax: null }, only), []);
  assert.deepEqual(detectAnomalies(series(clean(200)), { validMin: 0, validMax: 100 }, only), []);
});
