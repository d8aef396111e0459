// _last_checkpoint is a hint: stale, missing, corrupt, or pointing at a broken checkpoint, the reader still gets the
// right rows (delta-rs issue 2258 is a crash that left exactly such a state).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync, readFileSync, truncateSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { DeltaTable, field, struct, shutdownWorkers } from '../../src/delta/table.js';
import { tempDir, readingsTable, makeReadings, rowsOf, expectedRows, JAN1, US_PER_DAY, type Reading } from '../helpers.js';

after(() => shutdownWorkers());

const schema = struct([field('ts', 'timestamp', false), field('sensor_id', 'string', false), field('value', 'double'), field('quality', 'integer', false), field('date', 'date', false)]);

async function tableWithCheckpoints(dir: string): Promise<{ t: DeltaTable; all: Reading[]; log: string }> {
  const t = await DeltaTable.create(path.join(dir, 't'), { schema, partitionColumns: ['date'], properties: { 'delta.checkpointInterval': '4' } });
  const all: Reading[] = [];
  for (let i = 0; i < 9; i++) {
    const rows = makeReadings({ days: 1, sensors: 2, perDay: 1, startUs: JAN1 + BigInt(i) * US_PER_DAY, seed: i + 3 });
    all.push(...rows);
    await t.write(readingsTable(rows));
  }
  const log = path.join(t.location, '_delta_log');
  assert.ok(existsSync(path.join(log, '00000000000000000004.checkpoint.parquet')));
  assert.ok(existsSync(path.join(log, '00000000000000000008.checkpoint.parquet')));
  return { t, all, log };
}

const cases: [string, (log: string) => void][] = [
  ['stale (names an older checkpoint)', (log) => writeFileSync(path.join(log, '_last_checkpoint'), JSON.stringify({ version: 4, size: 6 }))],
  ['missing', (log) => rmSync(path.join(log, '_last_checkpoint'))],
  ['corrupt JSON', (log) => writeFileSync(path.join(log, '_last_checkpoint'), '{"version": 8, "si')],
  ['pointing at a version with no checkpoint', (log) => writeFileSync(path.join(log, '_last_checkpoint'), JSON.stringify({ version: 6, size: 6 }))],
  [
    'pointing at a truncated checkpoint',
    (log) => {
      const cp = path.join(log, '00000000000000000008.checkpoint.parquet');
      truncateSync(cp, Math.floor(readFileSync(cp).length / 2));
    },
  ],
  [
    'pointing at a truncated checkpoint whose older JSON commits are gone',
    (log) => {
      const cp = path.join(log, '00000000000000000008.checkpoint.parquet');
      truncateSync(cp, 100);
      for (let v = 0; v < 4; v++) rmSync(path.join(log, `${String(v).padStart(20, '0')}.json`));
    },
  ],
];

for (const [name, damage] of cases) {
  test(`_last_checkpoint ${name}: latest and older versions read exactly`, async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { t, all, log } = await tableWithCheckpoints(dir);
      damage(log);
      const reopened = await DeltaTable.open(t.location);
      assert.equal(await reopened.version(), 9);
      assert.deepEqual(rowsOf(await reopened.read()), expectedRows(all));
      assert.deepEqual(rowsOf(await reopened.read({ version: 6 })), expectedRows(all.slice(0, 12)));
    } finally {
      cleanup();
    }
  });
}
