// Kill -9 and rerun: `sensorlake backfill` is SIGKILLed at seeded random moments (pass 1, window commits, some bucketed,
// the quarantine and sensors commits), sometimes several times in a row on one lake, then run again to the end. The
// lake must then hold exactly what one clean run writes: every reading once, every reject once, the same sensors.
// BACKFILL_KILL_SEED=<n> replays a schedule. About 2 min 10 s on the 2-core dev machine (20 kills; a clean run of
// the CLI takes about 3 s there, most of it Node start-up, pass 1 and 12 window commits).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { DeltaTable } from '../../src/delta/table.js';
import { NotFoundError } from '../../src/errors.js';
import { simulate, type SimulateSummary } from '../../src/sim/simulate.js';
import type { BackfillReport } from '../../src/backfill/report.js';
import { canonicalRows } from '../interop/canonical.js';
import { REPO_ROOT, tempDir } from '../helpers.js';
import { Rng } from '../../src/sim/random.js';

const SEED = process.env.BACKFILL_KILL_SEED ? Number(process.env.BACKFILL_KILL_SEED) : Date.now() % 2 ** 31;
const KILLS = 20;
const MAX_ATTEMPTS = 40;
const BIN = path.join(REPO_ROOT, 'bin', 'sensorlake.js');
/** Rows of a window held at once: the full 6 h windows (~4,900 rows) go in sensor buckets, the short first one (~2,450) not. */
const ROW_BUDGET = 3000;

/** The simulator's seeded generator (mulberry32), so a failing schedule replays from its seed. */
function rngFrom(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}
const rng = rngFrom(SEED);

const scratch = tempDir('sensorlake-kill-');
const simDir = path.join(scratch.dir, 'sim');
const lakeA = path.join(scratch.dir, 'lake-a');
const lakeB = path.join(scratch.dir, 'lake-b');
let sim: SimulateSummary;
let dataFile: string;

const READINGS_TYPES = { ts: 'timestamp', quality: 'long', date: 'date' };
const QUARANTINE_COLUMNS = ['raw', 'reason', 'message', 'source_file', 'location', 'location_kind', 'job_id'];
const READINGS_COLUMNS = ['ts', 'sensor_id', 'value', 'value_text', 'quality', 'source', 'date'];

interface LakeRows {
  readings: string[];
  quarantine: string[];
  sensors: string[];
}

/** A table's rows as sorted JSON texts of canonical rows (µs timestamps as decimal strings); [] when there is no table. */
async function tableRows(location: string, columns?: string[], types?: Record<string, string>): Promise<string[]> {
  let table: DeltaTable;
  try {
    table = await DeltaTable.open(location);
  } catch (e) {
    if (e instanceof NotFoundError) return [];
    throw e;
  }
  return canonicalRows(await table.read({ columns }), types).map((r) => JSON.stringify(r));
}

async function lakeRows(lake: string): Promise<LakeRows> {
  return {
    readings: await tableRows(path.join(lake, 'readings'), READINGS_COLUMNS, READINGS_TYPES),
    // quarantined_at is the commit time: the only column two runs of one job may not share.
    quarantine: await tableRows(path.join(lake, 'quarantine'), QUARANTINE_COLUMNS, { location: 'long' }),
    sensors: await tableRows(path.join(lake, 'sensors')),
  };
}

/** Multiset difference of two sorted string arrays: what `a` holds beyond `b`. */
function beyond(a: string[], b: string[]): string[] {
  const out: string[] = [];
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j] < x) j++;
    if (j < b.length && b[j] === x) j++;
    else out.push(x);
  }
  return out;
}

function sorted(a: string[]): string[] {
  return [...a].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

/** Equal as multisets, with a readable message (a few rows missing and extra) instead of a diff of 60,000 rows. */
function assertSameRows(actual: string[], expected: string[], what: string): void {
  const a = sorted(actual);
  const e = sorted(expected);
  const extra = beyond(a, e);
  const missing = beyond(e, a);
  assert.ok(
    extra.length === 0 && missing.length === 0,
    `${what}: ${a.length} rows, expected ${e.length}; ${missing.length} missing, e.g. ${missing.slice(0, 3).join(' ')}; ` +
      `${extra.length} extra, e.g. ${extra.slice(0, 3).join(' ')}`,
  );
}

/** `actual` is a sub-multiset of `expected`: a killed run left nothing that a clean run would not write. */
function assertSubset(actual: string[], expected: string[], what: string): void {
  const extra = beyond(sorted(actual), sorted(expected));
  assert.equal(extra.length, 0, `${what}: ${extra.length} rows a clean run does not write, e.g. ${extra.slice(0, 3).join(' ')}`);
}

function assertNoDuplicateKeys(readings: string[], what: string): void {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const r of readings) {
    const o = JSON.parse(r) as { sensor_id: string; ts: string };
    const k = `${o.sensor_id}@${o.ts}`;
    if (seen.has(k)) dups.push(k);
    seen.add(k);
  }
  assert.equal(dups.length, 0, `${what}: duplicate (sensor_id, ts) keys, e.g. ${dups.slice(0, 5).join(', ')}`);
}

