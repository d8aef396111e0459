// The Numenta Anomaly Benchmark's scoring, as NAB v1.1 defines it (nab/sweeper.py, nab/optimizer.py and
// Runner.normalize in numenta/NAB), reimplemented: per-record sweep scores from label windows, one threshold optimised
// over the whole corpus, per-file scores at that threshold, and 100 * (raw - null) / (perfect - null).

import { InvalidArgumentError } from '../../src/errors.js';

export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

/** NAB's config/profiles.json. */
export const NAB_PROFILES = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FP_rate: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  reward_low_FN_rate: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
} as const satisfies Record<string, CostMatrix>;
export type NabProfile = keyof typeof NAB_PROFILES;

/** One data file of the corpus with a detector's output. */
export interface NabFile {
  name: string;
  /** Record timestamps in file order, in any unit shared with `windows` (NAB files repeat a few). */
  ts: ArrayLike<number>;
  /** The detector's anomaly score per record, in [0, 1]. */
  scores: ArrayLike<number>;
  /** Label windows as inclusive [start, end] timestamps; each bound must be a record's timestamp. */
  windows: readonly (readonly [number, number])[];
}

/** NAB's threshold row: the score when every record with anomaly score >= threshold is a detection. */
export interface ThresholdScore {
  threshold: number;
  score: number;
  tp: number;
  tn: number;
  fp: number;
  fn: number;
  total: number;
}

/** Records at the start of a file that are never scored: 15% of the file, at most 750 (0.15 * 5000). */
export function probationaryLength(rows: number, fraction = 0.15): number {
  return Math.min(Math.floor(fraction * rows), fraction * 5000);
}

/** 2 * sigmoid(-5x) - 1: +0.987 at the left edge of a window (x = -1), 0 at its right edge, -1 far past it. */
export function scaledSigmoid(x: number): number {
  if (x > 3) return -1;
  return 2 / (1 + Math.exp(5 * x)) - 1;
}

/** A record as the sweep sees it: its anomaly score, what detecting it is worth, and its window. */
export interface SweepPoints {
  scores: Float64Array;
  sweep: Float64Array;
  /** Index into the corpus' window list; -1 outside every window; -2 in the probationary period (never scored). */
  window: Int32Array;
}

const OUTSIDE = -1;
const PROBATION = -2;

/**
 * NAB's calcSweepScore: inside a window a detection is worth tpWeight * S(-(right - i + 1) / width) / S(-1), so the
 * first record earns exactly tpWeight; outside, fpWeight * S(distance past the previous window / (width - 1)), or
 * -fpWeight before any window. Window ids continue from `firstWindow` so files can be swept as one corpus.
 */
export function sweepFile(file: NabFile, cost: CostMatrix, firstWindow = 0, fraction = 0.15): SweepPoints {
  const n = file.ts.length;
  if (file.scores.length !== n) throw new InvalidArgumentError(`NAB file ${file.name}: ${n} timestamps but ${file.scores.length} scores`);
  const indexOf = new Map<number, number>();
  // Like NAB's timestamps.index(): a repeated timestamp (a DST fall-back hour in naive local time) means its first record.
  for (let i = 0; i < n; i++) if (!indexOf.has(file.ts[i])) indexOf.set(file.ts[i], i);
  const bounds = file.windows.map(([a, b], k) => {
    const lo = indexOf.get(a);
    const hi = indexOf.get(b);
    if (lo === undefined || hi === undefined || hi < lo) {
      throw new InvalidArgumentError(`NAB file ${file.name}: window ${k} [${a}, ${b}] does not start and end on record timestamps`);
    }
    return [lo, hi] as const;
  });
  const maxTp = scaledSigmoid(-1);
  const probation = probationaryLength(n, fraction);
  const out: SweepPoints = { scores: new Float64Array(n), sweep: new Float64Array(n), window: new Int32Array(n) };
  let next = 0;
  let cur = -1;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    const s = file.scores[i];
    if (!(s >= 0 && s <= 1)) throw new InvalidArgumentError(`NAB file ${file.name}: anomaly score ${s} at record ${i} is not in [0, 1]`);
    if (cur < 0 && next < bounds.length && bounds[next][0] === i) cur = next++;
    let sweep: number;
    if (cur >= 0) {
      const [lo, hi] = bounds[cur];
      sweep = (scaledSigmoid(-(hi - i + 1) / (hi - lo + 1)) * cost.tpWeight) / maxTp;
    } else if (prevRight < 0) sweep = -cost.fpWeight;
    else sweep = scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1)) * cost.fpWeight;
    out.scores[i] = s;
    out.sweep[i] = sweep;
    out.window[i] = i < probation ? PROBATION : cur >= 0 ? firstWindow + cur : OUTSIDE;
    if (cur >= 0 && bounds[cur][1] === i) {
      prevRight = i;
      prevWidth = bounds[cur][1] - bounds[cur][0] + 1;
      cur = -1;
    }
  }
  return out;
}

