// Crash safety: an idempotent loader (txn {appId, version: i} per batch, a checkpoint every 2 commits plus
// explicit ones) is SIGKILLed at seeded random moments, some aimed at checkpoint writes. After each kill we,
// Spark and delta-rs read the same rows at the same version, everything the loader reported is there, and a
// rerun from txn 0 ends with every batch exactly once. Temp files the kills leave behind must confuse no reader.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, readdirSync, watch, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeltaTable, field, struct, shutdownWorkers } from '../../src/delta/table.js';
import { tempDir } from '../helpers.js';
import { startPeers, type Peers, type PeerColumn } from './peers.js';
import { canonicalRows, sortRows, type CanonicalRow } from './canonical.js';
import { WorkerProcess, type WorkerMessage } from './fixtures/worker-process.js';
import { Rng } from '../../src/sim/random.js';

const SEED = process.env.CRASH_SEED ? Number(process.env.CRASH_SEED) : Date.now() % 2 ** 31;
const KILLS = 20;
const MAX_ROUNDS = 40;
const BATCHES = 12;
const ROWS = 2;
const CHECKPOINT_EVERY = 3;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORKER = path.join(HERE, 'fixtures', 'crash-worker.js');

const COLUMNS: PeerColumn[] = [
  { name: 'app', type: 'string' },
  { name: 'batch', type: 'long' },
  { name: 'k', type: 'integer' },
  { name: 'value', type: 'double' },
];
const SCHEMA = struct([field('app', 'string'), field('batch', 'long'), field('k', 'integer'), field('value', 'double')]);
const DELTA_TYPES = Object.fromEntries(COLUMNS.map((c) => [c.name, c.type]));

/** The simulator's seeded generator (mulberry32), so a failing schedule replays from its seed. */
function rngFrom(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}
const rng = rngFrom(SEED);

let peers: Peers;
const scratch = tempDir('sensorlake-crash-');
const table = path.join(scratch.dir, 'loader');
const logDir = path.join(table, '_delta_log');
/** appId -> how many of its batches (0..n-1) the table must hold. */
const expectedBatches = new Map<string, number>();
let runMs = 1000;

before(async () => {
  console.log(`# crash.test seed ${SEED} (rerun with CRASH_SEED=${SEED})`);
  peers = await startPeers({ timeoutMs: 300_000 });
  await DeltaTable.create(table, { schema: SCHEMA, properties: { 'delta.checkpointInterval': '2' } });
});

after(async () => {
  await peers?.close();
  await shutdownWorkers();
  scratch.cleanup();
});

function batchRows(app: string, batch: number): CanonicalRow[] {
  return Array.from({ length: ROWS }, (_, k) => ({ app, batch: String(batch), k, value: batch * 10 + k / 4 }));
}

function expectedRows(): CanonicalRow[] {
  const rows: CanonicalRow[] = [];
  for (const [app, n] of expectedBatches) for (let b = 0; b < n; b++) rows.push(...batchRows(app, b));
  return sortRows(rows);
}

function startLoader(appId: string): WorkerProcess {
  return new WorkerProcess(`loader ${appId}`, process.execPath, [WORKER, table, appId, String(BATCHES), String(ROWS), String(CHECKPOINT_EVERY)]);
}

interface LogState {
  versions: number[];
  /** `${appId}/${txnVersion}` -> commit versions carrying it. */
  txns: Map<string, number[]>;
  rowsByVersion: Map<number, number>;
  checkpoints: string[];
  temps: string[];
}

