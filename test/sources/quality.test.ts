// quality.ts: words, OPC UA StatusCodes in decimal or hex kept whole, signed Int32 input, the user map, and rejects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BAD, GOOD, makeQualityParser, qualityClass, UNCERTAIN } from '../../src/sources/quality.js';

test('built-in words, any case, with blanks around', () => {
  const q = makeQualityParser();
  assert.deepEqual(['good', 'GOOD', ' ok ', 'Uncertain', 'questionable', 'Bad'].map(q), [GOOD, GOOD, GOOD, UNCERTAIN, UNCERTAIN, BAD]);
  assert.equal(BAD, 0x80000000);
  assert.equal(UNCERTAIN, 0x40000000);
});

test('numeric StatusCodes, decimal or hex, are kept whole and classed by their top bits', () => {
  const q = makeQualityParser();
  assert.equal(q('0x80320000'), 0x80320000);
  assert.equal(q('0X40000000'), UNCERTAIN);
  assert.equal(q('0x00000000'), GOOD);
  assert.equal(q('192'), 192);
  assert.equal(q(0xc0000000), 0xc0000000);
  assert.equal(q(-0x80000000), BAD); // an Int32 column gives the signed bits
  assert.equal(q(-1), 0xffffffff);
  assert.equal(qualityClass(0x80320000), 'bad');
  assert.equal(qualityClass(0xc0000000), 'bad');
  assert.equal(qualityClass(0x408f0000), 'uncertain');
  assert.equal(qualityClass(192), 'good');
});

test('the user map wins over built-ins and numbers, keys case-insensitive', () => {
  const q = makeQualityParser({ map: { '192': 'good', '0': 'bad', Sub: 'uncertain', OK: 'bad' } });
  assert.equal(q('192'), GOOD);
  assert.equal(q(0), BAD);
  assert.equal(q('0'), BAD);
  assert.equal(q('sub'), UNCERTAIN);
  assert.equal(q('ok'), BAD);
  assert.equal(q('good'), GOOD);
});

test('unknown flags are null (a bad_quality reject); repeated lookups stay right', () => {
  const q = makeQualityParser();
  for (const s of ['??', 'q=0xFF', 'unknown', '0x1FFFFFFFF', '-5', '1.5', '']) assert.equal(q(s), null, s);
  assert.equal(q(1.5), null);
  assert.equal(q(2 ** 32), null);
  assert.equal(q('??'), null);
  assert.equal(q('good'), GOOD);
  assert.equal(q('good'), GOOD);
});
