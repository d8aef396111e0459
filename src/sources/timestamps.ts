// Timestamp text or epoch numbers -> integer µs since epoch UTC, for every source. ISO 8601 goes through a hand parser
// (no Date.parse, no allocation on success); naive local times go through local-time.ts and the DST rules.

import type { TimeOptions } from './batch.js';
import { AMBIGUOUS, daysFromCivil, NONEXISTENT, ZoneClock } from './local-time.js';

export type TimestampFailureReason = 'bad_timestamp' | 'nonexistent_local_time' | 'ambiguous_local_time';
export interface TimestampFailure {
  reason: TimestampFailureReason;
  message: string;
}
export type DstKind = 'ambiguous' | 'nonexistent';
/** µs UTC (an integer in a double) or why not; `span` reads src[start, end) without cutting it out. */
export type TimestampParser = ((v: string | number) => number | TimestampFailure) & {
  span(src: string, start: number, end: number): number | TimestampFailure;
};

/**
 * Epoch unit inferred from magnitude when `epochUnit` is not set: |v| < 1e11 is seconds, < 1e14 ms, < 1e17 µs, else
 * ns. Seconds are thus right for any instant up to year 5138, and ms, µs and ns for instants from 1973-03-03 on;
 * ms/µs/ns values of earlier instants (and negative ones) would be taken for a coarser unit: set epochUnit for them.
 */
export const EPOCH_THRESHOLDS = { s: 1e11, ms: 1e14, us: 1e17 } as const;
const UNIT_EXP = { s: 6, ms: 3, us: 0, ns: -3 } as const;
/** µs held exactly in a double: 1684-07-28T00:12:25.259008Z to 2255-06-05T23:47:34.740992Z. */
const MAX_US = Number.MAX_SAFE_INTEGER;
const DIM = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Fractions beyond µs are truncated, which floors the instant whatever its sign (the fraction only ever adds).
 * `onDst` is called whenever a naive time was ambiguous or nonexistent and a rule (not reject) resolved it.
 */
