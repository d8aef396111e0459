// `sensorlake simulate` as a user runs it: a real process, its files, its JSON summary and its exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, tempDir } from '../helpers.js';

const bin = path.join(REPO_ROOT, 'bin', 'sensorlake.js');

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'simulate', ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('simulate --json writes the data, sensors.csv and truth.json and summarises them', () => {
  const { dir, cleanup } = tempDir('sim-cli-');
  try {
    const r = run('--out', dir, '--format', 'jsonl', '--sensors', '9', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T00:30:00Z', '--interval', '2s', '--seed', '4', '--json');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    const truth = JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8'));
    assert.deepEqual(s.expected, truth.expected);
    assert.equal(truth.intervalSeconds, 2);
    assert.equal(truth.sensors.length, 9);
    assert.deepEqual(s.files.map((f: { path: string }) => f.path), ['readings.jsonl']);
    assert.equal(readFileSync(path.join(dir, 'readings.jsonl'), 'utf8').trimEnd().split('\n').length, truth.expected.records);
  } finally {
    cleanup();
  }
});

test('simulate prints a human summary', () => {
  const { dir, cleanup } = tempDir('sim-cli-');
  try {
    const r = run('--out', dir, '--sensors', '6', '--to', '2024-01-01T00:10:00Z', '--faults', 'none');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^wrote [\d,]+ records of 6 sensors on 1 asset to /);
    assert.match(r.stdout, /readings\.csv/);
    assert.match(r.stdout, /0 malformed/);
  } finally {
    cleanup();
  }
});

test('bad usage exits 2 and names the problem', () => {
  const { dir, cleanup } = tempDir('sim-cli-');
  try {
    const bad = [
      [['--out', dir, '--format', 'xml'], /xml/],
      [['--out', dir, '--sensors', 'many'], /--sensors 'many'/],
      [['--out', dir, '--interval', 'fast'], /interval 'fast'/],
      [['--out', dir, '--from', '2024-01-02T00:00:00Z', '--to', '2024-01-01T00:00:00Z'], /must be after/],
      [['--sensors', '3'], /--out/],
    ] as const;
    for (const [args, msg] of bad) {
      const r = run(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
    writeFileSync(path.join(dir, 'old.csv'), 'x\n');
    const r = run('--out', dir, '--sensors', '3', '--to', '2024-01-01T00:01:00Z');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not empty/);
    assert.equal(run('--out', dir, '--sensors', '3', '--to', '2024-01-01T00:01:00Z', '--force').code, 0);
    assert.throws(() => readFileSync(path.join(dir, 'old.csv')), 'force empties the directory');
  } finally {
    cleanup();
  }
});