/** The log as it is on disk, read without our engine: commits, their txn actions and row counts, checkpoints, temps. */
function readLogState(): LogState {
  const state: LogState = { versions: [], txns: new Map(), rowsByVersion: new Map(), checkpoints: [], temps: [] };
  for (const name of readdirSync(logDir).sort()) {
    const m = /^(\d{20})\.json$/.exec(name);
    if (m) {
      const version = Number(m[1]);
      state.versions.push(version);
      let rows = 0;
      for (const line of readFileSync(path.join(logDir, name), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const a = JSON.parse(line) as Record<string, Record<string, unknown>>;
        if (a.txn) {
          const key = `${String(a.txn.appId)}/${String(a.txn.version)}`;
          state.txns.set(key, [...(state.txns.get(key) ?? []), version]);
        }
        if (a.add) rows += (JSON.parse(String(a.add.stats)) as { numRecords: number }).numRecords;
      }
      state.rowsByVersion.set(version, rows);
    } else if (/^\d{20}\.checkpoint\.parquet$/.test(name)) state.checkpoints.push(name);
    else if (name.endsWith('.tmp')) state.temps.push(name);
  }
  return state;
}

/** Temp files anywhere in the table, by what was being written when the process died. */
function tempFiles(): string[] {
  const inLog = readdirSync(logDir).filter((n) => n.endsWith('.tmp')).map((n) => `_delta_log/${n}`);
  const data = readdirSync(table).filter((n) => n.endsWith('.tmp'));
  return [...inLog, ...data].sort();
}

function kindOfTemp(p: string): string {
  if (/\.checkpoint\.parquet\.[^/]+\.tmp$/.test(p)) return 'checkpoint-parquet';
  if (p.includes('_last_checkpoint')) return 'last-checkpoint';
  if (/\/\.\d{20}\.json\./.test(p)) return 'commit';
  return 'data-file';
}

/** A Parquet file is whole when it starts and ends with PAR1 and its footer length fits inside it. */
function assertWholeParquet(file: string): void {
  const b = readFileSync(file);
  const magic = (o: number) => b.subarray(o, o + 4).toString('latin1');
  assert.ok(b.length >= 12 && magic(0) === 'PAR1' && magic(b.length - 4) === 'PAR1', `${file}: not a whole Parquet file (${b.length} bytes)`);
  assert.ok(b.readUInt32LE(b.length - 8) + 12 <= b.length, `${file}: footer length exceeds the file`);
}

/**
 * The checks after every kill and every completed run: the log is contiguous and whole, each txn is in exactly one
 * commit holding its rows, we read exactly the expected rows, and so do Spark and delta-rs, at the same version.
 */
async function checkTable(label: string, withPeers: boolean): Promise<number> {
  const log = readLogState();
  const latest = log.versions[log.versions.length - 1];
  assert.deepEqual(log.versions, Array.from({ length: latest + 1 }, (_, v) => v), `${label}: commit versions are contiguous`);
  for (const cp of log.checkpoints) assertWholeParquet(path.join(logDir, cp));
  let txnRows = 0;
  for (const [app, n] of expectedBatches) {
    for (let b = 0; b < n; b++) {
      const at = log.txns.get(`${app}/${b}`) ?? [];
      assert.equal(at.length, 1, `${label}: txn ${app}/${b} is in commits [${at.join(',')}], expected exactly one`);
      assert.equal(log.rowsByVersion.get(at[0]), ROWS, `${label}: commit ${at[0]} (txn ${app}/${b}) adds ${ROWS} rows`);
      txnRows++;
    }
  }
  assert.equal(log.txns.size, txnRows, `${label}: the log holds only expected txns`);

  const dt = await DeltaTable.open(table);
  const snap = await dt.snapshot();
  assert.equal(snap.version, latest, `${label}: our snapshot version`);
  for (const [app, n] of expectedBatches) assert.equal(snap.txnVersion(app), n === 0 ? undefined : n - 1, `${label}: txn version of ${app}`);
  const expected = expectedRows();
  const ours = canonicalRows(await dt.read(), DELTA_TYPES);
  assert.deepEqual(ours, expected, `${label}: our rows`);
  if (withPeers) {
    const rs = await peers.deltaRsRead(table);
    assert.deepEqual(rs.schema, COLUMNS, `${label}: delta-rs schema`);
    assert.deepEqual(rs.rows, expected, `${label}: delta-rs rows`);
    assert.equal(await peers.deltaRsVersion(table), latest, `${label}: delta-rs version`);
    const spark = await peers.sparkRead(table);
    assert.deepEqual(spark.schema, COLUMNS, `${label}: Spark schema`);
    assert.deepEqual(spark.rows, expected, `${label}: Spark rows`);
    assert.equal(await peers.sparkVersion(table), latest, `${label}: Spark version`);
  }
  return latest;
}

/** Runs the loader for `appId` to the end; every batch not yet committed is written, the rest skipped. */
async function runToEnd(appId: string, committedBefore: number): Promise<{ ms: number; messages: WorkerMessage[] }> {
  const w = startLoader(appId);
  await w.waitFor((m) => m.ready === true, 60_000);
  const t0 = Date.now();
  await w.finished(120_000);
  const ms = Date.now() - t0;
  const writes = w.messages.filter((m) => typeof m.txn === 'number');
  assert.deepEqual(writes.map((m) => m.txn), Array.from({ length: BATCHES }, (_, i) => i), `${appId} rerun: batches in order`);
  for (const m of writes) {
    const i = m.txn as number;
    assert.equal(m.skipped, i < committedBefore, `${appId} rerun: batch ${i} skipped iff it was committed before (${committedBefore} were)`);
  }
  assert.ok(w.messages.some((m) => m.done === true), `${appId}: finished`);
  assert.ok(!w.stderr.includes('checkpoint failed'), `${appId}: a checkpoint failed:\n${w.stderr}`);
  expectedBatches.set(appId, BATCHES);
  return { ms, messages: w.messages };
}

test('an uninterrupted run loads every batch once; its duration sets the kill window', async (t) => {
  expectedBatches.set('warmup', 0);
  runMs = (await runToEnd('warmup', 0)).ms;
  await checkTable('after the warm-up run', true);
  // A second full run must skip everything and commit nothing.
  const before = readLogState().versions.length;
  await runToEnd('warmup', BATCHES);
  assert.equal(readLogState().versions.length, before, 'a rerun of a finished load commits nothing');
  t.diagnostic(`seed ${SEED}; a run of ${BATCHES} batches takes ${runMs} ms after start-up`);
});

type Strategy = 'timer' | 'explicit-checkpoint' | keyof typeof TEMP_TRIGGERS;

/** Kills aimed at a write in progress: the n-th temp file of that kind appearing (LocalStorage's temp + rename/link). */
const TEMP_TRIGGERS = {
  'checkpoint-temp': { dir: () => logDir, name: /^\d{20}\.checkpoint\.parquet\..+\.tmp$/, maxNth: 6 },
  'commit-temp': { dir: () => logDir, name: /^\.\d{20}\.json\..+\.tmp$/, maxNth: 12 },
  'data-temp': { dir: () => table, name: /\.parquet\..+\.tmp$/, maxNth: 12 },
};

function pickStrategy(roll: number): Strategy {
  if (roll < 0.35) return 'timer';
  if (roll < 0.65) return 'checkpoint-temp';
  if (roll < 0.8) return 'explicit-checkpoint';
  return roll < 0.9 ? 'commit-temp' : 'data-temp';
}

test(`${KILLS} SIGKILLs at random points, some mid-checkpoint: all readers agree, reported commits survive, reruns finish exactly once`, async (t) => {
  const summary: string[] = [];
  const landed = new Map<string, number>();
  let kills = 0;
  let midCheckpointParquet = 0;
  for (let round = 0; round < MAX_ROUNDS && (kills < KILLS || midCheckpointParquet === 0); round++) {
    const appId = `loader-${round}`;
    expectedBatches.set(appId, 0);
    const tempsBefore = new Set(tempFiles());
    const strategy = pickStrategy(rng());
    const delayMs = Math.floor(rng() * runMs * 1.1);
    const nthRoll = rng();
    const afterBeginMs = rng() * 30;

    const w = startLoader(appId);
    let killedAt = '';
    const kill = (why: string): void => {
      if (killedAt) return;
      killedAt = why;
      w.kill();
    };
    let watcher: ReturnType<typeof watch> | undefined;
    if (strategy in TEMP_TRIGGERS) {
      // Kill the moment the n-th temp file of that kind appears: its bytes are being written, synced or linked.
      const trigger = TEMP_TRIGGERS[strategy as keyof typeof TEMP_TRIGGERS];
      const nth = 1 + Math.floor(nthRoll * trigger.maxNth);
      const seen = new Set<string>();
      watcher = watch(trigger.dir(), (_event, name) => {
        if (!name || !trigger.name.test(name) || seen.has(name)) return;
        seen.add(name);
        if (seen.size === nth) kill(`on ${strategy} file #${nth}`);
      });
    }
    try {
      await w.waitFor((m) => m.ready === true, 60_000);
      if (strategy === 'timer') {
        const timer = setTimeout(() => kill(`${delayMs} ms after start`), delayMs);
        await w.exit;
        clearTimeout(timer);
      } else if (strategy === 'explicit-checkpoint') {
        const nth = 1 + Math.floor(nthRoll * 3);
        let begins = 0;
        const onBegin = w.waitFor((m) => m.checkpoint === 'begin' && ++begins === nth, 120_000).then(
          () => setTimeout(() => kill(`${afterBeginMs.toFixed(1)} ms into explicit checkpoint #${nth}`), afterBeginMs),
          () => undefined,
        );
        await w.exit;
        clearTimeout(await onBegin);
      } else {
        await w.exit;
      }
    } finally {
      watcher?.close();
      w.kill();
    }
    const exit = await w.exit;
    // On a loaded machine fs.watch and timers can fire after the loader already finished: then no kill landed.
    if (killedAt && exit.signal !== 'SIGKILL' && exit.code === 0) killedAt = '';

    const reported = w.messages.filter((m) => typeof m.txn === 'number' && m.version !== undefined);
    const lastReported = reported.length;
    // What the loader said it committed is durable; at most the one batch in flight may have gone in unreported.
    const snap = await (await DeltaTable.open(table)).snapshot();
    const txnVersion = snap.txnVersion(appId);
    const committed = txnVersion === undefined ? 0 : txnVersion + 1;
    if (!killedAt) {
      assert.equal(exit.code, 0, `round ${round}: the loader finished without being killed, so cleanly; stderr: ${w.stderr}`);
      assert.equal(committed, BATCHES);
    } else {
      assert.equal(exit.signal, 'SIGKILL', `round ${round}: the loader died by our SIGKILL`);
      assert.ok(committed === lastReported || committed === lastReported + 1, `round ${round} (${appId}): ${committed} batches committed, ${lastReported} reported`);
    }
    const logNow = readLogState();
    for (const m of reported.filter((x) => x.skipped === false)) {
      assert.deepEqual(logNow.txns.get(`${appId}/${String(m.txn)}`), [m.version], `round ${round}: reported batch ${String(m.txn)} is in commit ${String(m.version)}`);
    }
    expectedBatches.set(appId, committed);
    const newTemps = tempFiles().filter((p) => !tempsBefore.has(p));
    const kinds = [...new Set(newTemps.map(kindOfTemp))];
    const lastSaid = w.messages[w.messages.length - 1];
    if (killedAt) {
      kills++;
      for (const k of kinds) landed.set(k, (landed.get(k) ?? 0) + 1);
      if (kinds.includes('checkpoint-parquet')) midCheckpointParquet++;
      if (lastSaid?.checkpoint === 'begin') landed.set('inside explicit checkpoint()', (landed.get('inside explicit checkpoint()') ?? 0) + 1);
    }
    const line =
      `round ${round}: ${killedAt ? `killed ${killedAt}` : 'finished before the kill'}; reported ${lastReported}, committed ${committed}; ` +
      `last said ${JSON.stringify(lastSaid ?? null)}; temp files left: ${kinds.join(', ') || 'none'}`;
    summary.push(line);

    const latest = await checkTable(`round ${round} after the kill (seed ${SEED}; ${line})`, true);
    await runToEnd(appId, committed);
    const latestAfter = await checkTable(`round ${round} after the rerun (seed ${SEED})`, false);
    assert.equal(
      latestAfter - latest,
      BATCHES - committed,
      `round ${round}: the rerun committed exactly the ${BATCHES - committed} missing batches`,
    );
  }
  for (const line of summary) t.diagnostic(line);
  t.diagnostic(`seed ${SEED}: ${kills} kills; temp files left behind by kind (kills): ${JSON.stringify(Object.fromEntries(landed))}`);
  assert.ok(kills >= KILLS, `only ${kills} of ${KILLS} kills landed in ${MAX_ROUNDS} rounds`);
  assert.ok(midCheckpointParquet > 0, 'no kill landed while a checkpoint Parquet file was being written');
  await checkTable('after all kills and reruns', true);
});

test('leftover temp files of a later version, as a crash leaves them, confuse no reader and block no writer', async () => {
  const latest = readLogState().versions.at(-1)!;
  const next = String(latest + 1).padStart(20, '0');
  const checkpoints = readLogState().checkpoints;
  const lastCheckpoint = path.join(logDir, checkpoints[checkpoints.length - 1]);
  // Named exactly as LocalStorage names its temps, for the version a crashed writer was about to make.
  const half = readFileSync(lastCheckpoint).subarray(0, 100);
  writeFileSync(path.join(logDir, `${next}.checkpoint.parquet.${randomUUID()}.tmp`), half);
  copyFileSync(lastCheckpoint, path.join(logDir, `${next}.checkpoint.parquet.${randomUUID()}.tmp`));
  writeFileSync(path.join(logDir, `_last_checkpoint.${randomUUID()}.tmp`), JSON.stringify({ version: latest + 1, size: 3 }));
  const fakeAdd = { add: { path: 'part-00000-gone.parquet', partitionValues: {}, size: 1, modificationTime: 0, dataChange: true, stats: '{"numRecords":5}' } };
  writeFileSync(path.join(logDir, `.${next}.json.${randomUUID()}.tmp`), `${JSON.stringify({ commitInfo: { timestamp: 0 } })}\n${JSON.stringify(fakeAdd)}\n`);
  const dataFile = readdirSync(table).find((n) => n.endsWith('.parquet'))!;
  copyFileSync(path.join(table, dataFile), path.join(table, `${dataFile}.${randomUUID()}.tmp`));
  assert.ok(existsSync(lastCheckpoint));

  assert.equal(await checkTable('with planted temp files', true), latest);
  expectedBatches.set('after-temps', 0);
  await runToEnd('after-temps', 0);
  assert.equal(await checkTable('after a run over planted temp files', true), latest + BATCHES);
});
