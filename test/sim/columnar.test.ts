// Parquet and Avro output read by independent readers: pyarrow for Parquet, a stdlib Python Object Container File
// decoder and avsc's own file decoder for Avro. Their recounts must match truth.json to the record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import avro from 'avsc';
import { simulate } from '../../src/sim/simulate.js';
import type { Truth } from '../../src/sim/truth.js';
import { tempDir } from '../helpers.js';
import { pyRecount, type PyRecount } from './py-recount.js';
import { readSensors, Tally } from './tally.js';
import { assertMatchesTruth } from './assert-truth.js';

/** Puts Python's recount into a Tally, so both go through the same comparison with truth.json. */
function asTally(dir: string, r: PyRecount): Tally {
  const t = new Tally(readSensors(dir));
  Object.assign(t.c, r.counts);
  for (const [k, v] of Object.entries(r.rejects)) t.rejects.set(k, [v]);
  return t;
}

async function run(format: 'parquet' | 'avro', gzip = false): Promise<{ dir: string; truth: Truth; cleanup: () => void }> {
  const { dir, cleanup } = tempDir(`sim-${format}-`);
  await simulate({ out: dir, format, gzip, sensors: 20, from: '2024-06-01T00:00:00Z', to: '2024-06-01T02:00:00Z', seed: 11, faults: 'heavy' });
  return { dir, truth: JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8')) as Truth, cleanup };
}

test('parquet: pyarrow reads it, ts is TIMESTAMP(µs, UTC), and its recount matches truth.json', async () => {
  const { dir, truth, cleanup } = await run('parquet');
  try {
    const r = pyRecount(dir);
    assert.equal(r.info.tsArrowType, 'timestamp[us, tz=UTC]');
    assert.match(String(r.info.tsLogicalType), /Timestamp\(isAdjustedToUTC=true, timeUnit=microseconds/);
    assert.equal(r.info.rows, truth.expected.records);
    assertMatchesTruth(truth, asTally(dir, r));
    assert.deepEqual(Object.keys(truth.expected.malformed).sort(), ['bad_quality', 'bad_timestamp', 'bad_value', 'missing_sensor_id', 'non_finite', 'type_mismatch']);
  } finally {
    cleanup();
  }
});

test('avro: a stdlib OCF decoder and avsc both read it, ts is timestamp-micros, recounts match truth.json', async () => {
  const { dir, truth, cleanup } = await run('avro', true);
  try {
    const r = pyRecount(dir);
    assert.deepEqual(r.info.tsAvroType, { type: 'long', logicalType: 'timestamp-micros' });
    assertMatchesTruth(truth, asTally(dir, r));
    // avsc's reader, fed the gunzipped bytes through a decoder stream, gives the same counts through the JS tally.
    const t = new Tally(readSensors(dir));
    const file = truth.files[0].path;
    const decoder = new avro.streams.BlockDecoder();
    const { gunzipSync } = await import('node:zlib');
    decoder.end(gunzipSync(readFileSync(path.join(dir, file))));
    let k = 0;
    for await (const rec of decoder as AsyncIterable<{ ts: number | null; sensor_id: string | null; value: number | null; value_text: string | null; quality: string | null }>) {
      const ts = rec.ts === null ? null : new Date(rec.ts / 1000).toISOString();
      t.record(file.replace(/\.gz$/, '') + '.gz', k++, { ts, id: rec.sensor_id, value: rec.value ?? rec.value_text, quality: rec.quality });
    }
    assertMatchesTruth(truth, t);
    assert.equal(t.digest(), r.info.digest, 'avsc and the stdlib decoder read the same readings');
  } finally {
    cleanup();
  }
});
