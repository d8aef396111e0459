// Small numeric helpers the quality modules share: robust location and scale, quantiles, least squares with a ridge
// penalty, and the F and normal distributions' tail probabilities for the causal tests. Pure.

/** Finite values of `xs`, sorted ascending. */
export function sortedFinite(xs: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) n++;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) out[k++] = xs[i];
  return out.sort();
}

/** Quantile q in [0, 1] of sorted values, linearly interpolated; NaN when there are none. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = Math.min(Math.max(q, 0), 1) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function median(xs: ArrayLike<number>): number {
  return quantileSorted(sortedFinite(xs), 0.5);
}

/** Median absolute deviation scaled to estimate a normal standard deviation (1.4826 * MAD). */
export function robustScale(xs: ArrayLike<number>, center = median(xs)): number {
  const dev = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) dev[i] = Math.abs(xs[i] - center);
  return 1.4826 * median(dev);
}

/** Fraction of sorted values strictly below v plus half of those equal: the mid-rank percentile in [0, 1]. */
export function percentileOf(sorted: ArrayLike<number>, v: number): number {
  const n = sorted.length;
  if (n === 0 || !Number.isFinite(v)) return NaN;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (sorted[m] < v) lo = m + 1;
    else hi = m;
  }
  let eq = lo;
  while (eq < n && sorted[eq] === v) eq++;
  return (lo + (eq - lo) / 2) / n;
}

export function meanStd(xs: ArrayLike<number>): { mean: number; std: number; n: number } {
  let n = 0;
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i])) continue;
    n++;
    s += xs[i];
  }
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) ss += (xs[i] - mean) ** 2;
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, n };
}

/**
 * Solves (A + lambda I) x = b for a symmetric positive semi-definite A (k x k, row-major) by Cholesky. A singular
 * system without a penalty gets a tiny one so collinear regressors still give an answer. Returns null when it fails.
 */
export function solveSymmetric(a: Float64Array, b: Float64Array, k: number, lambda = 0): Float64Array | null {
  const l = new Float64Array(k * k);
  let trace = 0;
  for (let i = 0; i < k; i++) trace += a[i * k + i];
  const ridge = lambda > 0 ? lambda : 1e-10 * (trace / Math.max(k, 1) || 1);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * k + j] + (i === j ? ridge : 0);
      for (let p = 0; p < j; p++) s -= l[i * k + p] * l[j * k + p];
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * k + i] = Math.sqrt(s);
      } else l[i * k + j] = s / l[j * k + j];
    }
  }
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = b[i];
    for (let p = 0; p < i; p++) s -= l[i * k + p] * y[p];
    y[i] = s / l[i * k + i];
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i];
    for (let p = i + 1; p < k; p++) s -= l[p * k + i] * x[p];
    x[i] = s / l[i * k + i];
  }
  return x;
}

/** Least squares of y on the columns of X (n rows, k columns, row-major), with an intercept-free ridge penalty. */
export interface LeastSquares {
  coef: Float64Array;
  rss: number;
  n: number;
}

/** X'X and X'y over rows [from, to) of a row-major X with k columns. */
export function gram(x: Float64Array, y: Float64Array, k: number, from = 0, to = y.length): { xtx: Float64Array; xty: Float64Array } {
  const xtx = new Float64Array(k * k);
  const xty = new Float64Array(k);
  for (let r = from; r < to; r++) {
    const off = r * k;
    const yr = y[r];
    for (let i = 0; i < k; i++) {
      const xi = x[off + i];
      xty[i] += xi * yr;
      for (let j = 0; j <= i; j++) xtx[i * k + j] += xi * x[off + j];
    }
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) xtx[j * k + i] = xtx[i * k + j];
  return { xtx, xty };
}

export function leastSquares(x: Float64Array, y: Float64Array, k: number, lambda = 0): LeastSquares | null {
  const n = y.length;
  const { xtx, xty } = gram(x, y, k);
  const coef = solveSymmetric(xtx, xty, k, lambda);
  if (!coef) return null;
  let rss = 0;
  for (let r = 0; r < n; r++) {
    let p = 0;
    for (let i = 0; i < k; i++) p += coef[i] * x[r * k + i];
    rss += (y[r] - p) ** 2;
  }
  return { coef, rss, n };
}

// ---------------------------------------------------------------------------------------------------------------
// Distributions. The F test's p-value is the regularized incomplete beta function (Numerical Recipes' continued
// fraction, accurate to ~1e-10), which is all the Granger test needs.

function logGamma(x: number): number {
  const g = [76.18009172947146, -86.50532032941678, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const c of g) ser += c / ++y;
  return -tmp + Math.log((2.5066282746310007 * ser) / x);
}

function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-12) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(F > f) for an F distribution with (d1, d2) degrees of freedom. */
export function fSurvival(f: number, d1: number, d2: number): number {
  if (!(f > 0)) return 1;
  if (!Number.isFinite(f)) return 0;
  return incompleteBeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
}

/** Two-sided normal tail probability of |z|. */
export function normalTwoSided(z: number): number {
  // erfc by the Chebyshev fit of Numerical Recipes (relative error < 1.2e-7).
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const r =
    t *
    Math.exp(
      -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return Math.min(1, r);
}
