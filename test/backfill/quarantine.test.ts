// Quarantine accounting on one file mixing every kind of bad row: exact counts per reason, the location of each,
// the quarantine table's rows, read = written + duplicates + quarantined, and exactly once across reruns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { iso, MIXED, readings, run, setup, tableRows, version, writeCsv, expected } from './helpers.js';


const REASONS: [string, number][] = [
  ['bad_timestamp', 3],
  ['bad_value', 4],
  ['non_finite', 5],
  ['type_mismatch', 6],
  ['missing_sensor_id', 7],
  ['bad_quality', 8],
  ['malformed_record', 9],
  ['out_of_range_time', 10],
];

test('a file with every kind of bad row: exact counts per reason, locations, and the accounting identity', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  writeCsv(path.join(env.input, 'mixed.csv'), MIXED);
  const r = await run(env, { from: '2024-01-01' });
  assert.deepEqual(await readings(env.lake), expected([['s1', 10, 1], ['s2', 10, 2]], 'mixed.csv'));
  assert.equal(r.read, 11);
  assert.equal(r.written, 2);
  assert.equal(r.duplicates, 1);
  assert.equal(r.quarantined, 8);
  assert.equal(r.read, r.written + r.duplicates + r.quarantined);
  assert.equal(r.balanced, true);
  for (const [reason] of REASONS) assert.equal(r.quarantined_by_reason[reason as keyof typeof r.quarantined_by_reason], 1, reason);
  assert.deepEqual(r.files.map((f) => [f.source, f.read, f.written, f.duplicates, f.quarantined]), [['mixed.csv', 11, 2, 1, 8]]);

  const q = await tableRows(path.join(env.lake, 'quarantine'));
  assert.deepEqual(
    q.map((x) => [x.reason, Number(x.location)]).sort((a, b) => (a[1] as number) - (b[1] as number)),
    REASONS,
  );
  for (const x of q) {
    assert.equal(x.source_file, 'mixed.csv');
    assert.equal(x.location_kind, 'line');
    assert.equal(x.job_id, r.job_id);
    assert.ok(typeof x.message === 'string' && x.message.length > 0);
  }
  // Raw text: the line itself where the source rejected it, the parsed record where the backfill did.
  assert.equal(q.find((x) => x.reason === 'malformed_record')!.raw, 'a,b');
  assert.match(String(q.find((x) => x.reason === 'type_mismatch')!.raw), /I\/O Timeout/);

  // A rerun adds nothing to either table.
  const qv = await version(path.join(env.lake, 'quarantine'));
  const again = await run(env, { from: '2024-01-01' });
  assert.equal(await version(path.join(env.lake, 'quarantine')), qv);
  assert.equal((await tableRows(path.join(env.lake, 'quarantine'))).length, 8);
  assert.equal(again.quarantined, 8);
  assert.equal(again.quarantine_commits, 0);
  assert.equal(again.balanced, true);
});

test('rejects are committed in chunks, each under its own txn version', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  writeCsv(path.join(env.input, 'bad.csv'), Array.from({ length: 25 }, (_, i) => `${iso(i)},s1,,good`));
  const r = await run(env, { quarantineChunkRows: 10 });
  assert.equal(r.quarantined_by_reason.bad_value, 25);
  assert.equal(r.quarantine_commits, 3);
  assert.equal(await version(path.join(env.lake, 'quarantine')), 3);
  const locations = (await tableRows(path.join(env.lake, 'quarantine'))).map((x) => Number(x.location)).sort((a, b) => a - b);
  assert.deepEqual(locations, Array.from({ length: 25 }, (_, i) => i + 2));
});
