// values.ts: decimal '.' or ',', non-finite words, missing values, text readings, and the in-place span parser
// agreeing with Number() on every double.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeValueParser } from '../../src/sources/values.js';

const dot = makeValueParser('.');
const comma = makeValueParser(',');

test('numbers with a decimal point, signs, exponents and surrounding blanks', () => {
  assert.equal(dot('23.5'), 23.5);
  assert.equal(dot('-0.25'), -0.25);
  assert.equal(dot('+7'), 7);
  assert.equal(dot('-1e3'), -1000);
  assert.equal(dot('.5'), 0.5);
  assert.equal(dot(' 12 '), 12);
  assert.equal(dot('12.'), 12);
});

test('decimal comma: "23,5" is 23.5; a point or thousands separator makes it text', () => {
  assert.equal(comma('23,5'), 23.5);
  assert.equal(comma('-0,125'), -0.125);
  assert.equal(comma('42'), 42);
  assert.equal(comma('1.234,5'), '1.234,5');
  assert.equal(comma('23.5'), '23.5');
  assert.equal(dot('23,5'), '23,5');
  assert.equal(comma.span('x;23,5;y', 2, 6), 23.5);
  assert.equal(comma.span('x;23.5;y', 2, 6), '23.5');
});

test('empty is bad_value "missing value"; NaN and infinities are non_finite', () => {
  assert.deepEqual(dot(''), { reason: 'bad_value', message: 'missing value' });
  assert.deepEqual(dot('   '), { reason: 'bad_value', message: 'missing value' });
  for (const s of ['NaN', 'nan', '-NaN', 'Inf', '-inf', 'Infinity', '+INFINITY', '-Infinity', '1e999']) {
    const r = dot(s);
    assert.equal(typeof r, 'object', s);
    assert.equal((r as { reason: string }).reason, 'non_finite', s);
    assert.match((r as { message: string }).message, /finite|overflows/, s);
  }
});

test('anything else is a text reading, trimmed; hex and binary literals are text too', () => {
  assert.equal(dot('RUNNING'), 'RUNNING');
  assert.equal(dot(' I/O Timeout '), 'I/O Timeout');
  assert.equal(dot('0x1F'), '0x1F');
  assert.equal(dot('0b101'), '0b101');
  assert.equal(dot('12abc'), '12abc');
  assert.equal(dot('1_000'), '1_000');
});

test('property: the span parser equals Number() on shortest and fixed renderings of any double', () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 9 }), (v, d) => {
      for (const s of [String(v), Math.abs(v) < 1e15 ? v.toFixed(d) : String(v)]) {
        const src = `ab,${s},cd`;
        assert.equal(dot.span(src, 3, 3 + s.length), Number(s), s);
        assert.equal(dot(s), Number(s), s);
      }
    }),
    { numRuns: 3000 },
  );
});
