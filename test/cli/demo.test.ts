// The README's first command: `sensorlake demo` simulates a plant, backfills it and answers its example queries,
// and the lake it leaves equals the simulator's ground truth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, tempDir } from '../helpers.js';

const bin = path.join(REPO_ROOT, 'bin', 'sensorlake.js');

test('demo: the lake matches truth.json, the answers are there, and a rerun starts from a clean demo lake', () => {
  const { dir, cleanup } = tempDir('sensorlake-demo-');
  try {
    const lake = path.join(dir, 'lake');
    const run = (): { matchesTruth: boolean; report: { written: number; quarantined: number; balanced: boolean }; answers: { question: string; answer: string[] }[]; simulated: { expected: { distinctKeys: number; malformedTotal: number } } } =>
      JSON.parse(execFileSync(process.execPath, [bin, 'demo', '--lake', lake, '--sensors', '20', '--hours', '6', '--json'], { encoding: 'utf8' }));
    const first = run();
    assert.equal(first.matchesTruth, true);
    assert.equal(first.report.written, first.simulated.expected.distinctKeys);
    assert.equal(first.report.quarantined, first.simulated.expected.malformedTotal);
    assert.ok(first.report.quarantined > 0, 'the demo plant has faults to quarantine');
    assert.equal(first.report.balanced, true);
    assert.equal(first.answers.length, 4);
    assert.match(first.answers[1].question, /pressure do in the last hour/);
    assert.match(first.answers[1].answer[0], /^\d+ readings, min /);
    const again = run();
    assert.equal(again.report.written, first.report.written, 'a rerun rebuilds the same lake instead of piling up quarantine rows');
    assert.equal(again.matchesTruth, true);

    const other = path.join(dir, 'not-a-demo');
    mkdirSync(other);
    writeFileSync(path.join(other, 'precious.csv'), 'x\n');
    const refused = spawnSync(process.execPath, [bin, 'demo', '--lake', other], { encoding: 'utf8' });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /is not a demo lake/);
  } finally {
    cleanup();
  }
});
