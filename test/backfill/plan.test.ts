// Windows and time bounds: absolute window indexes, window specs that must tile days, --from/--to parsing, and the
// range predicate a window commit uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimeBound, parseWindow, windowIndex, windowRange, isoMicros } from '../../src/backfill/plan.js';
import { rangePredicate, sensorPredicate } from '../../src/backfill/lake.js';
import { InvalidArgumentError } from '../../src/errors.js';

const JAN1 = Date.UTC(2024, 0, 1) * 1000;

test('window specs: units, and sizes that tile a day or are whole days', () => {
  assert.equal(parseWindow('1h'), 3600e6);
  assert.equal(parseWindow('6h'), 6 * 3600e6);
  assert.equal(parseWindow('1d'), 86_400e6);
  assert.equal(parseWindow('7d'), 7 * 86_400e6);
  assert.equal(parseWindow('15m'), 900e6);
  for (const bad of ['', '0h', '5h', '1.5d', 'day', '-1d', '25h']) assert.throws(() => parseWindow(bad), InvalidArgumentError, bad);
});

test('window index is absolute: floor(ts / window), identical whatever else is in the input', () => {
  const day = parseWindow('1d');
  assert.equal(windowIndex(JAN1, day), 19723);
  assert.equal(windowIndex(JAN1 - 1, day), 19722);
  assert.deepEqual(windowRange(19723, day), { index: 19723, startUs: JAN1, endUs: JAN1 + day });
  assert.equal(windowIndex(-1, day), -1);
});

test('from/to bounds: dates are midnight UTC, date-times without offset are UTC, fractions kept to the µs', () => {
  assert.equal(parseTimeBound('2024-01-01', 'from'), JAN1);
  assert.equal(parseTimeBound('2024-01-01T06:00:00', 'from'), JAN1 + 6 * 3600e6);
  assert.equal(parseTimeBound('2024-01-01T06:00:00+02:00', 'from'), JAN1 + 4 * 3600e6);
  assert.equal(parseTimeBound('2024-01-01T00:00:00.000123Z', 'from'), JAN1 + 123);
  assert.equal(parseTimeBound(undefined, 'from'), undefined);
  assert.throws(() => parseTimeBound('yesterday', 'from'), InvalidArgumentError);
  assert.equal(isoMicros(JAN1 + 123), '2024-01-01T00:00:00.000123Z');
});

test('range predicates name the partitions, the ts range and optionally sensors', () => {
  assert.equal(
    rangePredicate(JAN1, JAN1 + 3600e6, 'date'),
    "date = DATE '2024-01-01' AND ts >= TIMESTAMP '2024-01-01T00:00:00.000Z' AND ts < TIMESTAMP '2024-01-01T01:00:00.000Z'",
  );
  assert.match(rangePredicate(JAN1, JAN1 + 2 * 86_400e6, 'date'), /^date >= DATE '2024-01-01' AND date <= DATE '2024-01-02' AND/);
  assert.match(rangePredicate(JAN1, JAN1 + 86_400e6, 'month'), /^month = '2024-01' AND/);
  assert.equal(sensorPredicate({ range: ['a', "b'c"], ids: ['x'] }), "sensor_id >= 'a' AND sensor_id <= 'b\\'c' AND sensor_id IN ('x')");
});
