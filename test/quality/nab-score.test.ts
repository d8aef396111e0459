// The NAB scorer on hand-computed cases, and on the whole corpus against NAB's published figures: the null detector
// (all 116 windows missed) and NAB's random detector (Python's random.seed(42) per file), whose per-record scores we
// regenerate with the same Mersenne Twister, scored at the thresholds NAB's config/thresholds.json records.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { defaultNabDir, readNabCorpus, type NabDataFile } from '../../bench/quality/nab-corpus.js';
import { NAB_PROFILES, nabScore, optimizeThreshold, probationaryLength, scaledSigmoid, scoreFile, type NabFile } from '../../bench/quality/nab-score.js';

const FLAT = { tpWeight: 1, fpWeight: 1, fnWeight: 1 };
const S = (x: number): number => 2 / (1 + Math.exp(5 * x)) - 1;

/** n records one minute apart (ts = index, in minutes), windows as [first, last] record indexes. */
function file(n: number, windows: [number, number][], detections: number[]): NabFile & { scores: Float64Array } {
  const scores = new Float64Array(n);
  for (const i of detections) scores[i] = 1;
  return { name: 'hand', ts: Float64Array.from({ length: n }, (_, i) => i), scores, windows };
}

test('scaledSigmoid: +0.98661 at a window start, 0.84828 half way, 0 at its end, -1 far past it', () => {
  assert.equal(scaledSigmoid(-1).toFixed(5), '0.98661');
  assert.equal(scaledSigmoid(-0.5).toFixed(5), '0.84828');
  assert.equal(scaledSigmoid(0), 0);
  assert.equal(scaledSigmoid(1).toFixed(5), '-0.98661');
  assert.equal(scaledSigmoid(3.01), -1);
});

test('probationary period: 15% of the file, at most 750 records', () => {
  assert.equal(probationaryLength(1000), 150);
  assert.equal(probationaryLength(4032), 604);
  assert.equal(probationaryLength(22695), 750);
});

test('a detection on the first record of a window earns exactly tpWeight; later ones less', () => {
  const first = scoreFile(file(10, [[2, 3]], [2]), FLAT, 0.5, 0);
  assert.equal(first.score, 1);
  assert.deepEqual([first.tp, first.fp, first.tn, first.fn], [1, 0, 8, 1]);
  // Right edge of a 2-record window: position -(3 - 3 + 1) / 2 = -0.5.
  const last = scoreFile(file(10, [[2, 3]], [3]), FLAT, 0.5, 0);
  assert.ok(Math.abs(last.score - S(-0.5) / S(-1)) < 1e-12);
  assert.equal(last.score.toFixed(4), '0.8598');
  // Only the earliest detection in a window counts.
  assert.equal(scoreFile(file(10, [[2, 3]], [2, 3]), FLAT, 0.5, 0).score, 1);
});

test('a missed window costs fnWeight; false positives cost fpWeight, less just after a window', () => {
  assert.equal(scoreFile(file(10, [[2, 3]], []), FLAT, 0.5, 0).score, -1);
  // Before any window: -fpWeight each; the window is then missed too.
  assert.equal(scoreFile(file(10, [[5, 6]], [0, 1]), FLAT, 0.5, 0).score, -3);
  // Two records past a 2-record window: S(2 / (2 - 1)) = -0.99991; plus the window's TP at its start.
  const after = scoreFile(file(10, [[2, 3]], [2, 5]), FLAT, 0.5, 0);
  assert.ok(Math.abs(after.score - (1 + S(2))) < 1e-12);
  assert.equal(after.fp, 1);
  // NAB's own check: a TP at the right edge of a 100-record window and a FP just after it sum to about -1.
  const edge = scoreFile(file(1000, [[450, 549]], [549]), FLAT, 0.5, 0).score;
  const past = scoreFile(file(1000, [[450, 549]], [550]), FLAT, 0.5, 0).score;
  assert.ok(Math.abs(edge + past + 1) < 1e-3, `${edge} + ${past} + 1`);
});

test('records in the probationary period are never scored, not even as false positives', () => {
  // 100 records: the first 15 are probationary.
  const r = scoreFile(file(100, [[50, 59]], [3, 14, 50]), FLAT, 0.5);
  assert.equal(r.score, 1);
  assert.equal(r.total, 85);
  assert.equal(scoreFile(file(100, [[50, 59]], [15]), FLAT, 0.5).score, -2);
});

