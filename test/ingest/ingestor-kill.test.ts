// Kill -9 and restart: a child process (kill-child.ts) submits batches as fast as it can and prints each ack; it is
// SIGKILLed at seeded random moments (during recovery, submits, fsyncs and micro-batch commits), restarted with
// redeliveries of what it sent before, and finally closed. Then every acknowledged reading is in `readings` exactly
// once, nothing else is there but readings of batches that were sent, every acknowledged reject is quarantined once,
// key retries get their first ack back, and no WAL position was handed out twice. INGEST_KILL_SEED=<n> replays.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DeltaTable } from '../../src/delta/table.js';
import { lakePaths } from '../../src/backfill/lake.js';
import { tempDir } from '../helpers.js';
import { badOf, keyOf, PER_BATCH, readingOf } from './kill-child.js';
import { Rng } from '../../src/sim/random.js';

const SEED = process.env.INGEST_KILL_SEED ? Number(process.env.INGEST_KILL_SEED) : Date.now() % 2 ** 31;
const KILLS = 5;
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'kill-child.js');
const scratch = tempDir('ingest-kill-');
after(() => scratch.cleanup());

/** The simulator's seeded generator (mulberry32), so a failing schedule replays from its seed. */
function rngFrom(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

interface Run {
  lines: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs the child; with `kill`, SIGKILLs it `ms` after it started (possibly during recovery) or after it printed
 * READY (amid submits and commits).
 */
function runChild(lake: string, first: number, mode: 'run' | 'finish', resubmit: number[], kill?: { ms: number; from: 'start' | 'ready' }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, lake, String(first), mode, resubmit.length ? resubmit.join(',') : '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    // Only whole lines count: a line cut by the kill was never printed in full.
    let timer: NodeJS.Timeout | null = null;
    const arm = (): void => void (timer ??= setTimeout(() => child.kill('SIGKILL'), kill!.ms));
    createInterface({ input: child.stdout }).on('line', (l) => {
      lines.push(l);
      if (l === 'READY' && kill?.from === 'ready') arm();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (kill?.from === 'start') arm();
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ lines, code, signal, stderr });
    });
  });
}

