// A trailing window of numbers kept sorted, so the robust statistics detectors judge a reading against (median,
// MAD, quantiles) cost O(log n) to read and O(n) memmove to slide, with no per-reading allocation.

/** 1.4826 * MAD estimates the standard deviation of normal data. */
export const MAD_TO_SIGMA = 1.4826;

export class SortedWindow {
  private buf: Float64Array;
  private n = 0;

  constructor(capacity = 64) {
    this.buf = new Float64Array(Math.max(4, capacity));
  }

  get size(): number {
    return this.n;
  }

  add(x: number): void {
    if (this.n === this.buf.length) {
      const bigger = new Float64Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    const i = this.lowerBound(x);
    this.buf.copyWithin(i + 1, i, this.n);
    this.buf[i] = x;
    this.n++;
  }

  /** Removes one occurrence of x; false when x is not held. */
  remove(x: number): boolean {
    const i = this.lowerBound(x);
    if (i >= this.n || this.buf[i] !== x) return false;
    this.buf.copyWithin(i, i + 1, this.n);
    this.n--;
    return true;
  }

  clear(): void {
    this.n = 0;
  }

  /** The k-th smallest (0-based). */
  at(k: number): number {
    return this.buf[k];
  }

  /** Linear-interpolated quantile, q in [0, 1] (NaN when empty). */
  quantile(q: number): number {
    if (this.n === 0) return NaN;
    const pos = q * (this.n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(this.n - 1, lo + 1);
    return this.buf[lo] + (this.buf[hi] - this.buf[lo]) * (pos - lo);
  }

  median(): number {
    const n = this.n;
    if (n === 0) return NaN;
    return n % 2 === 1 ? this.buf[(n - 1) / 2] : (this.buf[n / 2 - 1] + this.buf[n / 2]) / 2;
  }

  /** Median absolute deviation from `center` (the median by default): the k-th smallest distance, found in O(log n). */
  mad(center = this.median()): number {
    const n = this.n;
    if (n === 0) return NaN;
    const split = this.lowerBound(center);
    const dist = (k: number): number => kthDistance(this.buf, split, n, center, k);
    return n % 2 === 1 ? dist((n - 1) / 2) : (dist(n / 2 - 1) + dist(n / 2)) / 2;
  }

  /** The q-quantile of |x - center| (q = 0.5 is the MAD), found in O(log n). */
  deviationQuantile(q: number, center = this.median()): number {
    const n = this.n;
    if (n === 0) return NaN;
    const split = this.lowerBound(center);
    const pos = q * (n - 1);
    const lo = Math.floor(pos);
    const a = kthDistance(this.buf, split, n, center, lo);
    if (lo + 1 >= n || pos === lo) return a;
    return a + (kthDistance(this.buf, split, n, center, lo + 1) - a) * (pos - lo);
  }

  /** How many held values are < x. */
  countBelow(x: number): number {
    return this.lowerBound(x);
  }

  /** How many held values are <= x. */
  countAtMost(x: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.buf[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.buf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * The k-th smallest |x - c| over sorted buf[0..n), where buf[0..split) < c <= buf[split..n): the distances form two
 * ascending runs (leftwards from split - 1, rightwards from split), so this is the k-th of two sorted lists.
 */
function kthDistance(buf: Float64Array, split: number, n: number, c: number, k: number): number {
  const left = (i: number): number => c - buf[split - 1 - i]; // i-th smallest on the left
  const right = (j: number): number => buf[split + j] - c;
  const nl = split;
  const nr = n - split;
  // Binary search on how many of the k + 1 smallest come from the left run.
  let lo = Math.max(0, k + 1 - nr);
  let hi = Math.min(k + 1, nl);
  while (lo < hi) {
    const i = (lo + hi) >> 1; // take i from the left, k + 1 - i from the right
    const j = k + 1 - i;
    if (j > 0 && i < nl && right(j - 1) > left(i)) lo = i + 1;
    else hi = i;
  }
  const i = lo;
  const j = k + 1 - i;
  const a = i > 0 ? left(i - 1) : -Infinity;
  const b = j > 0 ? right(j - 1) : -Infinity;
  return Math.max(a, b);
}

/** A trailing window of the last `length` values pushed, sorted for robust statistics. */
export class RollingStats {
  private readonly ring: Float64Array;
  private head = 0;
  private count = 0;
  readonly sorted: SortedWindow;

  constructor(readonly length: number) {
    this.ring = new Float64Array(length);
    this.sorted = new SortedWindow(length);
  }

  get size(): number {
    return this.count;
  }

  push(x: number): void {
    if (this.count === this.length) {
      this.sorted.remove(this.ring[this.head]);
    } else this.count++;
    this.ring[this.head] = x;
    this.head = (this.head + 1) % this.length;
    this.sorted.add(x);
  }

  median(): number {
    return this.sorted.median();
  }

  mad(center?: number): number {
    return this.sorted.mad(center);
  }

  /**
   * A robust standard deviation: 1.4826 * MAD, or with q the q-quantile of |x - center| scaled to a normal sigma
   * (heavier tails widen it); when that is 0 (most of the window is one value), the mean absolute deviation.
   */
  sigma(center = this.median(), q = 0.5): number {
    const m = q === 0.5 ? this.sorted.mad(center) : this.sorted.deviationQuantile(q, center) / normalQuantile((1 + q) / 2);
    if (m > 0) return q === 0.5 ? MAD_TO_SIGMA * m : m;
    // Values equal to the center add nothing, and here most are: only the two ends of the sorted window are summed
    // (a per-reading pass over the whole window was most of a live server's judging time).
    const below = this.sorted.countBelow(center);
    const above = this.sorted.countAtMost(center);
    let s = 0;
    for (let k = 0; k < below; k++) s += center - this.sorted.at(k);
    for (let k = above; k < this.count; k++) s += this.sorted.at(k) - center;
    return this.count > 0 ? (1.2533 * s) / this.count : 0;
  }
}

/** The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - 0.02425) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
