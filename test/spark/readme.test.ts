// The README's Spark example, run as pasted (test/cli/readme-blocks.ts): a simulated plant backfilled by the Spark
// engine on local[2], the same command by the TypeScript engine finding the job already done, and a scan of the
// Spark-written table by our reader. Only the JVM's JIT flags are set from outside (SPARK_SUBMIT_OPTS, see
// TEST_JVM_OPTS): the commands are the README's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readmeBlock, runPasted } from '../cli/readme-blocks.js';
import { sparkReady, TEST_JVM_OPTS } from './helpers.js';

const skip = sparkReady() ? false : 'Spark peers not installed (scripts/setup-peers.sh)';

test('the README Spark example: backfill on local[2], the TypeScript engine resumes the same job with nothing left, the rows read back', { skip }, () => {
  const out = runPasted(readmeBlock('spark'), { timeoutMs: 600_000, env: { SPARK_SUBMIT_OPTS: TEST_JVM_OPTS } });
  const jobs = [...out.matchAll(/^backfill (backfill-[0-9a-f]+) into /gm)].map((m) => m[1]);
  assert.equal(jobs.length, 2, out);
  assert.equal(jobs[0], jobs[1], 'both engines name the command by one job id');
  const [spark, ts] = out.split(/^backfill backfill-/m).slice(1);
  assert.match(spark, /^read 19,728 = written 19,728 \+ duplicates 0 \+ quarantined 0 \+ already committed 0$/m);
  assert.match(spark, /^windows: 1 committed, 0 skipped \(already committed\), 1 in all$/m);
  assert.match(ts, /^read 19,728 = written 0 \+ duplicates 0 \+ quarantined 0 \+ already committed 19,728$/m);
  assert.match(ts, /^windows: 0 committed, 1 skipped \(already committed\), 1 in all$/m);
  assert.match(ts, /2024-01-01T00:00:00\.000000Z\s+plant1\/line1\/pump1\/pressure\s+4\.133\s+null\s+0\s+readings\.csv\s+2024-01-01/);
  assert.match(ts, /\(3 rows\)/);
});
