// The damped local linear trend model behind the `trend` imputer: a level that moves by its slope plus a random
// step, a slope that wanders and decays toward zero (rho per interval; 1 is the undamped local linear trend), and white
// measurement noise on top. Kalman filter (for the likelihood the fit maximises) and Rauch-Tung-Striebel smoother (for
// a gap's fill) over readings at any spacing: k intervals apart, the transition and its noise have closed forms in k
// (geometric sums), so real gaps and irregular steps need no loop over the missing steps.

/** Variances per expected interval: of the level's random step, of the slope's, and of the measurement noise. */
export interface TrendModel {
  qLevel: number;
  qSlope: number;
  r: number;
  /** The slope's persistence per interval, in (0, 1]. */
  rho: number;
  intervalUs: number;
}

/** Prior variance of the first state, relative to the data's spread: large enough to carry no information. */
const DIFFUSE = 1e6;

/** One transition over k intervals: F = [[1, c], [0, g]] and the noise it adds, Q = [[qLL, qLS], [qLS, qSS]]. */
export interface Step {
  c: number;
  g: number;
  qLL: number;
  qLS: number;
  qSS: number;
}

/**
 * F^k and the sum over the unit steps j = 0..k-1 of F^j diag(qLevel, qSlope) F^j'. With c_j = (1 - rho^j) / (1 - rho)
 * that is qLevel k on the level plus qSlope [[sum c_j^2, sum c_j rho^j], [., sum rho^2j]]; the sums are geometric and
 * extend to fractional k. Near rho = 1 the undamped limits (sum j^2, sum j, k) avoid the cancellation.
 */
export function step(m: TrendModel, k: number): Step {
  const d = 1 - m.rho;
  if (d < 1e-6) {
    const s1 = Math.max(0, (k * (k - 1)) / 2);
    const s2 = Math.max(0, ((k - 1) * k * (2 * k - 1)) / 6);
    return { c: k, g: 1, qLL: m.qLevel * k + m.qSlope * s2, qLS: m.qSlope * s1, qSS: m.qSlope * k };
  }
  const g = m.rho ** k;
  const g1 = (1 - g) / d;
  const g2 = (1 - g * g) / (1 - m.rho * m.rho);
  return {
    c: g1,
    g,
    qLL: m.qLevel * k + (m.qSlope * Math.max(0, k - 2 * g1 + g2)) / (d * d),
    qLS: (m.qSlope * Math.max(0, g1 - g2)) / d,
    qSS: m.qSlope * g2,
  };
}

/** State mean (level, slope) and covariance (pLL, pLS, pSS) after each reading, before and after its update. */
export interface Pass {
  mp: Float64Array;
  pp: Float64Array;
  mf: Float64Array;
  pf: Float64Array;
  /** Steps (in intervals) from the previous time to this one. */
  k: Float64Array;
  /** Sum of log(innovation variance) + innovation^2 / variance over the readings after the first two. */
  nll: number;
  /** Readings that entered `nll`. */
  used: number;
}

function spread(y: ArrayLike<number>): number {
  let n = 0;
  let s = 0;
  let ss = 0;
  for (let i = 0; i < y.length; i++) {
    if (Number.isNaN(y[i])) continue;
    n++;
    s += y[i];
    ss += y[i] * y[i];
  }
  if (n === 0) return 1;
  const v = ss / n - (s / n) ** 2;
  return Math.max(v, (s / n) ** 2 * 1e-6, 1e-6);
}

/**
 * Forward Kalman filter over readings at times `t` (µs, ascending) with values `y` (NaN: a time to estimate, no
 * reading). The first state is diffuse (level and slope unknown), so the first two readings set it and are left
 * out of the likelihood. With `keep` false only `nll` and `used` are filled (the arrays are empty): what the
 * likelihood search calls hundreds of times, without allocating 11 numbers a reading each time.
 */