export function makeTimestampParser(opts: TimeOptions = {}, onDst?: (kind: DstKind) => void): TimestampParser {
  const format = opts.format ?? 'auto';
  const unit = opts.epochUnit;
  const clock = opts.zone ? new ZoneClock(opts.zone) : null;
  const naiveUtc = clock?.isUtc ?? false;
  const ambiguous = opts.ambiguous ?? 'earlier';
  const nonexistent = opts.nonexistent ?? 'shift-forward';

  function fromIso(s: string): number | TimestampFailure {
    let us = parseIso(s, 0, s.length);
    if (us !== us) {
      const t = s.trim();
      if (t === s || t === '') return bad(s, why);
      us = parseIso(t, 0, t.length);
      if (us !== us) return bad(s, why);
    }
    return naive ? fromWall(us, s, 0, s.length) : inRange(s, us);
  }

  /** A naive wall time (µs as if UTC) of src[a, b) -> UTC by time.zone and the DST rules. */
  function fromWall(us: number, src: string, a: number, b: number): number | TimestampFailure {
    if (naiveUtc) return inRange(src.slice(a, b), us);
    if (!clock) return bad(src.slice(a, b), 'has no UTC offset; set time.zone to the IANA zone of these local times');
    const wallMs = Math.floor(us / 1000);
    const r = clock.resolve(wallMs);
    const sub = us - wallMs * 1000;
    let utc = r.utcMs;
    if (r.kind === AMBIGUOUS) {
      if (ambiguous === 'reject') return { reason: 'ambiguous_local_time', message: `ts ${show(src.slice(a, b))} occurs twice in ${clock.zone} (clocks go back) and time.ambiguous is reject` };
      onDst?.('ambiguous');
      if (ambiguous === 'later') utc = r.laterMs;
    } else if (r.kind === NONEXISTENT) {
      if (nonexistent === 'reject') return { reason: 'nonexistent_local_time', message: `ts ${show(src.slice(a, b))} does not exist in ${clock.zone} (clocks go forward) and time.nonexistent is reject` };
      onDst?.('nonexistent');
    }
    const out = utc * 1000 + sub;
    return out <= MAX_US && out >= -MAX_US ? out : outOfRange(src.slice(a, b));
  }

  function fromEpoch(v: string | number): number | TimestampFailure {
    let text: string;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return bad(v, 'is not a finite number');
      const u = unit ?? inferUnit(Math.abs(v));
      // Integers in s/ms/µs scale exactly; anything else goes through its shortest decimal text so that a double
      // like 1704067200.123 means what it shows, not 1704067200.12299990654.
      if (Number.isInteger(v) && u !== 'ns') return inRange(v, v * 10 ** UNIT_EXP[u]);
      if (u === 's' || u === 'ms') {
        // When the nearest µs maps back to this very double, that µs is the decimal the double was written from.
        const scale = u === 's' ? 1e6 : 1e3;
        const r = Math.round(v * scale);
        if (r / scale === v) return inRange(v, r);
      }
      text = String(v);
    } else text = v.trim();
    const m = EPOCH_RE.exec(text);
    if (!m) return bad(v, format === 'epoch' ? 'is not an epoch number (time.format is epoch)' : 'is not an ISO 8601 timestamp or an epoch number');
    const u = unit ?? inferUnit(Math.abs(Number(text)));
    const us = decimalToMicros(m[1] === '-', m[2] ?? '', m[3] ?? m[4] ?? '', UNIT_EXP[u] + (m[5] ? Number(m[5]) : 0));
    return inRange(v, us);
  }

  function parseTimestamp(v: string | number): number | TimestampFailure {
    if (typeof v === 'number') {
      if (format === 'iso') return bad(v, 'is a number but time.format is iso');
      return fromEpoch(v);
    }
    if (format === 'epoch') return fromEpoch(v);
    if (v.charCodeAt(4) === 45 || !EPOCH_RE.test(v.trim())) return fromIso(v);
    if (format === 'iso') return bad(v, 'is an epoch number but time.format is iso');
    return fromEpoch(v);
  }
  // The CSV hot path: an ISO instant with an offset, read in place (no substring); anything else takes the full path.
  parseTimestamp.span = function parseSpan(src: string, start: number, end: number): number | TimestampFailure {
    if (format !== 'epoch' && src.charCodeAt(start + 4) === 45) {
      const us = parseIso(src, start, end);
      if (us === us) {
        if (naive) return fromWall(us, src, start, end);
        if (us <= MAX_US && us >= -MAX_US) return us;
      }
    }
    return parseTimestamp(src.slice(start, end));
  };
  return parseTimestamp;
}

function inferUnit(abs: number): 's' | 'ms' | 'us' | 'ns' {
  return abs < EPOCH_THRESHOLDS.s ? 's' : abs < EPOCH_THRESHOLDS.ms ? 'ms' : abs < EPOCH_THRESHOLDS.us ? 'us' : 'ns';
}

const EPOCH_RE = /^([+-])?(?:(\d+)(?:\.(\d*))?|\.(?=\d)(\d+))(?:[eE]([+-]?\d+))?$/;

/** Exact decimal -> µs (floored): the digits are shifted by `exp` as text, never through a float. */
function decimalToMicros(neg: boolean, int: string, frac: string, exp: number): number {
  const all = int + frac;
  const point = int.length + exp;
  let whole: string;
  let rest: string;
  if (point <= 0) {
    whole = '';
    rest = all;
  } else if (point >= all.length) {
    whole = all + '0'.repeat(Math.min(point - all.length, 30));
    rest = '';
  } else {
    whole = all.slice(0, point);
    rest = all.slice(point);
  }
  const us = whole === '' ? 0 : Number(whole);
  const cut = /[1-9]/.test(rest);
  if (!neg) return us;
  return cut ? -us - 1 : us === 0 ? 0 : -us;
}

function inRange(orig: string | number, us: number): number | TimestampFailure {
  return us <= MAX_US && us >= -MAX_US ? us + 0 : outOfRange(orig); // + 0: no -0
}

function outOfRange(orig: string | number): TimestampFailure {
  return bad(orig, 'is outside the range µs timestamps hold exactly (1684-07-28 to 2255-06-05)');
}

function bad(v: string | number, what: string): TimestampFailure {
  return { reason: 'bad_timestamp', message: `ts ${show(v)} ${what}` };
}

function show(v: string | number): string {
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
}

// parseIso's side results: set on every call (single-threaded, and cheaper than returning an object).
let naive = false;
let why = '';

