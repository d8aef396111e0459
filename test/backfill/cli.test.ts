// `sensorlake backfill` as a user runs it (the built bin/sensorlake.js): exit 3 with quarantined records and the
// report on stdout, exit 1 naming a file that cannot be read with nothing committed, exit 2 for bad usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { cli, line, MIXED, readings, setup, writeCsv } from './helpers.js';

test('exit 3 when records were quarantined; --json prints one report object on stdout', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  writeCsv(path.join(env.input, 'mixed.csv'), MIXED);
  const r = cli(['backfill', '--source', env.input, '--lake', env.lake, '--from', '2024-01-01', '--json']);
  assert.equal(r.code, 3, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.read, 11);
  assert.equal(report.written, 2);
  assert.equal(report.duplicates, 1);
  assert.equal(report.quarantined, 8);
  assert.equal(report.balanced, true);
  for (const k of ['job_id', 'conflicts', 'out_of_range', 'windows_committed', 'windows_skipped', 'dst_ambiguous', 'dst_nonexistent', 'seconds', 'rows_per_second']) {
    assert.ok(k in report, k);
  }
  assert.deepEqual(Object.keys(report.files[0]).slice(0, 6), ['file', 'source', 'read', 'written', 'duplicates', 'quarantined']);
  assert.equal((await readings(env.lake)).length, 2);

  // The human summary prints the identity; a rerun skips every window and still exits 3 (the rejects are still there).
  const again = cli(['backfill', '--source', env.input, '--lake', env.lake, '--from', '2024-01-01']);
  assert.equal(again.code, 3, again.stderr);
  assert.match(again.stdout, /read 11 = written 0 \+ duplicates 0 \+ quarantined 8 \+ already committed 3/);
  assert.match(again.stdout, /windows: 0 committed, 1 skipped/);
});

test('exit 0 for a clean input', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  writeCsv(path.join(env.input, 'a.csv'), [line('s1', 0, 1), line('s1', 1, 2)]);
  const r = cli(['backfill', '--source', path.join(env.input, '*.csv'), '--lake', env.lake, '--log-format', 'json', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).written, 2);
  // Progress went to stderr as JSON lines, never to stdout.
  for (const l of r.stderr.split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(l), l);
});

test('exit 1 naming the file when one input cannot be read; nothing is committed, not even the good files', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  writeCsv(path.join(env.input, 'a.csv'), [line('s1', 0, 1)]);
  // gzip magic, then garbage: the file cannot be decompressed at all.
  writeFileSync(path.join(env.input, 'b.csv.gz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]));
  const r = cli(['backfill', '--source', env.input, '--lake', env.lake, '--format', 'csv']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /b\.csv\.gz/);
  assert.equal(existsSync(path.join(env.lake, 'readings')), false);
  assert.equal(existsSync(path.join(env.lake, 'quarantine')), false);
  // The staging area is cleaned up even after a failure.
  assert.deepEqual(existsSync(path.join(env.lake, '_sensorlake', 'staging')) ? (await import('node:fs')).readdirSync(path.join(env.lake, '_sensorlake', 'staging')) : [], []);
});

test('exit 2 for bad usage', async (t) => {
  const env = setup();
  t.after(env.cleanup);
  writeCsv(path.join(env.input, 'a.csv'), [line('s1', 0, 1)]);
  assert.equal(cli(['backfill', '--source', env.input]).code, 2); // no --lake
  const w = cli(['backfill', '--source', env.input, '--lake', env.lake, '--window', '5h']);
  assert.equal(w.code, 2);
  assert.match(w.stderr, /window '5h'/);
  assert.equal(cli(['backfill', '--source', env.input, '--lake', env.lake, '--mode', 'upsert']).code, 2);
  assert.equal(cli(['backfill', '--source', env.input, '--lake', env.lake, '--from', '2024-02-01', '--to', '2024-01-01']).code, 2);
  assert.equal(existsSync(path.join(env.lake, 'readings')), false);
});