interface Run {
  t0: number;
  /** Phase lines as they arrived on stderr, with ms since spawn. */
  phases: { phase: string; ms: number }[];
  onPhase: ((phase: string) => void) | null;
  kill: () => void;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; stdout: string; stderr: string }>;
}

function startBackfill(lake: string): Run {
  const args = ['backfill', '--source', dataFile, '--lake', lake, '--sensors', sim.sensorsFile, '--window', '6h', '--row-budget', String(ROW_BUDGET), '--json', '--log-format', 'json'];
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const run: Run = {
    t0,
    phases: [],
    onPhase: null,
    kill: () => void child.kill('SIGKILL'),
    exit: new Promise((resolve) => {
      child.on('close', (code, signal) => {
        clearTimeout(guard);
        resolve({ code, signal, ms: performance.now() - t0, stdout, stderr });
      });
    }),
  };
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  createInterface({ input: child.stderr }).on('line', (l) => {
    stderr += l + '\n';
    let msg: { phase?: unknown; msg?: unknown };
    try {
      msg = JSON.parse(l) as typeof msg;
    } catch {
      return;
    }
    if (typeof msg.phase === 'string' && typeof msg.msg === 'string' && msg.msg.startsWith('backfill ')) {
      const last = run.phases[run.phases.length - 1];
      if (last?.phase !== msg.phase) {
        run.phases.push({ phase: msg.phase, ms: performance.now() - t0 });
        run.onPhase?.(msg.phase);
      }
    }
  });
  return run;
}

/** The job's txn version in a table (the last window committed), or undefined. */
async function jobTxn(location: string, jobId: string): Promise<number | undefined> {
  try {
    return await (await DeltaTable.open(location)).txnVersion(jobId);
  } catch (e) {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  }
}

let reference: LakeRows;
let cleanReport: BackfillReport;
let cleanMs = 4000;
/** When each phase line arrived in the clean run (ms since spawn). */
const cleanAt = new Map<string, number>();

before(async () => {
  console.log(`# kill.test seed ${SEED} (rerun with BACKFILL_KILL_SEED=${SEED})`);
  // 20 sensors at 1 min over 2 days 21 h: 12 windows of 6 h, the first half as long. Faults: duplicates (exact and
  // conflicting), malformed lines of every kind, out-of-range values, late readings.
  sim = await simulate({ out: simDir, format: 'csv', faults: 'default', sensors: 20, interval: '1m', from: '2024-01-01T03:00:00Z', to: '2024-01-04T00:00:00Z', seed: 11 });
  assert.equal(sim.files.length, 1);
  dataFile = path.join(simDir, sim.files[0].path);
});

after(() => scratch.cleanup());

test('a clean run writes what truth.json says: the reference lake', async (t) => {
  const run = startBackfill(lakeA);
  const exit = await run.exit;
  assert.equal(exit.code, 3, `a clean run with quarantined records exits 3; stderr:\n${exit.stderr}`);
  cleanMs = exit.ms;
  for (const p of run.phases) cleanAt.set(p.phase, p.ms);
  assert.deepEqual(run.phases.map((p) => p.phase), ['read', 'commit', 'quarantine', 'sensors', 'done'], 'phase lines of a run');
  cleanReport = JSON.parse(exit.stdout) as BackfillReport;
  const e = sim.expected;
  assert.equal(cleanReport.balanced, true);
  assert.equal(cleanReport.read, e.records);
  assert.equal(cleanReport.written, e.distinctKeys);
  assert.equal(cleanReport.duplicates, e.duplicates);
  assert.equal(cleanReport.quarantined, e.malformedTotal);
  assert.ok(e.duplicates > 0 && e.malformedTotal > 0, 'the plant has duplicates and malformed records');
  assert.equal(cleanReport.windows, 12);
  assert.ok(cleanReport.windows_bucketed > 0 && cleanReport.windows_bucketed < cleanReport.windows, `some windows bucketed: ${cleanReport.windows_bucketed}`);

  reference = await lakeRows(lakeA);
  assert.equal(reference.readings.length, e.distinctKeys);
  assertNoDuplicateKeys(reference.readings, 'lake A');
  assert.equal(reference.quarantine.length, e.malformedTotal);
  assert.equal(reference.sensors.length, sim.sensors);
  // Each malformed record truth.json placed is in quarantine with its reason, file and line (a file given as the
  // source is named as given, here by its absolute path).
  const truth = readFileSync(sim.truthFile, 'utf8');
  const placed = (JSON.parse(truth) as { faults: { kind: string; reason?: string; file?: string; location?: number }[] }).faults
    .filter((f) => f.kind === 'malformed')
    .map((f) => `${f.reason}|${path.join(simDir, f.file ?? '?')}|${f.location}`);
  const got = reference.quarantine.map((r) => JSON.parse(r) as Record<string, unknown>).map((r) => `${r.reason}|${r.source_file}|${r.location}`);
  assertSameRows(got, placed, 'quarantine (reason, source_file, location) vs truth.json');
  t.diagnostic(`clean run: ${cleanMs.toFixed(0)} ms; phase lines at ${JSON.stringify(Object.fromEntries([...cleanAt].map(([k, v]) => [k, Math.round(v)])))}`);
});

