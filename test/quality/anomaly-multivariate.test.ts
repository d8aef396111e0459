// The multivariate detector: two sensors of one asset that move together; readings normal for each sensor but
// not for the pair are an asset-level anomaly (sensorId null).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectAssetAnomalies } from '../../src/quality/anomaly/index.js';
import { noise, series, spans } from './anomaly-helpers.js';

function pair(broken: boolean): [ReturnType<typeof series>, ReturnType<typeof series>] {
  const e1 = noise(1000, 11);
  const e2 = noise(1000, 12);
  const a = Float64Array.from(e1, (e, i) => 50 + 10 * Math.sin(i / 50) + e);
  const b = Float64Array.from(e2, (e, i) => 2 * a[i] + e);
  if (broken) for (let i = 700; i < 710; i++) b[i] = 200 - 2 * a[i]; // within b's range, off the relation
  return [series(a, { sensorId: 'line1/pump/flow' }), series(b, { sensorId: 'line1/pump/current' })];
}

test('multivariate: a broken relation between two in-range sensors is one asset-level interval', () => {
  const [a, b] = pair(true);
  const d = detectAssetAnomalies([a, b]);
  assert.deepEqual(spans(a, d), [[700, 709]]);
  assert.equal(d[0].sensorId, null);
  assert.equal(d[0].asset, 'line1/press');
  assert.equal(d[0].detector, 'multivariate');
  assert.match(d[0].reason, /^the 2 sensors of line1\/press together are \d+\.?\d* Mahalanobis units from their joint normal \(limit \d+\.?\d*\); most unusual: line1\/pump\/(flow|current) /);
  // Each sensor on its own stays inside the range it always had.
  for (const s of [a, b]) {
    const lo = Math.min(...s.values.slice(0, 700));
    const hi = Math.max(...s.values.slice(0, 700));
    assert.ok(s.values.slice(700, 710).every((x) => x >= lo && x <= hi));
  }
});

test('multivariate: the intact relation flags nothing; one sensor is not an asset', () => {
  const [a, b] = pair(false);
  assert.deepEqual(detectAssetAnomalies([a, b]), []);
  assert.deepEqual(detectAssetAnomalies([a]), []);
});
