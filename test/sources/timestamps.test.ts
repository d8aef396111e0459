// timestamps.ts: ISO 8601 with offsets and fractions, naive local times through the DST rules, epoch numbers in
// every unit (exact ns, negatives), format restrictions, and round trips against Date/Intl as references.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../src/errors.js';
import type { TimeOptions } from '../../src/sources/batch.js';
import { makeTimestampParser, type TimestampFailure } from '../../src/sources/timestamps.js';

const Z = (iso: string, extra = 0) => Date.parse(iso) * 1000 + extra;

function parse(v: string | number, opts: TimeOptions = {}): number | TimestampFailure {
  return makeTimestampParser(opts)(v);
}

function failure(v: string | number, opts: TimeOptions = {}): TimestampFailure {
  const r = parse(v, opts);
  assert.equal(typeof r, 'object', `expected a failure for ${v}, got ${String(r)}`);
  return r as TimestampFailure;
}

test('ISO 8601 with Z, offsets, T or space, and fractions truncated to µs (floor)', () => {
  assert.equal(parse('2024-03-10T02:30:00.123456+01:00'), Z('2024-03-10T01:30:00.123Z', 456));
  assert.equal(parse('2024-01-01T00:00:00Z'), Z('2024-01-01T00:00:00Z'));
  assert.equal(parse('2024-01-01 00:00:00z'), Z('2024-01-01T00:00:00Z'));
  assert.equal(parse('2024-01-01T05:30:00+0530'), Z('2024-01-01T00:00:00Z'));
  assert.equal(parse('2024-01-01T05:00:00+05'), Z('2024-01-01T00:00:00Z'));
  assert.equal(parse('2023-12-31T20:30:00-03:30'), Z('2024-01-01T00:00:00Z'));
  assert.equal(parse('2024-01-01 01:00:00 +01:00'), Z('2024-01-01T00:00:00Z'));
  assert.equal(parse('2024-01-01T10:15Z'), Z('2024-01-01T10:15:00Z'));
  assert.equal(parse('2024-01-01T00:00:00.5Z'), Z('2024-01-01T00:00:00.500Z'));
  assert.equal(parse('2024-01-01T00:00:00,25Z'), Z('2024-01-01T00:00:00.250Z'));
  assert.equal(parse('2024-01-01T00:00:00.123456789Z'), Z('2024-01-01T00:00:00.123Z', 456));
  assert.equal(parse(' 2024-01-01T00:00:00Z '), Z('2024-01-01T00:00:00Z'));
  assert.equal(parse('2024-02-29T00:00:00Z'), Z('2024-02-29T00:00:00Z'));
});

test('instants before 1970 and truncation floors them', () => {
  assert.equal(parse('1969-12-31T23:59:59.999999Z'), -1);
  assert.equal(parse('1969-12-31T23:59:59.9999999Z'), -1);
  assert.equal(parse('1900-01-01T00:00:00Z'), -2_208_988_800_000_000);
  assert.equal(parse('1970-01-01T00:00:00.0000009Z'), 0);
});

test('malformed ISO text is bad_timestamp with the value and what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['2024-13-45T25:61:00Z', /"2024-13-45T25:61:00Z" has month 13/],
    ['2023-02-29T00:00:00Z', /has day 29, which month 2 of 2023 lacks/],
    ['2024-01-01T24:00:00Z', /out of range/],
    ['2024-01-01T23:59:60Z', /leap second/],
    ['2024-01-01T00:00:00.Z', /decimal point/],
    ['2024-01-01T00:00:00+1', /offset/],
    ['2024-01-01T00:00:00Zjunk', /unexpected text/],
    ['N/A', /"N\/A" is not an ISO 8601 timestamp or an epoch number/],
    ['', /is not an ISO 8601/],
    ['yesterday 14:00', /is not an ISO 8601/],
    ['9999-01-01T00:00:00Z', /outside the range/],
  ];
  for (const [s, re] of cases) {
    const f = failure(s);
    assert.equal(f.reason, 'bad_timestamp', s);
    assert.match(f.message, re, s);
    assert.ok(f.message.startsWith('ts '), f.message);
  }
});

test('a naive time without a zone is bad_timestamp naming time.zone; UTC as zone takes it as is', () => {
  assert.match(failure('2024-01-01T00:00:00').message, /no UTC offset; set time.zone/);
  assert.equal(parse('2024-01-01T00:00:00', { zone: 'UTC' }), Z('2024-01-01T00:00:00Z'));
  assert.equal(parse('2024-01-01', { zone: 'Etc/UTC' }), Z('2024-01-01T00:00:00Z'));
  assert.throws(() => makeTimestampParser({ zone: 'Mars/Olympus' }), InvalidArgumentError);
});

interface DstCase {
  zone: string;
  local: string;
  expect: Record<string, number | string>; // rule -> µs or the reject reason
  kind: 'ambiguous' | 'nonexistent' | null;
}

