// Property: whatever the options (sensor count, interval, span, seed, fault profile, format, day split), an
// independent recount of the output matches truth.json and every grid slot is accounted for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { simulate } from '../../src/sim/simulate.js';
import type { Truth } from '../../src/sim/truth.js';
import { tempDir } from '../helpers.js';
import { assertGridAccounted, assertMatchesTruth } from './assert-truth.js';
import { recountCsv, recountInflux, recountJsonl, recountPi, recountWide } from './recount-text.js';

const RECOUNT = { csv: recountCsv, jsonl: recountJsonl, 'wide-csv': recountWide, influx: recountInflux, 'pi-json': recountPi } as const;

test('recounts match truth.json for arbitrary options', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        format: fc.constantFrom(...(Object.keys(RECOUNT) as (keyof typeof RECOUNT)[])),
        sensors: fc.integer({ min: 1, max: 20 }),
        interval: fc.constantFrom(250, 1000, 7000, 60_000),
        steps: fc.integer({ min: 1, max: 6000 }),
        startMinute: fc.integer({ min: 0, max: 2 * 24 * 60 }),
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        faults: fc.constantFrom('none', 'default', 'heavy'),
        split: fc.constantFrom('none', 'day'),
      }),
      async (o) => {
        const { dir, cleanup } = tempDir('sim-prop-');
        try {
          const from = Date.parse('2024-01-06T00:00:00Z') + o.startMinute * 60_000;
          // Keep each case small: at most ~40k readings.
          const steps = Math.min(o.steps, Math.floor(40_000 / o.sensors));
          await simulate({ out: dir, format: o.format, sensors: o.sensors, interval: o.interval, from: new Date(from), to: new Date(from + steps * o.interval), seed: o.seed, faults: o.faults as 'none', split: o.split as 'none' });
          const truth = JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8')) as Truth;
          assertMatchesTruth(truth, RECOUNT[o.format](dir));
          assertGridAccounted(truth);
          if (o.faults === 'none') assert.equal(truth.faults.length, 0);
        } finally {
          cleanup();
        }
      },
    ),
    { numRuns: 40, seed: 20240601 },
  );
});
