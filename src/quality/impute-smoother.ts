// The residual model the seasonal, ridge and smooth imputers share: what is left after a baseline (a daily profile,
// neighbours' prediction, a constant) is taken as an AR(1) signal plus white measurement noise, fitted to the
// residuals' variogram, and a gap gets the Kalman (RTS) smoother's estimate from the readings on either side. This
// interpolates like a line when the residual wanders (phi near 1), falls back to the baseline when it is noise
// (phi near 0), and never copies an endpoint's noise into the whole gap.

export interface ArNoise {
  /** Autocorrelation of the signal per expected interval. */
  phi: number;
  /** Stationary variance of the signal. */
  s2: number;
  /** Variance of the measurement noise. */
  r: number;
  intervalUs: number;
}

const PHIS = [0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999];

/** Grid index of each timestamp (steps of intervalUs from the first). */
function gridIndex(ts: ArrayLike<number>, intervalUs: number): Float64Array {
  const g = new Float64Array(ts.length);
  for (let i = 0; i < ts.length; i++) g[i] = Math.round((ts[i] - ts[0]) / intervalUs);
  return g;
}

/** Semivariogram V(k) = mean((e[t + k] - e[t])^2) / 2 for k = 1..maxLag steps, NaN where no pair exists. */
export function variogram(ts: ArrayLike<number>, e: ArrayLike<number>, intervalUs: number, maxLag: number): Float64Array {
  const g = gridIndex(ts, intervalUs);
  const sum = new Float64Array(maxLag + 1);
  const cnt = new Float64Array(maxLag + 1);
  const n = ts.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const ei = e[i];
    const end = Math.min(n, i + maxLag + 1);
    for (let j = i + 1; j < end; j++) {
      const k = g[j] - gi;
      if (k > maxLag) break;
      if (k >= 1) {
        const d = e[j] - ei;
        sum[k] += d * d;
        cnt[k]++;
      }
    }
  }
  const v = new Float64Array(maxLag + 1);
  v[0] = 0;
  for (let k = 1; k <= maxLag; k++) v[k] = cnt[k] > 0 ? sum[k] / cnt[k] / 2 : NaN;
  return v;
}

/** Fits V(k) = s2 (1 - phi^k) + r over a grid of phi, least squares in (s2, r) >= 0 for each. */
export function fitArNoise(ts: ArrayLike<number>, e: ArrayLike<number>, intervalUs: number, maxLag = 60): ArNoise {
  const v = variogram(ts, e, intervalUs, maxLag);
  let best: ArNoise = { phi: 0, s2: 0, r: 0, intervalUs };
  let bestSse = Infinity;
  for (const phi of PHIS) {
    // Design columns a_k = 1 - phi^k and 1; normal equations for (s2, r).
    let saa = 0;
    let sa = 0;
    let s1 = 0;
    let sav = 0;
    let sv = 0;
    for (let k = 1; k <= maxLag; k++) {
      if (!Number.isFinite(v[k])) continue;
      const a = 1 - phi ** k;
      saa += a * a;
      sa += a;
      s1 += 1;
      sav += a * v[k];
      sv += v[k];
    }
    if (s1 === 0) continue;
    const det = saa * s1 - sa * sa;
    let s2 = det > 1e-12 ? (sav * s1 - sa * sv) / det : 0;
    let r = det > 1e-12 ? (saa * sv - sa * sav) / det : sv / s1;
    if (s2 < 0) {
      s2 = 0;
      r = sv / s1;
    }
    if (r < 0) {
      r = 0;
      s2 = saa > 0 ? Math.max(0, sav / saa) : 0;
    }
    let sse = 0;
    for (let k = 1; k <= maxLag; k++) if (Number.isFinite(v[k])) sse += (s2 * (1 - phi ** k) + r - v[k]) ** 2;
    if (sse < bestSse * (1 - 1e-12)) {
      bestSse = sse;
      best = { phi, s2, r, intervalUs };
    }
  }
  return best;
}

/**
 * The smoothed residual at `fillTs` (all strictly between ts[left] and ts[left + 1]), from up to `window` readings
 * on each side. Zero (the baseline) when the model has no signal.
 */