type Strategy = 'timer' | 'early' | 'in-commits' | 'on-quarantine' | 'on-sensors';
type Landing = 'start-up' | 'pass 1' | 'window commits' | 'quarantine' | 'sensors' | 'after sensors';

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Where the killed run was: the last phase line it wrote, or whether its staging directory was made anew. */
function landing(run: Run, stagingDir: string, wallT0: number): Landing {
  const last = run.phases[run.phases.length - 1]?.phase;
  if (last === undefined) return existsSync(stagingDir) && statSync(stagingDir).mtimeMs >= wallT0 ? 'pass 1' : 'start-up';
  return ({ read: 'pass 1', commit: 'window commits', quarantine: 'quarantine', sensors: 'sensors', done: 'after sensors' } as Record<string, Landing>)[last];
}

test(`${KILLS} SIGKILLs at seeded random points, then a rerun: the lake equals the clean run's`, async (t) => {
  assert.ok(reference, 'the reference lake was made');
  const jobId = cleanReport.job_id;
  const stagingDir = path.join(lakeB, '_sensorlake', 'staging', jobId);
  // Most rounds kill once; three kill two or three times in a row on the same lake before the run to the end.
  const rounds = shuffle([...Array(13).fill(1), 2, 2, 3]) as number[];
  // 8 of 20 kills are timed over the whole clean run; the others aim at a stage, timed from its progress line, so a
  // busy machine (start-up times vary twofold) cannot starve a stage of kills.
  const strategies = shuffle([
    ...Array(8).fill('timer'),
    ...Array(5).fill('in-commits'),
    ...Array(2).fill('early'),
    ...Array(3).fill('on-quarantine'),
    ...Array(2).fill('on-sensors'),
  ]) as Strategy[];
  const landed = new Map<Landing, number>();
  const log: string[] = [];
  let kills = 0;
  let attempts = 0;
  const commitAt = cleanAt.get('commit') ?? cleanMs / 3;
  const commitsMs = Math.max(5, (cleanAt.get('quarantine') ?? cleanMs) - commitAt);
  const quarantineMs = Math.max(5, (cleanAt.get('sensors') ?? 0) - (cleanAt.get('quarantine') ?? 0));
  const sensorsMs = Math.max(5, (cleanAt.get('done') ?? 0) - (cleanAt.get('sensors') ?? 0));

  for (let round = 0; kills < KILLS && attempts < MAX_ATTEMPTS; round++) {
    rmSync(lakeB, { recursive: true, force: true });
    const killsThisRound = rounds[round % rounds.length];
    for (let k = 0; k < killsThisRound && kills < KILLS && attempts < MAX_ATTEMPTS; k++) {
      const strategy = strategies[attempts % strategies.length];
      attempts++;
      const roll = rng();
      const wallT0 = Date.now();
      const run = startBackfill(lakeB);
      let planned = '';
      let timer: NodeJS.Timeout | undefined;
      const killAfter = (ms: number, why: string): void => {
        planned = why;
        timer = setTimeout(run.kill, ms);
      };
      if (strategy === 'timer') killAfter(roll * cleanMs, `${Math.round(roll * cleanMs)} ms after spawn`);
      else if (strategy === 'early') {
        // Past Node's start-up (about a third of the time to the first commit), into the reading and staging.
        const ms = commitAt * (0.35 + 0.65 * roll);
        killAfter(ms, `${Math.round(ms)} ms after spawn (before the clean run's first commit)`);
      } else {
        const phase = strategy === 'in-commits' ? 'commit' : strategy === 'on-quarantine' ? 'quarantine' : 'sensors';
        const span = strategy === 'in-commits' ? commitsMs : strategy === 'on-quarantine' ? quarantineMs : sensorsMs;
        // Within the first 60% of the stage as the clean run timed it: another run may go through it faster.
        const ms = roll * span * 0.6;
        run.onPhase = (p) => {
          if (p === phase) killAfter(ms, `${ms.toFixed(1)} ms after the '${phase}' line`);
        };
      }
      const exit = await run.exit;
      clearTimeout(timer);
      const where = landing(run, stagingDir, wallT0);
      const label = `round ${round} kill ${k + 1}/${killsThisRound} (${strategy}, ${planned || 'never fired'}; seed ${SEED})`;
      const after = await lakeRows(lakeB);
      const version = await jobTxn(path.join(lakeB, 'readings'), jobId);
      if (exit.signal !== 'SIGKILL') {
        // The run ended before the kill: it must have finished cleanly, with the whole lake.
        assert.equal(exit.code, 3, `${label}: a run that was not killed exits 3; stderr:\n${exit.stderr}`);
        log.push(`${label}: finished before the kill`);
        break;
      }
      kills++;
      landed.set(where, (landed.get(where) ?? 0) + 1);
      log.push(
        `${label}: killed at ${exit.ms.toFixed(0)} ms in ${where}; last phase lines ${run.phases.map((p) => `${p.phase}@${Math.round(p.ms)}`).join(' ') || 'none'}; ` +
          `readings ${after.readings.length} rows (job txn ${version ?? 'none'}), quarantine ${after.quarantine.length}, sensors ${after.sensors.length}`,
      );
      // Whatever a kill leaves is part of what a clean run writes: never a wrong, extra or doubled row.
      assertSubset(after.readings, reference.readings, `${label}: readings after the kill`);
      assertNoDuplicateKeys(after.readings, `${label}: readings after the kill`);
      assertSubset(after.quarantine, reference.quarantine, `${label}: quarantine after the kill`);
      assert.ok(after.sensors.length === 0 || after.sensors.length === reference.sensors.length, `${label}: sensors table is all or nothing`);
      if (after.sensors.length > 0) assertSameRows(after.sensors, reference.sensors, `${label}: sensors after the kill`);
    }

    // The same command again, to the end.
    const before = (await lakeRows(lakeB)).readings.length;
    const rerun = startBackfill(lakeB);
    const exit = await rerun.exit;
    const label = `round ${round} rerun (seed ${SEED})`;
    assert.equal(exit.signal, null, `${label}: not killed`);
    assert.equal(exit.code, 3, `${label}: exit code 3 (records were quarantined); stderr:\n${exit.stderr}`);
    const report = JSON.parse(exit.stdout) as BackfillReport;
    assert.equal(report.job_id, jobId, `${label}: same job`);
    assert.equal(report.balanced, true, `${label}: balanced`);
    assert.equal(report.read, report.written + report.duplicates + report.quarantined + report.already_committed, `${label}: read = written + duplicates + quarantined + already_committed`);
    assert.equal(report.read, cleanReport.read, `${label}: read`);
    assert.equal(report.quarantined, cleanReport.quarantined, `${label}: quarantined`);
    assert.equal(before + report.written, reference.readings.length, `${label}: rows before the rerun (${before}) + written (${report.written}) = the clean run's rows`);
    const final = await lakeRows(lakeB);
    assertSameRows(final.readings, reference.readings, `${label}: readings`);
    assertNoDuplicateKeys(final.readings, `${label}: readings`);
    assertSameRows(final.quarantine, reference.quarantine, `${label}: quarantine`);
    assertSameRows(final.sensors, reference.sensors, `${label}: sensors`);
    assert.equal(existsSync(stagingDir), false, `${label}: the job's staging directory is gone`);
    log.push(`${label}: wrote ${report.written}, already committed ${report.already_committed}, windows ${report.windows_committed} committed / ${report.windows_skipped} skipped, quarantine commits ${report.quarantine_commits}, sensors upserted ${report.sensors_upserted}`);
  }
  for (const line of log) t.diagnostic(line);
  t.diagnostic(`seed ${SEED}: ${kills} kills in ${attempts} attempts; landed ${JSON.stringify(Object.fromEntries(landed))}`);
  assert.ok(kills >= KILLS, `only ${kills} of ${KILLS} kills landed in ${attempts} attempts`);
  // The schedule aims at every stage; a stage no kill reached would leave its resume path untested.
  for (const where of ['window commits', 'quarantine', 'sensors'] as Landing[]) assert.ok((landed.get(where) ?? 0) > 0, `no kill landed in ${where} (seed ${SEED})`);
  assert.ok((landed.get('pass 1') ?? 0) + (landed.get('start-up') ?? 0) > 0, `no kill landed before the first commit (seed ${SEED})`);
});