test('the threshold is optimised over the corpus: detections are records scoring >= it', () => {
  const a = file(100, [[50, 59]], []);
  const b = file(100, [[30, 39]], []);
  a.scores[50] = 0.9; // TP
  a.scores[80] = 0.7; // FP
  b.scores[30] = 0.6; // TP
  b.scores[20] = 0.95; // FP before any window
  const cost = NAB_PROFILES.standard;
  // Candidates: nothing (-2); 0.95 (-2.11); 0.9 (-0.11); 0.7 (-0.11 + S(21/9) * 0.11); 0.6 (2 more).
  const best = optimizeThreshold([a, b], cost);
  assert.equal(best.threshold, 0.6);
  const expected = 1 + 1 - 0.11 + S(21 / 9) * 0.11;
  assert.ok(Math.abs(best.score - expected) < 1e-12, `${best.score} vs ${expected}`);
  const r = nabScore([a, b], 'standard');
  assert.equal(r.nullRaw, -2);
  assert.equal(r.perfect, 2);
  assert.ok(Math.abs(r.normalized - (100 * (expected + 2)) / 4) < 1e-9);
});

/** CPython's random: MT19937 seeded by init_by_array([seed]), random() from two draws (53 bits). */
class PythonRandom {
  private readonly mt = new Uint32Array(624);
  private index = 624;

  constructor(seed: number) {
    const mt = this.mt;
    mt[0] = 19650218;
    for (let i = 1; i < 624; i++) mt[i] = (Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i) >>> 0;
    const key = [seed >>> 0];
    let i = 1;
    let j = 0;
    for (let k = Math.max(624, key.length); k > 0; k--) {
      mt[i] = ((mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= 624) {
        mt[0] = mt[623];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = 623; k > 0; k--) {
      mt[i] = ((mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1566083941)) - i) >>> 0;
      i++;
      if (i >= 624) {
        mt[0] = mt[623];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  private next(): number {
    const mt = this.mt;
    if (this.index >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  random(): number {
    return ((this.next() >>> 5) * 67108864 + (this.next() >>> 6)) / 9007199254740992;
  }
}

test('PythonRandom matches CPython: random.seed(42); random.random() x 3', () => {
  const r = new PythonRandom(42);
  assert.deepEqual([r.random(), r.random(), r.random()], [0.6394267984578837, 0.025010755222666936, 0.27502931836911926]);
});

let corpus: NabDataFile[] | null = null;
async function nab(): Promise<NabDataFile[]> {
  return (corpus ??= await readNabCorpus());
}

test('NAB corpus: the null detector misses all 116 windows and normalises to 0', async () => {
  const files = (await nab()).map((f) => ({ name: f.name, ts: f.ts, windows: f.windows, scores: new Float64Array(f.ts.length).fill(0.5) }));
  assert.equal(files.length, 58);
  const r = nabScore(files, 'standard');
  assert.equal(r.raw, -116); // NAB's config/thresholds.json: null, standard, score -116.0
  assert.equal(r.perfect, 116);
  assert.equal(r.normalized, 0);
});

test("NAB corpus: the random detector reproduces NAB's published scores at NAB's own thresholds", async () => {
  const published = JSON.parse(await readFile(path.join(defaultNabDir(), 'results', 'final_results.json'), 'utf8')) as Record<string, Record<string, number>>;
  // Each file is detected with a fresh random.seed(42) (RandomDetector.initialize), one uniform(0, 1) per record.
  const files: NabFile[] = (await nab()).map((f) => {
    const rng = new PythonRandom(42);
    return { name: f.name, ts: f.ts, windows: f.windows, scores: Float64Array.from(f.ts, () => rng.random()) };
  });
  // The thresholds NAB's optimiser found for "random" (config/thresholds.json in numenta/NAB).
  const thresholds = { standard: 0.9984497070312507, reward_low_FP_rate: 0.9995117187500009, reward_low_FN_rate: 0.9984497070312507 } as const;
  for (const profile of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const) {
    const cost = NAB_PROFILES[profile];
    const raw = files.reduce((s, f) => s + scoreFile(f, cost, thresholds[profile]).score, 0);
    const nullRaw = -116 * cost.fnWeight;
    const normalized = (100 * (raw - nullRaw)) / (116 * cost.tpWeight - nullRaw);
    assert.ok(Math.abs(normalized - published.random[profile]) < 1e-6, `${profile}: ${normalized} vs published ${published.random[profile]}`);
    // Our sweep tries every distinct score, so its optimum is never below the threshold NAB's optimiser settled on.
    assert.ok(nabScore(files, profile).normalized >= normalized - 1e-9);
  }
});
