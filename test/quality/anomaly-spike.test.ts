// The spike detector: a reading that jumps out and straight back (judged when the next reading arrives, dated at the
// spike itself), and a rate-of-change jump far beyond any step the sensor makes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectAnomalies } from '../../src/quality/anomaly/index.js';
import { clean, series, spans } from './anomaly-helpers.js';

const only = { detectors: ['spike'] as const };

test('spike: up and down spikes are single-reading intervals, detected one reading later', () => {
  const v = clean(400);
  v[150] = 60;
  v[250] = 38;
  const s = series(v);
  const d = detectAnomalies(s, {}, only);
  assert.deepEqual(spans(s, d), [[150, 150], [250, 250]]);
  assert.deepEqual(d.map((x) => x.tsDetected), [s.ts[151], s.ts[251]]);
  assert.match(d[0].reason, /^spike from \d+\.\d+ to 60 and back to \d+\.\d+: \d+\.?\d* robust standard deviations of the one-reading changes of the last \d+ readings$/);
  assert.match(d[1].reason, /^spike from \d+\.?\d* to 38 and back to/);
  assert.ok(d.every((x) => x.score > 0.8 && x.score < 1));
});

test('spike: a step that stays is a rate-of-change jump only when far beyond the normal steps', () => {
  const small = clean(400).map((x, i) => (i >= 300 ? x + 20 : x));
  assert.deepEqual(detectAnomalies(series(small), {}, only), []);
  const v = clean(400).map((x, i) => (i >= 300 ? x + 60 : x));
  const s = series(v);
  const d = detectAnomalies(s, {}, only);
  assert.deepEqual(spans(s, d), [[300, 300]]);
  assert.match(d[0].reason, /^jump from \d+\.\d+ to 1[01]\d\.\d+ in 60 s, \d+\.?\d* robust standard deviations/);
});

test('spike: clean data flags nothing, and a spike the window already saw three times is habit', () => {
  assert.deepEqual(detectAnomalies(series(clean(2000)), {}, only), []);
  const v = clean(800);
  for (const i of [150, 250, 350, 450, 550]) [v[i - 1], v[i], v[i + 1]] = [50, 60, 50];
  const s = series(v);
  // Each spike leaves a +10 step in the window: the 4th and 5th meet three steps as big and are the sensor's habit.
  assert.deepEqual(spans(s, detectAnomalies(s, {}, only)), [[150, 150], [250, 250], [350, 350]]);
});