export function smoothGap(ts: ArrayLike<number>, e: ArrayLike<number>, left: number, fillTs: ArrayLike<number>, m: ArNoise, window = 300): Float64Array {
  const out = new Float64Array(fillTs.length);
  if (!(m.s2 > 0)) return out;
  const r = Math.max(m.r, 1e-9 * m.s2);
  const lo = Math.max(0, left - window + 1);
  const hi = Math.min(ts.length - 1, left + window);
  const total = hi - lo + 1 + fillTs.length;
  const t = new Float64Array(total);
  const y = new Float64Array(total);
  const fillAt = new Int32Array(fillTs.length);
  let k = 0;
  for (let i = lo; i <= left; i++, k++) {
    t[k] = ts[i];
    y[k] = e[i];
  }
  for (let j = 0; j < fillTs.length; j++, k++) {
    t[k] = fillTs[j];
    y[k] = NaN;
    fillAt[j] = k;
  }
  for (let i = left + 1; i <= hi; i++, k++) {
    t[k] = ts[i];
    y[k] = e[i];
  }
  // Forward Kalman filter, keeping predictions for the backward pass.
  const mp = new Float64Array(total);
  const pp = new Float64Array(total);
  const mf = new Float64Array(total);
  const pf = new Float64Array(total);
  const a = new Float64Array(total);
  let mean = 0;
  let p = m.s2;
  for (let i = 0; i < total; i++) {
    if (i > 0) {
      const steps = Math.max(0, (t[i] - t[i - 1]) / m.intervalUs);
      const ai = m.phi ** steps;
      a[i] = ai;
      mean = ai * mean;
      p = ai * ai * p + m.s2 * (1 - ai * ai);
    }
    mp[i] = mean;
    pp[i] = p;
    if (!Number.isNaN(y[i])) {
      const gain = p / (p + r);
      mean += gain * (y[i] - mean);
      p = (1 - gain) * p;
    }
    mf[i] = mean;
    pf[i] = p;
  }
  // Rauch-Tung-Striebel backward pass.
  const ms = new Float64Array(total);
  ms[total - 1] = mf[total - 1];
  for (let i = total - 2; i >= 0; i--) {
    const c = pp[i + 1] > 0 ? (pf[i] * a[i + 1]) / pp[i + 1] : 0;
    ms[i] = mf[i] + c * (ms[i + 1] - mp[i + 1]);
  }
  for (let j = 0; j < fillTs.length; j++) out[j] = ms[fillAt[j]];
  return out;
}

/** The readings with a baseline (finite `base`), as times and residuals value - baseline. */
function residuals(ts: Float64Array, values: Float64Array, base: Float64Array): { rt: Float64Array; e: Float64Array } {
  let n = 0;
  for (let i = 0; i < ts.length; i++) if (Number.isFinite(base[i])) n++;
  const rt = new Float64Array(n);
  const e = new Float64Array(n);
  for (let i = 0, k = 0; i < ts.length; i++) {
    if (!Number.isFinite(base[i])) continue;
    rt[k] = ts[i];
    e[k++] = values[i] - base[i];
  }
  return { rt, e };
}

/** The AR(1)-plus-noise model of the residuals from `base` (as residualFiller fits it). */
export function residualModel(ts: Float64Array, values: Float64Array, base: Float64Array, intervalUs: number): ArNoise {
  const { rt, e } = residuals(ts, values, base);
  return fitArNoise(rt, e, intervalUs);
}

/**
 * A filler that adds the smoothed residual to a baseline: `base` holds the baseline at each observed reading (NaN
 * where it has none: those readings are left out of the residual model), and `baselineAt` gives it at the gap's
 * times (null where it cannot, e.g. a neighbour is missing there too). `model` is the residual model when one was
 * fitted already (on the whole series, for a self-masked copy of it); else it is fitted here.
 */
export function residualFiller(
  ts: Float64Array,
  values: Float64Array,
  base: Float64Array,
  intervalUs: number,
  baselineAt: (fillTs: Float64Array) => Float64Array | null,
  model?: ArNoise,
): (gap: { left: number; ts: Float64Array }) => Float64Array | null {
  const { rt, e } = residuals(ts, values, base);
  const n = rt.length;
  const m = model ?? fitArNoise(rt, e, intervalUs);
  return (gap) => {
    const b = baselineAt(gap.ts);
    if (!b) return null;
    const left = lastAtOrBefore(rt, gap.ts[0]);
    if (left < 0 || left + 1 >= n) return b;
    const r = smoothGap(rt, e, left, gap.ts, m);
    for (let j = 0; j < b.length; j++) b[j] += r[j];
    return b;
  };
}

/** Index of the last element <= t in an ascending array, -1 if none. */
export function lastAtOrBefore(ts: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (ts[m] <= t) lo = m + 1;
    else hi = m;
  }
  return lo - 1;
}