function fail(w: string): number {
  why = w;
  return NaN;
}

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1000; // NaN past the end also lands here
}

/**
 * s[a, n) as YYYY-MM-DD[(T|t| )hh:mm[:ss[(.|,)f+]]][ ][Z|z|±hh[[:]mm]] -> µs; `naive` tells whether an offset was given
 * (if not, the result is the wall time as if UTC). NaN on failure, with `why` saying what is wrong.
 */
function parseIso(s: string, a: number, n: number): number {
  const y = digit(s, a) * 1000 + digit(s, a + 1) * 100 + digit(s, a + 2) * 10 + digit(s, a + 3);
  if (n - a < 10 || y < 0 || s.charCodeAt(a + 4) !== 45 || s.charCodeAt(a + 7) !== 45) return fail('is not an ISO 8601 timestamp or an epoch number');
  const mo = digit(s, a + 5) * 10 + digit(s, a + 6);
  const d = digit(s, a + 8) * 10 + digit(s, a + 9);
  if (mo < 0 || d < 0) return fail('is not an ISO 8601 timestamp or an epoch number');
  if (mo < 1 || mo > 12) return fail(`has month ${mo}`);
  if (d < 1 || (d > DIM[mo] && !(d === 29 && mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)))) return fail(`has day ${d}, which month ${mo} of ${y} lacks`);
  let secs = daysFromCivil(y, mo, d) * 86_400;
  let micros = 0;
  let i = a + 10;
  naive = true;
  if (i === n) return secs * 1e6;
  let c = s.charCodeAt(i);
  if (c === 84 || c === 116 || c === 32) {
    const h = digit(s, i + 1) * 10 + digit(s, i + 2);
    const mi = digit(s, i + 4) * 10 + digit(s, i + 5);
    if (i + 6 > n || h < 0 || mi < 0 || s.charCodeAt(i + 3) !== 58) return fail('has no valid time of day (hh:mm[:ss])');
    if (h > 23 || mi > 59) return fail(`has time ${s.slice(i + 1, i + 6)} out of range`);
    secs += h * 3600 + mi * 60;
    i += 6;
    if (i < n && s.charCodeAt(i) === 58) {
      const sec = digit(s, i + 1) * 10 + digit(s, i + 2);
      if (i + 3 > n || sec < 0) return fail('has no valid seconds');
      if (sec > 59) return fail(`has second ${sec} (leap seconds are not supported)`);
      secs += sec;
      i += 3;
      c = s.charCodeAt(i);
      if (i < n && (c === 46 || c === 44)) {
        const start = ++i;
        let scale = 100_000;
        for (; i < n; i++) {
          const dg = s.charCodeAt(i) - 48;
          if (dg < 0 || dg > 9) break;
          micros += dg * scale;
          scale = Math.floor(scale / 10); // becomes 0 after µs: further digits are truncated
        }
        if (i === start) return fail('has a decimal point without fraction digits');
      }
    }
  }
  if (i === n) return secs * 1e6 + micros;
  c = s.charCodeAt(i);
  if (c === 32 && i + 1 < n) c = s.charCodeAt(++i); // "2024-01-01 00:00:00 +01:00"
  if ((c === 90 || c === 122) && i + 1 === n) {
    naive = false;
    return secs * 1e6 + micros;
  }
  if (c === 43 || c === 45) {
    const oh = digit(s, i + 1) * 10 + digit(s, i + 2);
    let om = 0;
    let j = i + 3;
    if (j < n) {
      if (s.charCodeAt(j) === 58) j++;
      om = digit(s, j) * 10 + digit(s, j + 1);
      j += 2;
    }
    if (oh < 0 || om < 0 || j !== n) return fail(`has an offset ${JSON.stringify(s.slice(i, n))} that is not ±hh[:mm]`);
    if (oh > 23 || om > 59) return fail(`has an offset ${s.slice(i, n)} out of range`);
    naive = false;
    const off = (oh * 3600 + om * 60) * (c === 45 ? -1 : 1);
    return (secs - off) * 1e6 + micros;
  }
  return fail(`has unexpected text ${JSON.stringify(s.slice(i, Math.min(n, i + 20)))} after the ${i > a + 10 ? 'time' : 'date'}`);
}
