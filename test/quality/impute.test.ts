// Each imputer on a small synthetic series with a known answer, the gap limit, and auto's choice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Series } from '../../src/quality/contract.js';
import { fillTimes, imputeSeries, observedOf, IMPUTERS } from '../../src/quality/impute.js';
import { fitArNoise } from '../../src/quality/impute-smoother.js';
import { bucketOf, maskStratified, MIN_BLOCKS } from '../../src/quality/impute-auto.js';
import { Rng } from '../../src/sim/random.js';

const S = 1e6;
const DAY = 86_400;

/** A series sampled every `step` seconds from `f`, with the readings at the given indexes left out. */
function make(id: string, n: number, step: number, f: (t: number) => number, drop: Set<number> = new Set(), t0 = 0): Series {
  const ts: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < n; i++) {
    if (drop.has(i)) continue;
    ts.push((t0 + i * step) * S);
    vs.push(f(t0 + i * step));
  }
  return { sensorId: id, asset: 'a', ts: Float64Array.from(ts), values: Float64Array.from(vs), quality: new Int32Array(ts.length) };
}

const range = (a: number, b: number): Set<number> => new Set(Array.from({ length: b - a }, (_, i) => a + i));

function close(actual: ArrayLike<number>, expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

test('linear fills the straight line between the readings either side', () => {
  const s = make('s', 10, 60, (t) => t / 60, range(3, 7)); // values 0,1,2,_,_,_,_,7,8,9
  const r = imputeSeries(s, { intervalUs: 60 * S, method: 'linear' });
  assert.equal(r.fills.length, 1);
  assert.deepEqual(Array.from(r.fills[0].ts), [180, 240, 300, 360].map((t) => t * S));
  close(r.fills[0].values, [3, 4, 5, 6], 1e-12, 'linear');
  assert.equal(r.fills[0].method, 'linear');
});

test('locf carries the last reading forward', () => {
  const s = make('s', 8, 10, (t) => (t < 30 ? 5 : 9), range(3, 6));
  const r = imputeSeries(s, { intervalUs: 10 * S, method: 'locf' });
  close(r.fills[0].values, [5, 5, 5], 0, 'locf');
});

test('a gap longer than the method allows stays unfilled', () => {
  const s = make('s', 100, 1, (t) => t, new Set([...range(10, 13), ...range(40, 80)]));
  const r = imputeSeries(s, { intervalUs: S, method: 'linear', maxGap: { linear: 10 } });
  assert.deepEqual(r.fills.map((f) => [f.gap.start / S, f.gap.end / S]), [[9, 13]]);
  assert.deepEqual(r.unfilled.map((g) => [g.start / S, g.end / S, g.missing]), [[39, 80, 40]]);
  const bySeconds = imputeSeries(s, { intervalUs: S, method: 'linear', maxGap: { linear: { seconds: 40 } } });
  assert.equal(bySeconds.fills.length, 2, 'a 40 s limit admits the 40-reading gap at 1 s');
});

test('bad-quality readings are neither filled over nor learned from', () => {
  const s = make('s', 10, 1, (t) => t, range(4, 6));
  s.values[3] = 1000; // ts 3, bad quality
  s.quality[3] = 0x80000000 | 0;
  const r = imputeSeries(s, { intervalUs: S, method: 'linear' });
  // The gap (3, 6) is filled from the good readings at 2 and 6: 4 and 5 on the line, not toward 1000.
  close(r.fills[0].values, [4, 5], 1e-12, 'linear past a bad reading');
  assert.equal(observedOf(s).ts.length, 7);
});

test('seasonal-daily restores a repeating daily pattern exactly', () => {
  // Three days at 5 minutes of a piecewise-constant daily pattern (one level per hour), two hours missing on day 3.
  const pattern = (t: number): number => 10 + Math.floor((t % DAY) / 3600);
  const n = 3 * 288;
  const drop = range(2 * 288 + 100, 2 * 288 + 124);
  const s = make('s', n, 300, pattern, drop);
  const r = imputeSeries(s, { intervalUs: 300 * S, method: 'seasonal-daily' });
  assert.equal(r.fills.length, 1);
  const expected = Array.from(r.fills[0].ts, (t) => pattern(t / S));
  close(r.fills[0].values, expected, 1e-9, 'seasonal-daily');
  // Linear cannot know the steps inside the gap.
  const lin = imputeSeries(s, { intervalUs: 300 * S, method: 'linear' });
  assert.ok(lin.fills[0].values.some((v, i) => Math.abs(v - expected[i]) > 0.5));
});

test('seasonal-weekly needs two weeks; with them it restores a weekday/weekend pattern', () => {
  const pattern = (t: number): number => (Math.floor(t / DAY) % 7 < 5 ? 50 : 20) + Math.floor((t % DAY) / 21_600);
  const short = make('s', 7 * 96, 900, pattern);
  assert.equal(IMPUTERS['seasonal-weekly'](observedOf(short), { intervalUs: 900 * S, neighbours: [] }), null);
  const n = 14 * 96;
  const drop = range(13 * 96 + 10, 13 * 96 + 40); // a weekend day of week 2
  const s = make('s', n, 900, pattern, drop);
  const r = imputeSeries(s, { intervalUs: 900 * S, method: 'seasonal-weekly' });
  close(r.fills[0].values, Array.from(r.fills[0].ts, (t) => pattern(t / S)), 1e-4, 'seasonal-weekly');
});

test('ridge learns the target from a lagged neighbour of the same asset', () => {
  // target(t) = 3 * neighbour(t - 3 s) + 2 exactly; the neighbour is a random walk.
  const rng = new Rng(5);
  const walk: number[] = [0];
  for (let i = 1; i < 2000; i++) walk.push(walk[i - 1] + rng.range(-1, 1));
  const nb = (t: number): number => walk[Math.max(0, Math.min(1999, Math.round(t)))];
  const neighbour = make('n', 2000, 1, nb);
  const target = make('t', 2000, 1, (t) => 3 * nb(t - 3) + 2, range(1000, 1030));
  const r = imputeSeries(target, {
    intervalUs: S,
    method: 'ridge',
    neighbours: [{ sensorId: 'n', intervalUs: S, ...observedOf(neighbour) }],
  });
  assert.equal(r.fills[0].method, 'ridge');
  close(r.fills[0].values, Array.from(r.fills[0].ts, (t) => 3 * nb(t / S - 3) + 2), 0.01, 'ridge');
  assert.equal(IMPUTERS.ridge(observedOf(target), { intervalUs: S, neighbours: [] }), null, 'no neighbours: not applicable');
});

test('smooth: a constant with noise is filled with its level, not a line between two noisy ends', () => {
  const rng = new Rng(3);
  const noise = Array.from({ length: 3000 }, () => rng.range(-1, 1));
  const s = make('s', 3000, 1, (t) => 10 + noise[t], range(1500, 1540));
  const m = fitArNoise(observedOf(s).ts, observedOf(s).values.map((v) => v - 10), S);
  // White noise: the signal part barely moves from one reading to the next (its innovation is tiny next to the noise).
  assert.ok(m.s2 * (1 - m.phi ** 2) < 0.01 * m.r, `innovation ${m.s2 * (1 - m.phi ** 2)} vs noise ${m.r}`);
  const r = imputeSeries(s, { intervalUs: S, method: 'smooth' });
  for (const v of r.fills[0].values) assert.ok(Math.abs(v - 10) < 0.3, `fill ${v} near the level 10`);
  const lin = imputeSeries(s, { intervalUs: S, method: 'linear' }).fills[0].values;
  const rmse = (xs: Float64Array): number => Math.sqrt(xs.reduce((a, v, i) => a + (v - (10 + noise[1500 + i])) ** 2, 0) / xs.length);
  assert.ok(rmse(r.fills[0].values) < rmse(lin), `smooth ${rmse(r.fills[0].values)} beats linear ${rmse(lin)} on the hidden values`);
});

test('auto picks the seasonal profile for long gaps in a daily pattern and says so per gap', () => {
  const pattern = (t: number): number => 100 * Math.sin((2 * Math.PI * t) / DAY) + 5 * Math.sin((2 * Math.PI * t) / 7200);
  const drop = range(3 * 288 + 50, 3 * 288 + 90);
  const s = make('s', 4 * 288, 300, pattern, drop);
  const r = imputeSeries(s, { intervalUs: 300 * S, seed: 2 });
  assert.ok(r.choice);
  assert.equal(r.choice.buckets[2].ranking[0], 'seasonal-daily', JSON.stringify(r.choice.buckets[2]));
  assert.equal(r.fills[0].method, 'seasonal-daily');
  const err = Math.max(...Array.from(r.fills[0].values, (v, i) => Math.abs(v - pattern(r.fills[0].ts[i] / S))));
  assert.ok(err < 1, `max error ${err}`);
});

test('fill times are evenly spaced strictly between the gap bounds', () => {
  assert.deepEqual(Array.from(fillTimes({ sensorId: 's', start: 0, end: 40, missing: 3, intervalUs: 10 })), [10, 20, 30]);
  assert.deepEqual(Array.from(fillTimes({ sensorId: 's', start: 0, end: 9, missing: 2, intervalUs: 3 })), [3, 6]);
});

test('the self-mask spreads its blocks over the gap-length buckets however small the share', () => {
  const blocks = maskStratified(4000, new Rng(3), 0.05);
  const perBucket = [0, 0, 0];
  for (const b of blocks) perBucket[bucketOf(b.to - b.from)]++;
  // 200 readings hidden: about 4 rounds of (1-3, 4-15, 16-50); a uniform 1-50 draw would give ~0.5 short blocks.
  for (const [i, c] of perBucket.entries()) assert.ok(c >= 3, `bucket ${i}: ${c} blocks`);
  for (let i = 1; i < blocks.length; i++) assert.ok(blocks[i].from > blocks[i - 1].to, 'blocks do not touch');
});

test('auto fills short gaps in white noise with the level, not the line between two noisy neighbours', () => {
  // Before the self-mask was stratified, a 4000-reading series gave the 1-3 bucket zero to two blocks and the
  // ranking fell back to the candidates' order: linear first.
  const rng = new Rng(9);
  const noise = Array.from({ length: 4000 }, () => rng.range(8, 19));
  const s = make('s', 4000, 300, (t) => noise[t / 300], new Set([1000, 2000, 2001]));
  const r = imputeSeries(s, { intervalUs: 300 * S, seed: 4 });
  assert.ok(r.choice);
  const short = r.choice.buckets[0];
  assert.ok(short.blocks >= MIN_BLOCKS, `${short.blocks} short blocks`);
  assert.ok(['smooth', 'trend'].includes(short.ranking[0]), JSON.stringify(short));
  assert.ok(short.rmse.linear! > 1.1 * short.rmse[short.ranking[0]]!, JSON.stringify(short.rmse));
  for (const f of r.fills) for (const v of f.values) assert.ok(Math.abs(v - 13.5) < 0.5, `fill ${v} near the level 13.5`);
});

test('auto breaks a tie between exact methods by the ranking over all gap lengths', () => {
  // A square wave with a daily cycle: on short blocks away from an edge linear is exact too; seasonal-daily is exact
  // on every block, so it must not lose a tie to linear on the candidates' order.
  const pattern = (t: number): number => ((t % DAY) < DAY / 2 ? 10 : 30);
  const s = make('s', 8 * 288, 300, pattern, range(5 * 288 + 142, 5 * 288 + 145));
  const r = imputeSeries(s, { intervalUs: 300 * S, seed: 1 });
  assert.ok(r.choice);
  for (const b of r.choice.buckets) assert.equal(b.ranking[0], 'seasonal-daily', JSON.stringify(b));
  close(r.fills[0].values, Array.from(r.fills[0].ts, (t) => pattern(t / S)), 1e-9, 'fill across the edge at noon');
});
