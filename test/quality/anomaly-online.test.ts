// The live form: OnlineDetector judges each reading as it arrives and speaks only when an incident opens or grows.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnlineDetector } from '../../src/quality/anomaly/index.js';
import { clean, MINUTE_US, T0 } from './anomaly-helpers.js';

test('online: quiet on clean data, one anomaly for an outlier, again only when the incident grows', () => {
  const det = new OnlineDetector('line1/press/temp', 'line1/press');
  const v = clean(400);
  const ts = (i: number): number => T0 + i * MINUTE_US;
  for (let i = 0; i < 300; i++) assert.equal(det.push(ts(i), v[i]), null);
  const first = det.push(ts(300), 54);
  assert.ok(first);
  assert.equal(first.detector, 'zscore');
  assert.deepEqual([first.tsStart, first.tsEnd, first.sensorId, first.asset], [ts(300), ts(300), 'line1/press/temp', 'line1/press']);
  assert.match(first.reason, /^value 54 is \d+\.?\d* robust standard deviations above the median 50/);
  assert.equal(det.push(ts(301), v[301]), null);
  // A second, smaller outlier in the same incident is not news; a much bigger one is.
  assert.equal(det.push(ts(302), 53.5), null);
  const worse = det.push(ts(303), 500);
  assert.ok(worse);
  assert.ok(worse.score >= first.score + 0.1);
  assert.equal(worse.tsStart, ts(300));
  for (let i = 304; i < 400; i++) assert.equal(det.push(ts(i), v[i]), null);
  assert.equal(det.push(ts(400), Number.NaN), null);
});

test('online: a reading past the valid limits is a range anomaly at once, even before the warm-up', () => {
  const det = new OnlineDetector('line1/press/temp', null, { validMin: 0, validMax: 100 });
  assert.equal(det.push(T0, 50), null);
  const a = det.push(T0 + MINUTE_US, 120);
  assert.ok(a);
  assert.equal(a.detector, 'range');
  assert.equal(a.reason, 'value 120 above valid max 100 (sensors table)');
  assert.equal(a.score, 0.75);
});
