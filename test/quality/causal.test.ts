// Cause and lead on synthetic assets with known couplings: the lag is recovered exactly, a common-driver proxy is not
// reported as a cause, unrelated sensors stay out; and the F distribution behind the p-values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Series } from '../../src/quality/contract.js';
import { leadLag } from '../../src/quality/causal.js';
import { fSurvival, normalTwoSided } from '../../src/quality/stats.js';
import { Rng } from '../../src/sim/random.js';

const S = 1e6;
const N = 6000;

function gauss(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

function series(id: string, step: number, values: (i: number) => number): Series {
  const n = Math.floor(N / step);
  const ts = Float64Array.from({ length: n }, (_, k) => k * step * S);
  return { sensorId: id, asset: 'a', ts, values: Float64Array.from({ length: n }, (_, k) => values(k * step)), quality: new Int32Array(n) };
}

/** A driver (random walk), its direct effect 7 s later, a noisy proxy of the driver, and an unrelated walk. */
function plant(seed: number): { series: Series[]; intervals: Map<string, number> } {
  const rng = new Rng(seed);
  const drive: number[] = [0];
  const other: number[] = [0];
  for (let i = 1; i < N; i++) {
    drive.push(drive[i - 1] + gauss(rng));
    other.push(other[i - 1] + gauss(rng));
  }
  const noise = (sd: number): number[] => Array.from({ length: N }, () => sd * gauss(rng));
  const nCause = noise(0.3);
  const nProxy = noise(1.5);
  const nEffect = noise(0.3);
  const nOther = noise(0.3);
  const s = [
    series('cause', 1, (i) => drive[i] + nCause[i]),
    series('proxy', 1, (i) => 2 * drive[i] + nProxy[i]),
    // The effect is read every 5 s, like a slow temperature sensor.
    series('effect', 5, (i) => 0.5 * drive[Math.max(0, i - 7)] + nEffect[i]),
    series('other', 1, (i) => other[i] + nOther[i]),
  ];
  return { series: s, intervals: new Map([['cause', S], ['proxy', S], ['effect', 5 * S], ['other', S]]) };
}

test('the direct cause is found at its exact lag; the proxy and the unrelated sensor are not', () => {
  const { series: s, intervals } = plant(11);
  const r = leadLag(s, intervals);
  assert.deepEqual(
    r.pairs.map((p) => [p.leader, p.follower, p.lagS]),
    [['cause', 'effect', 7]],
  );
  const p = r.pairs[0];
  assert.ok(p.strength > 0.8, `strength ${p.strength}`);
  assert.ok(p.pValue < 1e-10, `p ${p.pValue}`);
  assert.equal(r.asset, 'a');
  // The proxy leads the effect too (by the same 7 s) but adds too little once the cause is known.
  const proxy = r.correlations.find((c) => c.leader === 'proxy' && c.follower === 'effect')!;
  assert.equal(proxy.lagUs, 7 * S);
  assert.ok(Math.abs(proxy.r) > 0.3);
  // Cause and proxy move together at lag 0: neither leads the other.
  const together = r.correlations.find((c) => c.leader === 'cause' && c.follower === 'proxy')!;
  assert.ok(Math.abs(together.r0) > Math.abs(together.r), JSON.stringify(together));
});

test('a negative relation and a longer lag are found as well', () => {
  const rng = new Rng(4);
  const drive: number[] = [0];
  for (let i = 1; i < N; i++) drive.push(drive[i - 1] + gauss(rng));
  const s = [series('x', 1, (i) => drive[i] + 0.2 * gauss(rng)), series('y', 1, (i) => -3 * drive[Math.max(0, i - 42)] + 0.2 * gauss(rng))];
  const r = leadLag(s, new Map([['x', S], ['y', S]]));
  assert.deepEqual(r.pairs.map((p) => [p.leader, p.follower, p.lagS]), [['x', 'y', 42]]);
  assert.ok(r.pairs[0].correlation < -0.8);
});

test('F and normal tail probabilities match tabulated critical values', () => {
  assert.ok(Math.abs(fSurvival(4.1028, 2, 10) - 0.05) < 1e-4);
  assert.ok(Math.abs(fSurvival(4.9382, 3, 20) - 0.01) < 1e-4);
  assert.ok(Math.abs(fSurvival(3.8415, 1, 1e7) - 0.05) < 1e-4, 'F(1, inf) is chi-square(1)');
  assert.equal(fSurvival(0, 3, 20), 1);
  assert.ok(Math.abs(normalTwoSided(1.959964) - 0.05) < 1e-6);
});