const DST: DstCase[] = [
  // Berlin: clocks go 02:00 CET -> 03:00 CEST on 2024-03-31, and 03:00 CEST -> 02:00 CET on 2024-10-27.
  { zone: 'Europe/Berlin', local: '2024-03-31T02:30:00', kind: 'nonexistent', expect: { 'shift-forward': Z('2024-03-31T01:30:00Z'), reject: 'nonexistent_local_time' } },
  { zone: 'Europe/Berlin', local: '2024-03-31T01:59:59', kind: null, expect: { 'shift-forward': Z('2024-03-31T00:59:59Z') } },
  { zone: 'Europe/Berlin', local: '2024-03-31T03:00:00', kind: null, expect: { 'shift-forward': Z('2024-03-31T01:00:00Z') } },
  { zone: 'Europe/Berlin', local: '2024-10-27T02:30:00.123456', kind: 'ambiguous', expect: { earlier: Z('2024-10-27T00:30:00.123Z', 456), later: Z('2024-10-27T01:30:00.123Z', 456), reject: 'ambiguous_local_time' } },
  { zone: 'Europe/Berlin', local: '2024-10-27T02:00:00', kind: 'ambiguous', expect: { earlier: Z('2024-10-27T00:00:00Z'), later: Z('2024-10-27T01:00:00Z') } },
  { zone: 'Europe/Berlin', local: '2024-10-27T03:00:00', kind: null, expect: { earlier: Z('2024-10-27T02:00:00Z'), later: Z('2024-10-27T02:00:00Z') } },
  { zone: 'Europe/Berlin', local: '2024-10-27T01:59:59', kind: null, expect: { earlier: Z('2024-10-26T23:59:59Z') } },
  { zone: 'Europe/Berlin', local: '2024-07-01T12:00:00', kind: null, expect: { earlier: Z('2024-07-01T10:00:00Z') } },
  // New York: 02:00 EST -> 03:00 EDT on 2024-03-10, 02:00 EDT -> 01:00 EST on 2024-11-03.
  { zone: 'America/New_York', local: '2024-03-10T02:30:00', kind: 'nonexistent', expect: { 'shift-forward': Z('2024-03-10T07:30:00Z'), reject: 'nonexistent_local_time' } },
  { zone: 'America/New_York', local: '2024-11-03T01:30:00', kind: 'ambiguous', expect: { earlier: Z('2024-11-03T05:30:00Z'), later: Z('2024-11-03T06:30:00Z'), reject: 'ambiguous_local_time' } },
  { zone: 'America/New_York', local: '2024-01-15 12:00:00', kind: null, expect: { earlier: Z('2024-01-15T17:00:00Z') } },
  { zone: 'America/New_York', local: '1960-06-01T12:00:00', kind: null, expect: { earlier: Z('1960-06-01T16:00:00Z') } },
];

test('naive local times across both DST transitions, each rule, with DST counts', () => {
  for (const c of DST) {
    for (const [rule, want] of Object.entries(c.expect)) {
      const counted: string[] = [];
      const opts: TimeOptions = { zone: c.zone, ...(c.kind === 'nonexistent' || rule === 'shift-forward' ? { nonexistent: rule as 'shift-forward' | 'reject' } : { ambiguous: rule as 'earlier' | 'later' | 'reject' }) };
      const p = makeTimestampParser(opts, (k) => counted.push(k));
      const got = p(c.local);
      const label = `${c.zone} ${c.local} ${rule}`;
      if (typeof want === 'number') {
        assert.equal(got, want, label);
        assert.deepEqual(counted, c.kind ? [c.kind] : [], label);
      } else {
        assert.equal((got as TimestampFailure).reason, want, label);
        assert.match((got as TimestampFailure).message, new RegExp(c.zone), label);
        assert.deepEqual(counted, [], label);
      }
    }
  }
});

test('the defaults are earlier and shift-forward', () => {
  const counted: string[] = [];
  const p = makeTimestampParser({ zone: 'Europe/Berlin' }, (k) => counted.push(k));
  assert.equal(p('2024-10-27T02:30:00'), Z('2024-10-27T00:30:00Z'));
  assert.equal(p('2024-03-31T02:30:00'), Z('2024-03-31T01:30:00Z'));
  assert.equal(p('2024-03-31T02:30:00'), Z('2024-03-31T01:30:00Z')); // cached hour: still counted
  assert.deepEqual(counted, ['ambiguous', 'nonexistent', 'nonexistent']);
});