export function filterTrend(t: ArrayLike<number>, y: ArrayLike<number>, m: TrendModel, keep = true): Pass {
  const n = t.length;
  const size = keep ? n : 0;
  const mp = new Float64Array(2 * size);
  const pp = new Float64Array(3 * size);
  const mf = new Float64Array(2 * size);
  const pf = new Float64Array(3 * size);
  const ks = new Float64Array(size);
  const big = DIFFUSE * spread(y);
  let first = 0;
  while (first < n && Number.isNaN(y[first])) first++;
  let l = first < n ? y[first] : 0;
  let s = 0;
  let pLL = big;
  let pLS = 0;
  let pSS = big;
  let nll = 0;
  let used = 0;
  let seen = 0;
  // Regular readings repeat the same k: reuse its transition.
  let lastK = NaN;
  let st = step(m, 1);
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const k = Math.max(0, (t[i] - t[i - 1]) / m.intervalUs);
      if (keep) ks[i] = k;
      if (k !== lastK) {
        st = step(m, k);
        lastK = k;
      }
      l = l + st.c * s;
      s = st.g * s;
      const nLL = pLL + 2 * st.c * pLS + st.c * st.c * pSS + st.qLL;
      const nLS = st.g * (pLS + st.c * pSS) + st.qLS;
      const nSS = st.g * st.g * pSS + st.qSS;
      pLL = nLL;
      pLS = nLS;
      pSS = nSS;
    }
    if (keep) storeState(mp, pp, i, l, s, pLL, pLS, pSS);
    if (!Number.isNaN(y[i])) {
      const f = pLL + m.r;
      const v = y[i] - l;
      if (seen >= 2 && f > 0) {
        nll += Math.log(f) + (v * v) / f;
        used++;
      }
      seen++;
      const gL = pLL / f;
      const gS = pLS / f;
      l += gL * v;
      s += gS * v;
      const nLL = pLL - gL * pLL;
      const nLS = pLS - gL * pLS;
      const nSS = pSS - gS * pLS;
      pLL = nLL;
      pLS = nLS;
      pSS = nSS;
    }
    if (keep) storeState(mf, pf, i, l, s, pLL, pLS, pSS);
  }
  return { mp, pp, mf, pf, k: ks, nll, used };
}

/** Reading i's state (level, slope) and its covariance (LL, LS, SS) into the filter's output arrays. */
function storeState(means: Float64Array, covs: Float64Array, i: number, l: number, s: number, pLL: number, pLS: number, pSS: number): void {
  means[2 * i] = l;
  means[2 * i + 1] = s;
  covs[3 * i] = pLL;
  covs[3 * i + 1] = pLS;
  covs[3 * i + 2] = pSS;
}

/** Smoothed level at every time of `t`, given all of `y` (RTS backward pass over the filter's output). */
export function smoothTrend(t: ArrayLike<number>, y: ArrayLike<number>, m: TrendModel): Float64Array {
  const n = t.length;
  const out = new Float64Array(n);
  if (n === 0) return out;
  const p = filterTrend(t, y, m);
  let sl = p.mf[2 * (n - 1)];
  let ss = p.mf[2 * (n - 1) + 1];
  out[n - 1] = sl;
  for (let i = n - 2; i >= 0; i--) {
    const st = step(m, p.k[i + 1]);
    // C = Pf F' Pp^-1, with F = [[1, c], [0, g]] the step from i to i + 1.
    const fLL = p.pf[3 * i];
    const fLS = p.pf[3 * i + 1];
    const fSS = p.pf[3 * i + 2];
    const a = fLL + st.c * fLS;
    const b = st.g * fLS;
    const c = fLS + st.c * fSS;
    const d = st.g * fSS;
    const qLL = p.pp[3 * (i + 1)];
    const qLS = p.pp[3 * (i + 1) + 1];
    const qSS = p.pp[3 * (i + 1) + 2];
    const det = qLL * qSS - qLS * qLS;
    const dl = sl - p.mp[2 * (i + 1)];
    const ds = ss - p.mp[2 * (i + 1) + 1];
    let cl = 0;
    let cs = 0;
    if (det > 0 && Number.isFinite(det)) {
      // [[a, b], [c, d]] is Pf F' (rows: level, slope); times Pp^-1 = [[qSS, -qLS], [-qLS, qLL]] / det, times (dl, ds).
      const il = (qSS * dl - qLS * ds) / det;
      const is = (-qLS * dl + qLL * ds) / det;
      cl = a * il + b * is;
      cs = c * il + d * is;
    } else if (qLL > 0) {
      cl = (a * dl) / qLL;
      cs = (c * dl) / qLL;
    }
    sl = p.mf[2 * i] + cl;
    ss = p.mf[2 * i + 1] + cs;
    out[i] = sl;
  }
  return out;
}