test(`kill -9 at random moments (seed ${SEED}): every acknowledged reading is in readings exactly once`, { timeout: 120_000 }, async (t) => {
  const rng = rngFrom(SEED);
  const lake = path.join(scratch.dir, 'lake');
  const acked = new Map<number, number>(); // batch id -> position of its first (non-duplicate) ack
  const sent = new Set<number>();
  const sends = new Map<number, number>(); // batch id -> times sent
  const entries = new Map<number, number>(); // batch id -> non-duplicate acks (each one WAL entry)
  const positions = new Map<number, number>(); // position -> batch id, for non-duplicate acks
  let keyRetries = 0;
  let next = 0;
  let resubmit: number[] = [];
  const absorb = (run: Run): void => {
    for (const line of run.lines) {
      const [kind, a, b, c] = line.split(' ');
      if (kind === 'SUB') {
        sent.add(Number(a));
        sends.set(Number(a), (sends.get(Number(a)) ?? 0) + 1);
      }
      if (kind !== 'ACK') continue;
      const id = Number(a);
      const position = Number(b);
      const dup = c === '1';
      if (dup) {
        assert.ok(keyOf(id), `batch ${id} got a duplicate ack but carries no idempotency key`);
        keyRetries++;
        const firstPos = acked.get(id);
        if (firstPos !== undefined) assert.equal(position, firstPos, `key retry of batch ${id}: the first ack's position`);
        else acked.set(id, position); // first sent before a kill, durable but unacknowledged then
        continue;
      }
      const other = positions.get(position);
      assert.ok(other === undefined, `WAL position ${position} acknowledged for batch ${id} and for batch ${other}`);
      positions.set(position, id);
      entries.set(id, (entries.get(id) ?? 0) + 1);
      if (!acked.has(id)) acked.set(id, position);
    }
  };
  const kills: string[] = [];
  for (let k = 0; k < KILLS; k++) {
    // Mostly amid submits and commits; one in three from the start, which may land in recovery (replay commits).
    const from = rng() < 0.34 ? 'start' : 'ready';
    const delay = Math.round(from === 'start' ? 200 + rng() * 1200 : rng() * 1500);
    const run = await runChild(lake, next, 'run', resubmit, { ms: delay, from });
    assert.equal(run.signal, 'SIGKILL', `run ${k} ended by itself (code ${run.code}): ${run.stderr.slice(-2000)}`);
    absorb(run);
    const ready = run.lines.includes('READY');
    kills.push(`${delay} ms after ${from}${ready ? '' : ' (in recovery)'}`);
    // Next run: new ids, and a client's retries of the last batches it sent (acknowledged or not, some keyed).
    const mine = [...sent].filter((id) => id >= next);
    next = Math.max(next, ...mine.map((id) => id + 1)) + 1000;
    resubmit = mine.sort((x, y) => y - x).slice(0, 6);
  }
  const last = await runChild(lake, next, 'finish', resubmit);
  assert.equal(last.code, 0, `final run failed: ${last.stderr.slice(-2000)}`);
  assert.ok(last.lines.includes('CLOSED'));
  absorb(last);
  t.diagnostic(`kills after ${kills.join(', ')}; ${acked.size} batches acknowledged, ${sent.size} sent, ${keyRetries} key retries answered from the first ack`);
  assert.ok(acked.size >= 20, `only ${acked.size} batches were acknowledged`);

  // Readings: no key twice; every reading of an acknowledged batch there with its value; nothing not sent.
  const table = await DeltaTable.open(lakePaths(lake).readings);
  const rows = await table.read({ columns: ['sensor_id', 'ts', 'value', 'source'] });
  const seen = new Map<string, number>();
  for (const batch of rows.batches) {
    const ts = batch.getChild('ts')!.data[0].values as unknown as BigInt64Array;
    const ids = batch.getChild('sensor_id')!;
    const values = batch.getChild('value')!;
    for (let r = 0; r < batch.numRows; r++) {
      const key = `${String(ids.get(r))}@${ts[r]}`;
      assert.ok(!seen.has(key), `(sensor_id, ts) ${key} is in readings twice`);
      seen.set(key, values.get(r) as number);
    }
  }
  for (const [key, value] of seen) {
    const id = Math.floor(value / 10_000);
    const r = readingOf(id, value % 10_000);
    assert.equal(`${r.sensor}@${r.ts}`, key, `row ${key} holds value ${value}, which belongs elsewhere`);
    assert.ok(sent.has(id), `row ${key} is of batch ${id}, which was never sent`);
  }
  let missing = 0;
  for (const id of acked.keys()) {
    for (let k = 0; k < PER_BATCH; k++) {
      const r = readingOf(id, k);
      if (seen.get(`${r.sensor}@${r.ts}`) !== r.value) missing++;
    }
  }
  assert.equal(missing, 0, `${missing} acknowledged readings are not in readings`);

  // Quarantine: a reject is not deduped (a redelivered request quarantines its bad record again), but each WAL
  // entry's rejects are committed exactly once: as often as the batch was acknowledged as new, at most as often as sent.
  const q = await DeltaTable.open(lakePaths(lake).quarantine);
  const count = new Map<string, number>();
  for (const raw of (await q.read({ columns: ['raw'] })).getChild('raw')!.toArray() as string[]) count.set(raw, (count.get(raw) ?? 0) + 1);
  for (const id of sent) {
    const bad = badOf(id);
    if (!bad) continue;
    const n = count.get(bad) ?? 0;
    assert.ok(n >= (entries.get(id) ?? 0), `${bad}: quarantined ${n} times, acknowledged ${entries.get(id)} times`);
    assert.ok(n <= sends.get(id)!, `${bad}: quarantined ${n} times, sent ${sends.get(id)} times`);
  }
  assert.equal([...count.keys()].filter((raw) => !sent.has(Number(raw.slice(4)))).length, 0, 'quarantined records of batches never sent');
  // The final close committed everything: the txn carries the highest position acknowledged.
  const txn = (await table.txnVersion('kill-test')) ?? -1;
  assert.ok(txn >= Math.max(...positions.keys()), `readings txn ${txn} is below acknowledged position ${Math.max(...positions.keys())}`);
});
