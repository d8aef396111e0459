// truth.json against the data: each text format is recounted by an independent parser and must match the expected
// counts to the record, every malformed fault must sit where truth.json says, and no reading may be unaccounted for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { simulate, type SimulateOptions } from '../../src/sim/simulate.js';
import type { Truth } from '../../src/sim/truth.js';
import { tempDir } from '../helpers.js';
import { recountCsv, recountInflux, recountJsonl, recountPi, recountWide } from './recount-text.js';
import { assertGridAccounted, assertMatchesTruth } from './assert-truth.js';

const RECOUNT = { csv: recountCsv, jsonl: recountJsonl, 'wide-csv': recountWide, influx: recountInflux, 'pi-json': recountPi } as const;

async function run(opts: Partial<SimulateOptions>): Promise<{ dir: string; truth: Truth; cleanup: () => void }> {
  const { dir, cleanup } = tempDir('sim-truth-');
  await simulate({ out: dir, sensors: 24, from: '2024-03-04T05:00:00Z', to: '2024-03-04T07:00:00Z', seed: 7, faults: 'heavy', ...opts });
  return { dir, truth: JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8')) as Truth, cleanup };
}

for (const format of Object.keys(RECOUNT) as (keyof typeof RECOUNT)[]) {
  test(`${format}: an independent recount matches truth.json`, async () => {
    const { dir, truth, cleanup } = await run({ format });
    try {
      const t = RECOUNT[format](dir);
      assertMatchesTruth(truth, t);
      assertGridAccounted(truth);
      assert.ok(truth.expected.malformedTotal >= truth.conventions.length, 'heavy faults inject malformed records');
      assert.ok(truth.expected.exactDuplicates > 0 && truth.expected.conflictingDuplicates > 0 && truth.expected.late > 0 && truth.expected.outOfRange > 0);
      const perFile = truth.files.reduce((n, f) => n + f.records, 0);
      assert.equal(perFile, truth.expected.records, 'files[].records add up to the records');
    } finally {
      cleanup();
    }
  });
}

test('csv split by day and gzipped: one file per UTC day, same counts as the recount', async () => {
  const { dir, truth, cleanup } = await run({ format: 'csv', from: '2024-03-04T22:30:00Z', to: '2024-03-05T01:30:00Z', split: 'day', gzip: true, faults: 'default' });
  try {
    assert.deepEqual(truth.files.map((f) => f.path), ['readings-2024-03-04.csv.gz', 'readings-2024-03-05.csv.gz']);
    assertMatchesTruth(truth, recountCsv(dir));
    assertGridAccounted(truth);
  } finally {
    cleanup();
  }
});

test('pi-json split by day: a file per sensor and day, late blocks stay in their day', async () => {
  const { dir, truth, cleanup } = await run({ format: 'pi-json', sensors: 6, from: '2024-03-04T23:00:00Z', to: '2024-03-05T01:00:00Z', split: 'day' });
  try {
    assert.equal(truth.files.length, 12);
    assert.ok(truth.files.every((f) => /^plant1_line1_pump1_[a-z_]+\.2024-03-0[45]\.json$/.test(f.path)), truth.files.map((f) => f.path).join());
    assertMatchesTruth(truth, recountPi(dir));
  } finally {
    cleanup();
  }
});
