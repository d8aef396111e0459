// The `sensorlake table ...` commands as a user runs them: real process, real table, output and exit codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { DeltaTable, field, struct, shutdownWorkers } from '../../src/delta/table.js';
import { REPO_ROOT, tempDir, readingsTable, makeReadings } from '../helpers.js';

const bin = path.join(REPO_ROOT, 'bin', 'sensorlake.js');
const tmp = tempDir();
const location = path.join(tmp.dir, 'readings');
const rows = makeReadings({ days: 2, sensors: 3, perDay: 2 });

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  const t = await DeltaTable.create(location, {
    schema: struct([field('ts', 'timestamp', false), field('sensor_id', 'string', false), field('value', 'double'), field('quality', 'integer', false), field('date', 'date', false)]),
    partitionColumns: ['date'],
  });
  await t.write(readingsTable(rows.slice(0, 6)));
  await t.write(readingsTable(rows.slice(6)));
});
after(async () => {
  tmp.cleanup();
  await shutdownWorkers();
});

test('describe --json has version, files, rows, partitioning, protocol, schema', () => {
  const r = run('table', 'describe', location, '--json');
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  assert.equal(d.version, 2);
  assert.equal(d.numFiles, 2);
  assert.equal(d.numRows, rows.length);
  assert.deepEqual(d.partitionColumns, ['date']);
  assert.deepEqual(d.protocol, { minReaderVersion: 1, minWriterVersion: 2 });
  assert.deepEqual(d.schema.fields.map((f: { name: string }) => f.name), ['ts', 'sensor_id', 'value', 'quality', 'date']);
  const human = run('table', 'describe', location);
  assert.match(human.stdout, /version\s+2/);
  assert.match(human.stdout, new RegExp(`rows\\s+${rows.length}`));
});

test('scan writes exact rows as jsonl and csv, at a version or a timestamp', () => {
  const jsonl = run('table', 'scan', location, '--format', 'jsonl');
  assert.equal(jsonl.code, 0, jsonl.stderr);
  const got = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(got.length, rows.length);
  const first = rows[0];
  const iso = new Date(Number(first.ts / 1000n)).toISOString().replace('Z', '') + String(first.ts % 1000n).padStart(3, '0') + 'Z';
  assert.ok(got.some((g) => g.ts === iso.replace(/\.(\d{3})(\d{3})Z$/, '.$1$2Z') && g.sensor_id === first.sensor_id && g.date === '2024-01-01'), `a row with ts ${iso}`);
  const v1 = run('table', 'scan', location, '--format', 'jsonl', '--version', '1');
  assert.equal(v1.stdout.trim().split('\n').length, 6);
  const csv = run('table', 'scan', location, '--format', 'csv', '--where', "sensor_id = 'sensor-1'");
  const lines = csv.stdout.trim().split('\n');
  assert.equal(lines[0], 'ts,sensor_id,value,quality,date');
  assert.equal(lines.length - 1, rows.filter((r) => r.sensor_id === 'sensor-1').length);
  const future = run('table', 'scan', location, '--format', 'jsonl', '--timestamp', new Date(Date.now() + 60_000).toISOString());
  assert.equal(future.stdout.trim().split('\n').length, rows.length);
  const human = run('table', 'scan', location, '--limit', '2');
  assert.match(human.stdout, /\(2 rows\)/);
});

test('history, checkpoint and vacuum have human and json output', () => {
  const h = JSON.parse(run('table', 'history', location, '--json').stdout);
  assert.deepEqual(h.map((e: { version: number }) => e.version), [2, 1, 0]);
  assert.equal(h[0].operation, 'WRITE');
  assert.match(run('table', 'history', location).stdout, /CREATE TABLE/);
  const cp = JSON.parse(run('table', 'checkpoint', location, '--json').stdout);
  assert.equal(cp.version, 2);
  assert.equal(cp.numOfAddFiles, 2);
  const dry = run('table', 'vacuum', location, '--dry-run');
  assert.equal(dry.code, 0);
  assert.match(dry.stdout, /would delete 0 file/);
});

test('exit codes: 2 for bad usage, 1 for a failure with a message naming the table', () => {
  assert.equal(run('table', 'scan', location, '--format', 'xml').code, 2);
  assert.equal(run('table', 'nope').code, 2);
  const missing = run('table', 'describe', path.join(tmp.dir, 'nothing'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nothing: not a Delta table/);
  assert.equal(run('--help').code, 0);
});
