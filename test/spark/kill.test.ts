// The Spark engine survives a crash: a replace-mode backfill over a lake that already holds the same readings (with
// other values) is killed for real (SIGKILL to the spark-submit process group: driver JVM, Python driver and workers)
// after some of its windows committed; the same command run again through the CLI skips those windows, commits the
// rest, exits 3 (records were quarantined) and leaves exactly what the TypeScript engine leaves from one clean run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { backfill } from '../../src/backfill/run.js';
import type { BackfillReport } from '../../src/backfill/report.js';
import { DeltaTable, shutdownWorkers } from '../../src/delta/table.js';
import { simulate } from '../../src/sim/simulate.js';
import { SparkJobError, sparkBackfill } from '../../src/spark/launcher.js';
import { REPO_ROOT, tempDir } from '../helpers.js';
import { comparable, sparkReady, tableRows } from './helpers.js';

const scratch = tempDir('sensorlake-spark-kill-');
const lakeTs = path.join(scratch.dir, 'lake-ts');
const lakeSpark = path.join(scratch.dir, 'lake-spark');
const skip = sparkReady() ? false : 'Spark peers not installed (scripts/setup-peers.sh)';
let first: string;
let second: string;
let sensors: string;
let clean: BackfillReport;
const WINDOW = '12h';

before(async () => {
  if (skip) return;
  // 3 days of 6 sensors at 2 min: 6 windows of 12 h. The second input is the first with every value shifted.
  const sim = await simulate({ out: path.join(scratch.dir, 'in'), format: 'csv', sensors: 6, interval: '2m', from: '2024-05-01T00:00:00Z', to: '2024-05-04T00:00:00Z', seed: 77, faults: 'default' });
  first = path.join(sim.dir, sim.files[0].path);
  sensors = sim.sensorsFile;
  second = path.join(scratch.dir, 'second.csv');
  const lines = readFileSync(first, 'utf8').trimEnd().split('\n');
  writeFileSync(second, lines.map((l, i) => (i > 0 && i % 2 === 0 ? l.replace(/,(-?\d+\.\d+),/, (_m, v: string) => `,${(Number(v) + 1).toFixed(2)},`) : l)).join('\n') + '\n');
  for (const lake of [lakeTs, lakeSpark]) await backfill({ source: first, lake, sensors, window: WINDOW });
  clean = await backfill({ source: second, lake: lakeTs, sensors, window: WINDOW, mode: 'replace' });
});

after(async () => {
  await shutdownWorkers();
  scratch.cleanup();
});

/** Pids still in a process group (none once the whole tree is gone; dying takes a moment after SIGKILL). */
async function groupMembers(pgid: number): Promise<number[]> {
  let left: number[] = [];
  for (let i = 0; i < 50; i++) {
    const r = spawnSync('ps', ['-eo', 'pid=,pgid=,stat='], { encoding: 'utf8' });
    left = r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((c) => Number(c[1]) === pgid && !c[2]?.startsWith('Z')).map((c) => Number(c[0]));
    if (left.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return left;
}

test('a run killed after two committed windows, rerun through the CLI, ends as one clean run does', { skip }, async () => {
  assert.ok(clean.windows >= 6 && clean.rows_replaced > 1000, `the replace run rewrites windows: ${JSON.stringify(comparable(clean))}`);
  const before = await (await DeltaTable.open(path.join(lakeSpark, 'readings'))).version();
  let child: ChildProcess | undefined;
  let killedAt = -1;
  const killed = sparkBackfill(
    { source: second, lake: lakeSpark, sensors, window: WINDOW, mode: 'replace' },
    {
      master: 'local[2]',
      onSpawn: (c) => (child = c),
      onProgress: (p) => {
        if (p.phase === 'commit' && p.windowsDone >= 2 && killedAt < 0 && child?.pid) {
          killedAt = p.windowsDone;
          process.kill(-child.pid, 'SIGKILL');
        }
      },
    },
  );
  await assert.rejects(killed, (e: unknown) => e instanceof SparkJobError && /SIGKILL/.test(e.message));
  assert.ok(killedAt >= 2, 'killed during the commits');
  assert.deepEqual(await groupMembers(child!.pid!), [], 'no process of the job is left');
  const mid = await DeltaTable.open(path.join(lakeSpark, 'readings'));
  const committed = (await mid.version()) - before;
  assert.ok(committed >= 2 && committed < clean.windows, `some windows committed before the kill (${committed})`);

  const cli = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'sensorlake.js'), 'backfill', '--engine', 'spark', '--master', 'local[2]', '--source', second,
    '--lake', lakeSpark, '--sensors', sensors, '--window', WINDOW, '--mode', 'replace', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  cli.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => cli.on('close', resolve));
  assert.equal(code, 3, `exit 3: finished with quarantined records\n${stderr}`);
  assert.match(stderr, /backfill commit: \d+\/\d+ windows/, 'the job\'s progress is relayed');
  const rerun = JSON.parse(stdout) as BackfillReport;
  assert.equal(rerun.job_id, clean.job_id, 'the same job id as the TypeScript engine gives the same command');
  assert.equal(rerun.windows_skipped, committed);
  assert.equal(rerun.windows_committed, clean.windows - committed);
  assert.equal(rerun.balanced, true);
  assert.equal(rerun.read, clean.read);
  assert.equal(rerun.quarantined, clean.quarantined);
  assert.deepEqual(await tableRows(lakeSpark, 'readings'), await tableRows(lakeTs, 'readings'));
  const q = ['quarantined_at', 'job_id'];
  assert.deepEqual(await tableRows(lakeSpark, 'quarantine', q), await tableRows(lakeTs, 'quarantine', q));
});
