// The flatline detector: a value repeated for longer than the sensor ever repeats itself, dated from the first
// repeated reading and raised once, when the run reaches the bar.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectAnomalies } from '../../src/quality/anomaly/index.js';
import { clean, series, spans } from './anomaly-helpers.js';

const only = { detectors: ['flatline'] as const };

test('flatline: a stuck transmitter repeating its last value is one interval from its first repeat', () => {
  const v = clean(400);
  for (let i = 200; i < 240; i++) v[i] = v[199]; // 41 equal readings: 199..239
  const s = series(v);
  const d = detectAnomalies(s, {}, only);
  assert.deepEqual(spans(s, d), [[199, 239]]);
  // The 30th equal reading (index 228) reaches the bar of 30.
  assert.equal(d[0].tsDetected, s.ts[228]);
  // Noise never repeats (longest run 1): 30 repeats is 15 times the habit (alert score 1 - 0.5 / 15); the interval
  // is scored by its whole length, 41 repeats (1 - 0.5 / 20.5).
  assert.deepEqual(d[0].alerts, [{ ts: s.ts[228], score: 1 - 0.5 / 15 }]);
  assert.equal(d[0].score, 1 - 0.5 / 20.5);
  assert.match(d[0].reason, /^value \d+\.\d+ repeated 41 times since 2024-01-01T03:19:00\.000Z \(0\.6667 h\); the longest comparable repeat in the 3000 readings before was 1$/);
});

test('flatline: a quantised sensor that holds values for 20 readings is not stuck at 30, but is at 40', () => {
  // Blocks of 20 equal readings (0, 1, 0, ...): the habit is 20, so the bar is 40.
  const v = Float64Array.from({ length: 600 }, (_, i) => Math.floor(i / 20) % 2);
  for (let i = 400; i < 420; i++) v[i] = 1; // blocks 19..21 merge: 380..439, 60 readings
  const s = series(v);
  const d = detectAnomalies(s, {}, only);
  assert.deepEqual(spans(s, d), [[380, 439]]);
  // At the bar (40) the score is 0.5, below the default minScore 0.6: the alert waits until the run is 50 long.
  assert.equal(d[0].tsDetected, s.ts[429]);
  assert.deepEqual(d[0].alerts, [{ ts: s.ts[429], score: 1 - 0.5 / 1.25 }]);
  assert.equal(d[0].score, 1 - 0.5 / 1.5);
  const ok = Float64Array.from({ length: 600 }, (_, i) => Math.floor(i / 20) % 2);
  for (let i = 400; i < 410; i++) ok[i] = 1; // run 380..409: 30 readings
  assert.deepEqual(detectAnomalies(series(ok), {}, only), []);
});

test('flatline: clean data flags nothing; a constant series is flagged once, from its start', () => {
  assert.deepEqual(detectAnomalies(series(clean(1000)), {}, only), []);
  const s = series(new Float64Array(100).fill(7));
  const d = detectAnomalies(s, {}, only);
  assert.deepEqual(spans(s, d), [[0, 99]]);
  assert.equal(d[0].tsDetected, s.ts[29]);
});

test("flatline: a pump's long rests at 0 do not excuse its flow freezing at another value", () => {
  // Running flow (noise around 50) with a two-hour stop at exactly 0; later the flow freezes at 51.2 for 60 readings.
  const v = clean(1000);
  for (let i = 100; i < 220; i++) v[i] = 0;
  for (let i = 600; i < 660; i++) v[i] = 51.2;
  const s = series(v);
  const d = detectAnomalies(s, {}, only);
  // The stop itself is the first long repeat (no habit yet); the frozen flow is held against running flow's habit.
  assert.deepEqual(spans(s, d), [[100, 219], [600, 659]]);
  assert.equal(d[1].tsDetected, s.ts[629]);
});
