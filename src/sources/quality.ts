// Quality flags as sources write them (words, OPC UA StatusCodes in decimal or hex, user-mapped codes) -> the 32-bit
// OPC UA StatusCode kept in the quality column. Shared by every source that has a quality field.

import type { QualityOptions } from './options.js';

export const GOOD = 0;
export const UNCERTAIN = 0x40000000;
export const BAD = 0x80000000;

const WORDS: Record<string, number> = {
  good: GOOD,
  ok: GOOD,
  uncertain: UNCERTAIN,
  questionable: UNCERTAIN,
  bad: BAD,
};
const CODE_OF = { good: GOOD, uncertain: UNCERTAIN, bad: BAD } as const;
const HEX = /^0x[0-9a-f]{1,8}$/;
const DEC = /^\d{1,10}$/;
const CACHE_LIMIT = 4096;

/**
 * Returns the StatusCode as an unsigned 32-bit number (BAD is 0x80000000; the Int32 column keeps the same bits), or
 * null when the flag is not understood (a 'bad_quality' reject). Numbers are UA StatusCodes kept whole (their class is
 * the top two bits: 00 good, 01 uncertain, 1x bad); OPC DA codes such as 192 need a `map`. The user map wins, keys
 * case-insensitive. An empty or absent flag means "no quality given": callers check for it before calling.
 */
export function makeQualityParser(opts: QualityOptions = {}): (v: string | number) => number | null {
  const names = new Map<string, number>(Object.entries(WORDS));
  for (const [k, cls] of Object.entries(opts.map ?? {})) names.set(k.trim().toLowerCase(), CODE_OF[cls]);
  const seen = new Map<string, number | null>();

  function fromText(s: string): number | null {
    const t = s.trim().toLowerCase();
    const named = names.get(t);
    if (named !== undefined) return named;
    if (HEX.test(t)) return parseInt(t.slice(2), 16);
    if (DEC.test(t)) return fromNumber(Number(t));
    return null;
  }

  function fromNumber(n: number): number | null {
    const mapped = names.get(String(n));
    if (mapped !== undefined) return mapped;
    if (!Number.isInteger(n) || n < -0x80000000 || n > 0xffffffff) return null;
    return n >>> 0; // a signed Int32 (as Parquet holds it) back to its unsigned bits
  }

  return function parseQuality(v: string | number): number | null {
    if (typeof v === 'number') return fromNumber(v);
    // Files repeat a handful of flags: a small cache skips the trimming and regexes.
    let q = seen.get(v);
    if (q === undefined) {
      q = fromText(v);
      if (seen.size < CACHE_LIMIT) seen.set(v, q);
    }
    return q;
  };
}

/** good / uncertain / bad of a StatusCode, by its top two bits. */
export function qualityClass(code: number): 'good' | 'uncertain' | 'bad' {
  const top = code >>> 30;
  return top === 0 ? 'good' : top === 1 ? 'uncertain' : 'bad';
}
