// Reading values written as text (CSV cells, JSON strings, line protocol fields) -> a number, a text reading, or why
// neither. Shared by the text sources; the backfill later decides whether a text is a valid state or a type mismatch.

export interface ValueFailure {
  reason: 'bad_value' | 'non_finite';
  message: string;
}

/** A number; a string (text reading, trimmed) for value_text; or a failure. `span` reads src[start, end) in place. */
export type ValueParser = ((s: string) => number | string | ValueFailure) & {
  span(src: string, start: number, end: number): number | string | ValueFailure;
};
// Exact powers of ten: m / 10^k is then correctly rounded (m < 2^53, k <= 22), the same double Number() gives.
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;
// Decimal only: Number() would also take hex, binary and octal ("0x1F"), which no historian means as a value.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * `decimal` ',' reads "23,5" as 23.5; with either separator there is no thousands separator ("1.234,5" is text).
 * Empty or blank is 'bad_value' ("missing value"); NaN, Inf, Infinity in any case and sign are 'non_finite'.
 */
export function makeValueParser(decimal: '.' | ',' = '.'): ValueParser {
  const comma = decimal === ',';
  const mark = comma ? 44 : 46;
  function parseValue(s: string): number | string | ValueFailure {
    // Fast path: Number() is exact and quick; the checks after it only rule out what it accepts too liberally.
    const c = s.charCodeAt(0);
    if ((c >= 48 && c <= 57) || c === 45) {
      const n = comma ? (s.indexOf('.') >= 0 ? NaN : Number(s.replace(',', '.'))) : Number(s);
      const x = s.charCodeAt(1); // 0x.., 0b.., 0o..: Number() reads them, we do not
      if (n === n && n !== Infinity && n !== -Infinity && x !== 120 && x !== 98 && x !== 111) return n;
    }
    return slow(s, comma);
  }
  // Plain decimals of up to 15 digits (nearly every sensor value) are read digit by digit, with no substring.
  parseValue.span = function parseSpan(src: string, start: number, end: number): number | string | ValueFailure {
    let i = start;
    const neg = src.charCodeAt(i) === 45;
    if (neg) i++;
    let m = 0;
    let digits = 0;
    let point = -1;
    for (; i < end; i++) {
      const c = src.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        digits++;
      } else if (c === mark && point < 0) point = i;
      else break;
    }
    if (i === end && digits > 0 && digits <= 15) {
      const v = point < 0 ? m : m / POW10[end - point - 1];
      return neg ? -v : v;
    }
    return parseValue(src.slice(start, end));
  };
  return parseValue;
}

function slow(s: string, comma: boolean): number | string | ValueFailure {
  let t = s.trim();
  if (t === '') return { reason: 'bad_value', message: 'missing value' };
  if (comma && t.indexOf(',') >= 0) {
    if (t.indexOf('.') >= 0) return t; // "1.234,5": a thousands separator, not a number we read
    t = t.replace(',', '.');
  } else if (comma && t.indexOf('.') >= 0 && DECIMAL.test(t)) return t; // '.' is not the decimal mark here
  if (DECIMAL.test(t)) {
    const n = Number(t);
    if (Number.isFinite(n)) return n;
    return { reason: 'non_finite', message: `${show(s)} overflows a double` };
  }
  if (NON_FINITE.test(t)) return { reason: 'non_finite', message: `${show(s)} is not a finite number` };
  return s.trim();
}

function show(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}
