// Cross-product sums of the ridge imputer's feature rows: accumulated four rows at a time, subtracted for the rows a
// self-masked copy hides, and turned into standardised normal equations without another pass over the rows.

/** Sums over a set of rows z (features then target, d = k + 1 values): count, sum z, and z z' (lower triangle). */
export interface Sums {
  n: number;
  s: Float64Array;
  zz: Float64Array;
}

export function emptySums(d: number): Sums {
  return { n: 0, s: new Float64Array(d), zz: new Float64Array(d * d) };
}

/** Adds row r of `z` to `acc`. */
function addRow(acc: Sums, z: Float64Array, r: number, d: number): void {
  const off = r * d;
  const { s, zz } = acc;
  acc.n++;
  for (let i = 0; i < d; i++) {
    const zi = z[off + i];
    s[i] += zi;
    const row = i * d;
    for (let j = 0; j <= i; j++) zz[row + j] += zi * z[off + j];
  }
}

/** Adds rows [from, to) of `z` to `acc`, four at a time (a quarter of the loads and stores of z z'). */
export function addRows(acc: Sums, z: Float64Array, from: number, to: number, d: number): void {
  const { s, zz } = acc;
  let r = from;
  for (; r + 4 <= to; r += 4) {
    const o0 = r * d;
    const o1 = o0 + d;
    const o2 = o1 + d;
    const o3 = o2 + d;
    for (let i = 0; i < d; i++) {
      const a0 = z[o0 + i];
      const a1 = z[o1 + i];
      const a2 = z[o2 + i];
      const a3 = z[o3 + i];
      s[i] += a0 + a1 + a2 + a3;
      const row = i * d;
      for (let j = 0; j <= i; j++) zz[row + j] += a0 * z[o0 + j] + a1 * z[o1 + j] + a2 * z[o2 + j] + a3 * z[o3 + j];
    }
  }
  acc.n += r - from;
  for (; r < to; r++) addRow(acc, z, r, d);
}

export function subtract(acc: Sums, b: Sums): void {
  acc.n -= b.n;
  for (let i = 0; i < acc.s.length; i++) acc.s[i] -= b.s[i];
  for (let i = 0; i < acc.zz.length; i++) acc.zz[i] -= b.zz[i];
}

export function copySums(a: Sums): Sums {
  return { n: a.n, s: a.s.slice(), zz: a.zz.slice() };
}

/**
 * Standardised normal equations over the rows of `part`, with the means `a` and spreads `sd` of all training rows:
 * x'x, x'y (x = (z - a) / sd, y = z_k - a_k), and y'y. Every sum is taken about z's reference, so this is exact.
 */
export function standardised(part: Sums, a: Float64Array, sd: Float64Array, k: number): { xtx: Float64Array; xty: Float64Array; yy: number } {
  const d = k + 1;
  const c = (i: number, j: number): number => {
    const zz = i >= j ? part.zz[i * d + j] : part.zz[j * d + i];
    return zz - part.s[i] * a[j] - a[i] * part.s[j] + part.n * a[i] * a[j];
  };
  const xtx = new Float64Array(k * k);
  const xty = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      const v = c(i, j) / (sd[i] * sd[j]);
      xtx[i * k + j] = v;
      xtx[j * k + i] = v;
    }
    xty[i] = c(k, i) / sd[i];
  }
  return { xtx, xty, yy: c(k, k) };
}
