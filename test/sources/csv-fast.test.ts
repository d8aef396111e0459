// The narrow CSV reader's speed paths give what the plain text path gives: the byte path (csv-bytes.ts) on random
// lines of every shape, and a large file parsed in byte ranges on several workers (line numbers, rejects, bytes),
// also when a cut falls inside a quoted field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { readCsv, type CsvReadOptions } from '../../src/sources/csv.js';
import { readSourceInWorker } from '../../src/sources/worker.js';
import type { SourceConfig } from '../../src/sources/options.js';
import { tempDir } from '../helpers.js';
import { collect, memoryInput, type Collected } from './input-helper.js';

const field = {
  ts: fc.constantFrom('2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', '2024-01-01T00:00:01.5Z', '2024-03-31T02:30:00', '2024-01-01 00:00:02+01:00', '1704067200', 'N/A', '', ' 2024-01-01T00:00:03Z'),
  id: fc.constantFrom('p1/temp', 'p1/temp', 'p2/flow', 'é/😀', ' ', '', ' p3', 'p4 '),
  value: fc.constantFrom('21.5', '-3', '0', '-0', '5.', '.5', '1e3', '1,5', 'NaN', 'inf', '', ' 7', 'RUNNING', '1234567890123456', '0x1F', '00012.50'),
  quality: fc.constantFrom('good', 'good', 'bad', 'uncertain', '', 'GOOD', '192', 'q=1', ' '),
};
const line = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(field.ts, field.id, field.value, field.quality).map((f) => f.join(',')) },
  { weight: 1, arbitrary: fc.tuple(field.ts, field.id, field.value).map((f) => f.join(',')) },
  { weight: 1, arbitrary: fc.tuple(field.ts, field.id, field.value, field.quality, field.quality).map((f) => f.join(',')) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '\r') },
);

/** The rows, rejects and counts of everything read, without how chunks were cut. */
function outcome(c: Collected): unknown {
  return { rows: c.rows, rejects: c.rejects.map((r) => [r.reason, r.location, r.raw, r.message]), recordsRead: c.recordsRead, dst: c.dst };
}

test('the byte path reads every line as the text path does', async () => {
  const opts: CsvReadOptions = { time: { zone: 'Europe/Berlin' } };
  await fc.assert(
    fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 60 }), fc.boolean(), fc.integer({ min: 1, max: 200 }), async (lines, crlf, chunk) => {
      const text = ['ts,sensor_id,value,quality', ...lines].join(crlf ? '\r\n' : '\n') + '\n';
      const fast = await collect(readCsv(memoryInput(text, { file: 'f.csv', chunk }), opts));
      // A quote anywhere in a block sends the whole block down the text path: one more line, one more reject.
      const slow = await collect(readCsv(memoryInput(text + '"x"\n', { file: 'f.csv' }), opts));
      assert.equal(slow.rejects.pop()?.reason, 'malformed_record');
      slow.recordsRead--;
      assert.deepEqual(outcome(fast), outcome(slow));
    }),
    { numRuns: 300 },
  );
});

function plant(rows: number, extra: (i: number) => string | null): string {
  const out: string[] = [];
  for (let i = 0; i < rows; i++) {
    out.push(extra(i) ?? `2024-01-01T00:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z,s${i % 7},${(i % 1000) / 10},good`);
  }
  return out.join('\n') + '\n';
}

async function both(file: string, config: SourceConfig, parallel: number): Promise<[Collected, Collected]> {
  const whole = await collect(readSourceInWorker(file, 'csv', config, { parallel: 1 }));
  const split = await collect(readSourceInWorker(file, 'csv', config, { parallel, splitMinBytes: 1 }));
  return [whole, split];
}

test('a file parsed in byte ranges on several workers gives the rows, rejects and line numbers of one worker', async () => {
  const t = tempDir('csv-split-');
  try {
    const bad = (i: number): string | null => (i % 997 === 5 ? `N/A,s1,1,good` : i % 1009 === 7 ? `2024-01-01T00:00:00Z,s1,1` : i % 1013 === 9 ? '' : null);
    const cases: [string, string, SourceConfig][] = [
      ['plain.csv', '\n \nts,sensor_id,value,quality\r\n' + plant(20_000, bad), {}],
      ['bom.csv', '\ufeffts,sensor_id,value,quality\n' + plant(5_000, bad), { batchRows: 999 }],
      ['headerless.csv', plant(8_000, bad), { csv: { header: false } }],
    ];
    for (const [name, text, config] of cases) {
      const file = path.join(t.dir, name);
      writeFileSync(file, text);
      for (const parallel of [2, 3, 5]) {
        const [whole, split] = await both(file, config, parallel);
        assert.deepEqual(outcome(split), outcome(whole), `${name}, ${parallel} ranges`);
        assert.ok(whole.rejects.length > 10);
        assert.equal(split.chunks.at(-1)!.bytesRead, Buffer.byteLength(text));
        const progress = split.chunks.map((c) => c.bytesRead);
        assert.deepEqual(progress, [...progress].sort((a, b) => a - b), 'progress never goes back');
      }
    }
  } finally {
    t.cleanup();
  }
});

test('a cut inside a quoted field: the range before it reads on, the ranges after it are dropped', async () => {
  const t = tempDir('csv-split-');
  try {
    // The middle of the file is one quoted value_text spanning thousands of lines, so every cut lands inside it.
    const quoted = '"' + Array.from({ length: 4000 }, (_, i) => `part ${i}, ""still"" quoted`).join('\n') + '"';
    const text = 'ts,sensor_id,value,quality,value_text\n' + plant(300, () => null).replace(/good\n/g, 'good,\n') + `2024-01-01T01:00:00Z,s9,,good,${quoted}\n` + plant(300, () => null).replace(/good\n/g, 'good,\n');
    const file = path.join(t.dir, 'q.csv');
    writeFileSync(file, text);
    for (const parallel of [2, 4]) {
      const [whole, split] = await both(file, {}, parallel);
      assert.deepEqual(outcome(split), outcome(whole));
      assert.equal(whole.rows.length, 601);
      assert.equal(whole.rows[300].value_text?.split('\n').length, 4000);
      assert.equal(whole.rows[301].location, 4302);
    }
  } finally {
    t.cleanup();
  }
});
