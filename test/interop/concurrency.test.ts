// Concurrent writers on one table: four of our processes and one delta-rs process blind-append 50 commits each at
// the same time. Every commit must land exactly once at its own version (0..250, contiguous), carrying its own rows,
// and Spark and delta-rs must read the final table row for row as we do.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeltaTable, field, struct, shutdownWorkers } from '../../src/delta/table.js';
import { tempDir } from '../helpers.js';
import { startPeers, repoRoot, type Peers, type PeerColumn } from './peers.js';
import { canonicalRows, sortRows, type CanonicalRow } from './canonical.js';
import { WorkerProcess } from './fixtures/worker-process.js';

const OUR_WRITERS = 4;
const COMMITS = 50;
const ROWS = 3;
const HERE = path.dirname(fileURLToPath(import.meta.url));

const COLUMNS: PeerColumn[] = [
  { name: 'writer', type: 'string' },
  { name: 'seq', type: 'long' },
  { name: 'k', type: 'integer' },
  { name: 'value', type: 'double' },
];
const SCHEMA = struct([field('writer', 'string'), field('seq', 'long'), field('k', 'integer'), field('value', 'double')]);
const DELTA_TYPES = Object.fromEntries(COLUMNS.map((c) => [c.name, c.type]));

let peers: Peers;
const scratch = tempDir('sensorlake-concurrency-');

before(async () => {
  peers = await startPeers({ timeoutMs: 300_000 });
});

after(async () => {
  await peers?.close();
  await shutdownWorkers();
  scratch.cleanup();
});

/** What writer `writer`'s commit `seq` holds; the same function as in both worker scripts. */
function commitRows(writer: string, seq: number): CanonicalRow[] {
  return Array.from({ length: ROWS }, (_, k) => ({ writer, seq: String(seq), k, value: seq + k / 8 }));
}

interface LogCommit {
  version: number;
  marker: string | undefined;
  readVersion: number | undefined;
  engineInfo: string | undefined;
  /** delta-rs records its commit retries in operationMetrics.num_retries. */
  retries: number | undefined;
  addRows: number;
  adds: number;
  otherActions: string[];
}

