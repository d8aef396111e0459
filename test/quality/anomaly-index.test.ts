// detectAnomalies as a whole: options checked up front, findings of all detectors merged and sorted, one alert per
// incident across detectors, and causality: what was alerted up to a reading never depends on later readings.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../src/errors.js';
import { ANOMALY_DETECTORS, detectAnomalies } from '../../src/quality/anomaly/index.js';
import { clean, noise, series, spans } from './anomaly-helpers.js';

test('options: unknown names and impossible values fail before any detector runs', () => {
  const s = series(clean(10));
  assert.throws(() => detectAnomalies(s, {}, { detectors: ['zscore', 'magic' as never] }), InvalidArgumentError);
  assert.throws(() => detectAnomalies(s, {}, { window: 0 }), /window 0: expected a positive number/);
  assert.throws(() => detectAnomalies(s, {}, { minScore: 2 }), /minScore 2: expected a number in \[0, 1\]/);
  assert.throws(() => detectAnomalies(s, {}, { zThresold: 3 } as never), /anomaly option 'zThresold' is unknown/);
});

test('all detectors: clean data flags nothing', () => {
  assert.deepEqual(ANOMALY_DETECTORS, ['range', 'flatline', 'spike', 'zscore', 'shift', 'seasonal']);
  assert.deepEqual(detectAnomalies(series(clean(5000)), { validMin: 0, validMax: 100 }), []);
});

test('all detectors: findings merged and sorted by start; one alert for an event several detectors see', () => {
  const v = clean(1000);
  for (let i = 600; i < 660; i++) v[i] = v[599]; // stuck: 599..659
  v[300] = 140; // outlier past valid max: range, zscore and spike all see it
  const s = series(v);
  const d = detectAnomalies(s, { validMin: 0, validMax: 100 });
  assert.deepEqual(
    d.map((x) => [x.detector, ...spans(s, [x])[0]]),
    [
      ['range', 300, 300],
      ['spike', 300, 300],
      ['zscore', 300, 300],
      ['flatline', 599, 659],
    ],
  );
  // The outlier is one incident: range and zscore alert at reading 300 (the stronger first), the spike a reading
  // later only if it beats the incident by the escalation step.
  const alerts = d.filter((x) => x.tsStart === s.ts[300]).flatMap((x) => x.alerts);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0].ts, s.ts[300]);
});

test('causal: cutting the series after reading k changes no alert at or before k', () => {
  const base = noise(900, 9).map((e, i) => 50 + 5 * Math.sin(i / 40) + e);
  fc.assert(
    fc.property(
      fc.array(fc.record({ at: fc.integer({ min: 100, max: 899 }), by: fc.double({ min: -40, max: 40, noNaN: true }) }), { maxLength: 6 }),
      fc.integer({ min: 150, max: 880 }),
      (faults, k) => {
        const v = Float64Array.from(base);
        for (const f of faults) v[f.at] += f.by;
        const all = series(v);
        const cut = series(v.slice(0, k + 1));
        const upTo = (ds: ReturnType<typeof detectAnomalies>): string[] =>
          ds
            .flatMap((x) => x.alerts.map((a) => `${x.detector}@${a.ts}:${a.score}`))
            .filter((a) => Number(a.split('@')[1].split(':')[0]) <= all.ts[k])
            .sort();
        const ctx = { validMin: 0, validMax: 100, intervalUs: 60e6 };
        assert.deepEqual(upTo(detectAnomalies(cut, ctx)), upTo(detectAnomalies(all, ctx)));
      },
    ),
    { numRuns: 25 },
  );
});