/**
 * NAB's calcScoreByThreshold: walking the scored records from the highest anomaly score down, the score at each
 * distinct threshold. A window counts -fnWeight until detected, then its best detection's sweep score; every detection
 * outside windows adds its own (negative) sweep score. The first row (threshold 1.1) is "nothing detected".
 */
export function scoresByThreshold(points: SweepPoints[], cost: CostMatrix): ThresholdScore[] {
  let size = 0;
  for (const p of points) for (const w of p.window) if (w !== PROBATION) size++;
  const score = new Float64Array(size);
  const sweep = new Float64Array(size);
  const win = new Int32Array(size);
  let k = 0;
  for (const p of points) {
    for (let i = 0; i < p.window.length; i++) {
      if (p.window[i] === PROBATION) continue;
      score[k] = p.scores[i];
      sweep[k] = p.sweep[i];
      win[k++] = p.window[i];
    }
  }
  const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => score[b] - score[a]);
  const best = new Map<number, number>();
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < size; i++) {
    if (win[i] === OUTSIDE) tn++;
    else {
      fn++;
      best.set(win[i], -cost.fnWeight);
    }
  }
  let windowsPart = -cost.fnWeight * best.size;
  let fpPart = 0;
  let tp = 0;
  let fp = 0;
  const rows: ThresholdScore[] = [];
  let threshold = 1.1;
  const row = (): ThresholdScore => ({ threshold, score: windowsPart + fpPart, tp, tn, fp, fn, total: tp + tn + fp + fn });
  for (const i of order) {
    if (score[i] !== threshold) {
      rows.push(row());
      threshold = score[i];
    }
    if (win[i] === OUTSIDE) {
      fp++;
      tn--;
      fpPart += sweep[i];
    } else {
      tp++;
      fn--;
      const was = best.get(win[i]) as number;
      if (sweep[i] > was) {
        best.set(win[i], sweep[i]);
        windowsPart += sweep[i] - was;
      }
    }
  }
  rows.push(row());
  return rows;
}

/** Sweeps every file as one corpus, window ids kept distinct across files. */
export function sweepCorpus(files: readonly NabFile[], cost: CostMatrix, fraction = 0.15): SweepPoints[] {
  let first = 0;
  return files.map((f) => {
    const p = sweepFile(f, cost, first, fraction);
    first += f.windows.length;
    return p;
  });
}

/** The threshold with the best corpus score; on a tie the higher threshold (NAB sorts stably, highest first). */
export function optimizeThreshold(files: readonly NabFile[], cost: CostMatrix, fraction = 0.15): ThresholdScore {
  const rows = scoresByThreshold(sweepCorpus(files, cost, fraction), cost);
  let best = rows[0];
  for (const r of rows) if (r.score > best.score) best = r;
  return best;
}

/** NAB's scoreDataSet: one file's row at a corpus threshold (detections: anomaly score >= threshold). */
export function scoreFile(file: NabFile, cost: CostMatrix, threshold: number, fraction = 0.15): ThresholdScore {
  const rows = scoresByThreshold([sweepFile(file, cost, 0, fraction)], cost);
  let prev = rows[0];
  for (const r of rows) {
    if (r.threshold === threshold) return r;
    if (r.threshold < threshold) return prev;
    prev = r;
  }
  // Below every score of this file: everything is a detection (NAB itself would fail here).
  return rows[rows.length - 1];
}

export interface NabFileResult extends ThresholdScore {
  name: string;
}

export interface NabResult {
  profile: NabProfile;
  threshold: number;
  /** Sum of the per-file scores at the corpus threshold. */
  raw: number;
  /** The null detector's raw score (a constant 0.5 for every record, its threshold optimised the same way). */
  nullRaw: number;
  /** Every window detected at its first record: the number of windows times tpWeight. */
  perfect: number;
  /** 100 * (raw - nullRaw) / (perfect - nullRaw). */
  normalized: number;
  files: NabFileResult[];
}

/** Optimises the threshold over the corpus and scores each file at it. */
export function scoreCorpus(files: readonly NabFile[], cost: CostMatrix, fraction = 0.15): { threshold: number; raw: number; files: NabFileResult[] } {
  const { threshold } = optimizeThreshold(files, cost, fraction);
  const per = files.map((f) => ({ name: f.name, ...scoreFile(f, cost, threshold, fraction) }));
  return { threshold, raw: per.reduce((s, r) => s + r.score, 0), files: per };
}

/** The NAB score of a detector on a corpus under one profile, normalised against the null detector as NAB does. */
export function nabScore(files: readonly NabFile[], profile: NabProfile = 'standard', fraction = 0.15): NabResult {
  const cost = NAB_PROFILES[profile];
  const mine = scoreCorpus(files, cost, fraction);
  const nulls = files.map((f) => ({ ...f, scores: new Float64Array(f.ts.length).fill(0.5) }));
  const nullRaw = scoreCorpus(nulls, cost, fraction).raw;
  const perfect = files.reduce((s, f) => s + f.windows.length, 0) * cost.tpWeight;
  return { profile, threshold: mine.threshold, raw: mine.raw, nullRaw, perfect, normalized: (100 * (mine.raw - nullRaw)) / (perfect - nullRaw), files: mine.files };
}
