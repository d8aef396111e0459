// Same seed, same bytes; another seed, other data; and every format of one seed carries the same readings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { simulate, type SimulateOptions } from '../../src/sim/simulate.js';
import { FORMATS, type SourceFormat } from '../../src/sources/options.js';
import { tempDir } from '../helpers.js';
import { pyRecount } from './py-recount.js';
import { recountCsv, recountInflux, recountJsonl, recountPi, recountWide } from './recount-text.js';

const BASE = { sensors: 14, from: '2024-02-10T07:00:00Z', to: '2024-02-10T07:40:00Z', faults: 'default' } as const;

function hashes(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex')]));
}

async function runIn(opts: Omit<SimulateOptions, 'out'>): Promise<{ dir: string; cleanup: () => void }> {
  const t = tempDir('sim-det-');
  await simulate({ out: t.dir, ...opts });
  return t;
}

for (const format of FORMATS) {
  test(`${format}: the same seed gives byte-identical files, another seed different data`, async () => {
    const a = await runIn({ ...BASE, format, seed: 5 });
    const b = await runIn({ ...BASE, format, seed: 5 });
    const c = await runIn({ ...BASE, format, seed: 6 });
    try {
      const ha = hashes(a.dir);
      assert.ok(Object.keys(ha).length >= 3, 'data, sensors.csv and truth.json');
      assert.deepEqual(hashes(b.dir), ha);
      const hc = hashes(c.dir);
      assert.equal(hc['sensors.csv'], ha['sensors.csv'], 'sensor ids do not depend on the seed');
      const data = Object.keys(ha).filter((f) => f !== 'sensors.csv' && f !== 'truth.json');
      assert.ok(data.every((f) => hc[f] !== undefined && hc[f] !== ha[f]), 'every data file differs for another seed');
    } finally {
      for (const x of [a, b, c]) x.cleanup();
    }
  });
}

test('gzip changes only the encoding: the gunzipped CSV equals the plain one', async () => {
  const plain = await runIn({ ...BASE, format: 'csv', seed: 9 });
  const gz = await runIn({ ...BASE, format: 'csv', seed: 9, gzip: true });
  try {
    assert.deepEqual(gunzipSync(readFileSync(path.join(gz.dir, 'readings.csv.gz'))), readFileSync(path.join(plain.dir, 'readings.csv')));
  } finally {
    plain.cleanup();
    gz.cleanup();
  }
});

test('without faults, every format of one seed holds the same readings', async () => {
  const recount: Record<SourceFormat, (dir: string) => string> = {
    csv: (d) => recountCsv(d).digest(),
    jsonl: (d) => recountJsonl(d).digest(),
    'wide-csv': (d) => recountWide(d).digest(),
    influx: (d) => recountInflux(d).digest(),
    'pi-json': (d) => recountPi(d).digest(),
    parquet: (d) => pyRecount(d).info.digest,
    avro: (d) => pyRecount(d).info.digest,
  };
  const digests: Record<string, string> = {};
  for (const format of FORMATS) {
    const r = await runIn({ ...BASE, format, seed: 21, faults: 'none' });
    try {
      digests[format] = recount[format](r.dir);
    } finally {
      r.cleanup();
    }
  }
  assert.equal(new Set(Object.values(digests)).size, 1, JSON.stringify(digests, null, 1));
});