test('epoch numbers: unit given or inferred from magnitude, fractions, negatives, exact ns', () => {
  const base = Z('2024-01-01T00:00:00Z');
  assert.equal(parse(1704067200), base);
  assert.equal(parse(1704067200123), base + 123_000);
  assert.equal(parse(1704067200123456), base + 123_456);
  assert.equal(parse('1704067200123456789'), base + 123_456); // ns as text: no float on the way
  assert.equal(parse('1704067200123456789', { epochUnit: 'ns' }), base + 123_456);
  assert.equal(parse(1704067200.5), base + 500_000);
  assert.equal(parse(1704067200.123456), base + 123_456);
  assert.equal(parse('1704067200.123456'), base + 123_456);
  assert.equal(parse(' 1704067200 '), base);
  assert.equal(parse(-1), -1_000_000);
  assert.equal(parse('-1.5'), -1_500_000);
  assert.equal(parse(-1, { epochUnit: 'ms' }), -1000);
  assert.equal(parse('-1500', { epochUnit: 'ns' }), -2); // floor
  assert.equal(parse('-1000', { epochUnit: 'ns' }), -1);
  assert.equal(parse(-86_400, { epochUnit: 's' }), Z('1969-12-31T00:00:00Z'));
  assert.equal(parse(5, { epochUnit: 'us' }), 5);
  assert.equal(parse(1.7e9), 1_700_000_000_000_000);
  assert.equal(parse('1.7e9'), 1_700_000_000_000_000);
  assert.equal(parse(0), 0);
  assert.equal(failure(NaN).reason, 'bad_timestamp');
  assert.match(failure(1e30, { epochUnit: 's' }).message, /outside the range/);
});

test('format iso rejects numbers, epoch rejects ISO text, auto takes both', () => {
  assert.match(failure(1704067200, { format: 'iso' }).message, /is a number but time.format is iso/);
  assert.match(failure('1704067200', { format: 'iso' }).message, /epoch number but time.format is iso/);
  assert.match(failure('2024-01-01T00:00:00Z', { format: 'epoch' }).message, /not an epoch number \(time.format is epoch\)/);
  assert.equal(parse('2024-01-01T00:00:00Z', { format: 'iso' }), Z('2024-01-01T00:00:00Z'));
  assert.equal(parse('1704067200', { format: 'epoch' }), Z('2024-01-01T00:00:00Z'));
});

test('span parsing in place equals parsing the cut-out string', () => {
  const p = makeTimestampParser({ zone: 'Europe/Berlin' });
  const text = 'x,2024-01-01T00:00:00.5Z,2024-10-27T02:30:00,1704067200,N/A,2024-01-01T00:00Z,';
  const fields = text.split(',');
  let at = 0;
  for (const f of fields) {
    assert.deepEqual(p.span(text, at, at + f.length), p(f), f);
    at += f.length + 1;
  }
});

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

test('property: ISO text of any instant and offset parses back to the instant', () => {
  const lo = Date.UTC(1700, 0, 1) * 1000;
  const hi = Date.UTC(2250, 0, 1) * 1000;
  const p = makeTimestampParser();
  fc.assert(
    fc.property(fc.integer({ min: lo, max: hi }), fc.integer({ min: -14 * 60, max: 14 * 60 }), fc.constantFrom('T', ' '), (us, offMin, sep) => {
      const localUs = us + offMin * 60_000_000;
      const ms = Math.floor(localUs / 1000);
      const frac = pad(localUs - ms * 1000, 3);
      const iso = new Date(ms).toISOString().slice(0, 23).replace('T', sep);
      const off = offMin === 0 ? 'Z' : `${offMin < 0 ? '-' : '+'}${pad(Math.trunc(offMin / 60))}:${pad(offMin % 60)}`;
      assert.equal(p(`${iso}${frac}${off}`), us);
    }),
    { numRuns: 2000 },
  );
});

test('property: the wall time of an instant in a zone parses back to it (or its DST twin)', () => {
  for (const zone of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata']) {
    const fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    const wall = (ms: number) => {
      const p = Object.fromEntries(fmt.formatToParts(ms).map((x) => [x.type, x.value]));
      return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
    };
    const earlier = makeTimestampParser({ zone, ambiguous: 'earlier' });
    const later = makeTimestampParser({ zone, ambiguous: 'later' });
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1990, 0, 1) / 1000, max: Date.UTC(2040, 0, 1) / 1000 }), (sec) => {
        const w = wall(sec * 1000);
        const a = earlier(w) as number;
        const b = later(w) as number;
        assert.ok(a === sec * 1_000_000 || b === sec * 1_000_000, `${zone} ${w}: ${a} ${b} vs ${sec}`);
        assert.equal(wall(a / 1000), w);
        assert.equal(wall(b / 1000), w);
      }),
      { numRuns: 1500 },
    );
  }
});

test('property: an epoch double in s or ms means the decimal it prints as (fast path = exact text path)', () => {
  for (const epochUnit of ['s', 'ms'] as const) {
    const p = makeTimestampParser({ epochUnit });
    fc.assert(
      fc.property(fc.integer({ min: -2e15, max: 8e15 }), fc.integer({ min: 0, max: 9 }), (n, d) => {
        const v = Number((n / (epochUnit === 's' ? 1e6 : 1e3)).toFixed(d));
        assert.equal(p(v), p(String(v)), `${v}`);
      }),
      { numRuns: 3000 },
    );
  }
});