/** Reads every commit file of the log straight from disk, independently of our engine's log code. */
function readLog(table: string): { commits: LogCommit[]; checkpoints: number[]; others: string[] } {
  const log = path.join(table, '_delta_log');
  const commits: LogCommit[] = [];
  const checkpoints: number[] = [];
  const others: string[] = [];
  for (const name of readdirSync(log).sort()) {
    let m: RegExpExecArray | null;
    if ((m = /^(\d{20})\.json$/.exec(name))) {
      const c: LogCommit = { version: Number(m[1]), marker: undefined, readVersion: undefined, engineInfo: undefined, retries: undefined, addRows: 0, adds: 0, otherActions: [] };
      for (const line of readFileSync(path.join(log, name), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const action = JSON.parse(line) as Record<string, Record<string, unknown>>;
        if (action.commitInfo) {
          const ci = action.commitInfo;
          c.marker = typeof ci.userMetadata === 'string' ? ci.userMetadata : undefined;
          c.readVersion = typeof ci.readVersion === 'number' ? ci.readVersion : undefined;
          c.engineInfo = typeof ci.engineInfo === 'string' ? ci.engineInfo : undefined;
          const retries = (ci.operationMetrics as Record<string, unknown> | undefined)?.num_retries;
          c.retries = typeof retries === 'number' ? retries : undefined;
        } else if (action.add) {
          c.adds++;
          c.addRows += (JSON.parse(String(action.add.stats)) as { numRecords: number }).numRecords;
        } else c.otherActions.push(...Object.keys(action));
      }
      commits.push(c);
    } else if ((m = /^(\d{20})\.checkpoint\.parquet$/.exec(name))) checkpoints.push(Number(m[1]));
    else others.push(name);
  }
  return { commits, checkpoints, others };
}

test(`${OUR_WRITERS} sensorlake processes and 1 delta-rs process append ${COMMITS} commits each to one table at once`, async (t) => {
  const table = path.join(scratch.dir, 'contended');
  await DeltaTable.create(table, { schema: SCHEMA });
  const started = Date.now();

  const names = [...Array.from({ length: OUR_WRITERS }, (_, i) => `sl${i}`), 'rs'];
  const python = path.join(repoRoot(), '.venv', 'bin', 'python');
  const workers = names.map((name) =>
    name === 'rs'
      ? new WorkerProcess(name, python, [path.join(repoRoot(), 'test', 'interop', 'fixtures', 'deltars-append-worker.py'), table, name, String(COMMITS), String(ROWS)])
      : new WorkerProcess(name, process.execPath, [path.join(HERE, 'fixtures', 'append-worker.js'), table, name, String(COMMITS), String(ROWS)]),
  );
  try {
    // A barrier: every writer has loaded its libraries and opened the table before any of them starts.
    await Promise.all(workers.map((w) => w.waitFor((m) => m.ready === true, 60_000)));
    for (const w of workers) w.send('go');
    await Promise.all(workers.map((w) => w.finished(120_000)));
  } finally {
    for (const w of workers) w.kill();
  }
  const writeSeconds = (Date.now() - started) / 1000;

  // 1. Each writer reports every commit once, in order, at versions that only go up; no two commits share a version.
  const reported = new Map<number, string>();
  for (const w of workers) {
    const commits = w.messages.filter((m) => typeof m.seq === 'number');
    assert.deepEqual(commits.map((m) => m.seq), Array.from({ length: COMMITS }, (_, i) => i), `${w.name}: seqs reported`);
    let prev = 0;
    for (const m of commits) {
      const v = m.version as number;
      assert.ok(Number.isInteger(v) && v > prev, `${w.name}: seq ${String(m.seq)} committed at version ${v} after ${prev}`);
      assert.ok(!reported.has(v), `version ${v} reported by ${w.name} and ${reported.get(v)}`);
      reported.set(v, `${w.name}:${String(m.seq)}`);
      prev = v;
    }
  }
  const total = names.length * COMMITS;
  assert.equal(reported.size, total);

  // 2. The log: versions 0..250, contiguous, one commit per reported write, carrying that write's marker and rows.
  const log = readLog(table);
  assert.deepEqual(log.commits.map((c) => c.version), Array.from({ length: total + 1 }, (_, v) => v), 'commit versions');
  const markers = new Set<string>();
  let overtaken = 0;
  let maxOvertaken = 0;
  let rsRetries = 0;
  for (const c of log.commits.slice(1)) {
    assert.equal(c.marker, reported.get(c.version), `commit ${c.version}: marker`);
    assert.ok(!markers.has(c.marker!), `marker ${c.marker} committed twice`);
    markers.add(c.marker!);
    assert.equal(c.addRows, ROWS, `commit ${c.version}: rows added`);
    assert.deepEqual(c.otherActions, [], `commit ${c.version}: only commitInfo and add`);
    assert.equal(c.engineInfo?.startsWith('sensorlake'), !c.marker!.startsWith('rs:'), `commit ${c.version}: engineInfo ${c.engineInfo}`);
    // Ours: commits that went in between the writer's read and its commit, each one it had to step over.
    rsRetries += c.retries ?? 0;
    if (c.readVersion !== undefined) {
      overtaken += c.version - c.readVersion - 1;
      maxOvertaken = Math.max(maxOvertaken, c.version - c.readVersion - 1);
    }
  }
  assert.equal(markers.size, total);
  // The run must really have interleaved the writers, or this test proves nothing about contention.
  let switches = 0;
  for (let v = 2; v <= total; v++) if (reported.get(v)!.split(':')[0] !== reported.get(v - 1)!.split(':')[0]) switches++;
  assert.ok(switches >= 20, `writers interleaved only ${switches} times across ${total} commits`);
  assert.ok(overtaken > 0, 'no commit ever had to step over a concurrent one');
  // Each of our writers checkpoints the versions it commits at delta.checkpointInterval (10), and none may fail.
  for (const c of log.commits) {
    if (c.version > 0 && c.version % 10 === 0 && !c.marker!.startsWith('rs:')) {
      assert.ok(log.checkpoints.includes(c.version), `checkpoint ${c.version} (committed by ${c.marker}) was written`);
    }
  }
  for (const w of workers) assert.ok(!w.stderr.includes('checkpoint failed'), `${w.name} logged a failed checkpoint:\n${w.stderr}`);
  const tmpLeft = log.others.filter((n) => n.endsWith('.tmp'));
  assert.deepEqual(tmpLeft, [], 'no temp files left in _delta_log by writers that finished');

  // 3. Rows: each commit's rows exactly once, read by us, Spark and delta-rs alike.
  const expected = sortRows(names.flatMap((w) => Array.from({ length: COMMITS }, (_, seq) => commitRows(w, seq)).flat()));
  const ours = canonicalRows(await (await DeltaTable.open(table)).read(), DELTA_TYPES);
  assert.equal(ours.length, total * ROWS);
  assert.deepEqual(ours, expected, 'our read');
  assert.equal(await (await DeltaTable.open(table)).version(), total);
  const rs = await peers.deltaRsRead(table);
  assert.deepEqual(rs.schema, COLUMNS);
  assert.deepEqual(rs.rows, expected, 'delta-rs read');
  assert.equal(await peers.deltaRsVersion(table), total);
  const spark = await peers.sparkRead(table);
  assert.deepEqual(spark.schema, COLUMNS);
  assert.deepEqual(spark.rows, expected, 'Spark read');
  assert.equal(await peers.sparkVersion(table), total);

  t.diagnostic(
    `${total} commits by ${names.length} processes in ${writeSeconds.toFixed(1)} s; writer switches ${switches}; ` +
      `commits stepped over: ${overtaken} in total, at most ${maxOvertaken} by one commit; delta-rs retries ${rsRetries}; checkpoints at ${log.checkpoints.join(',')}`,
  );
});
