// Durations on the quality command line and in options: '90s', '10m', '6h', '1d', '2w' (a bare number is seconds).

import { InvalidArgumentError } from '../errors.js';

const UNIT_S: Record<string, number> = { ms: 1e-3, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Seconds in a duration such as 90s, 10m, 6h, 1d, 2w (a bare number is seconds). */
export function parseDurationS(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/i.exec(text);
  const s = m ? Number(m[1]) * UNIT_S[(m[2] ?? 's').toLowerCase()] : NaN;
  if (!(s > 0)) throw new InvalidArgumentError(`${what} '${text}': expected a positive duration such as 90s, 10m, 6h, 1d or 2w`);
  return s;
}
