// The level-shift detector: the median of the last readings moved far from the window before them, to a level
// that window never held. Dated from the first reading at the new level.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectAnomalies } from '../../src/quality/anomaly/index.js';
import { clean, series, spans } from './anomaly-helpers.js';

const only = { detectors: ['shift'] as const };

test('shift: a step to a level never seen is one interval from the step', () => {
  const v = clean(1200).map((x, i) => (i >= 800 ? x + 4 : x));
  const s = series(v);
  const d = detectAnomalies(s, {}, only);
  assert.equal(d.length, 1);
  assert.equal(d[0].tsStart, s.ts[800]);
  assert.match(d[0].reason, /^the median of the last 24 readings, 5\d\.\d+, is \d+\.?\d* robust standard deviations above the median 50(\.\d+)? of the \d+ readings before; 0% of those went as far$/);
  assert.deepEqual(spans(s, d), [[800, 835]]);
  assert.equal(d[0].tsDetected, s.ts[811]);
});

test('shift: single spikes do not move a median; clean data flags nothing', () => {
  const v = clean(1200);
  for (const i of [300, 500, 700]) v[i] = 90;
  assert.deepEqual(detectAnomalies(series(v), {}, only), []);
  assert.deepEqual(detectAnomalies(series(clean(5000)), {}, only), []);
});
