// The commit loop against real files: losing the race re-reads the winners, applies the conflict rules, and
// retries at the next version; a replaceWhere that a concurrent matching append invalidates fails instead.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { DeltaTable, field, struct, shutdownWorkers } from '../../src/delta/table.js';
import { commit } from '../../src/delta/commit.js';
import { loadSnapshot } from '../../src/delta/snapshot.js';
import { LocalStorage } from '../../src/delta/engine/local-storage.js';
import { bindPredicate, parsePredicate } from '../../src/delta/kernel/predicate.js';
import type { TransactionFootprint } from '../../src/delta/kernel/conflict.js';
import { ConflictError, CommitVersionTakenError } from '../../src/errors.js';
import { tempDir, readingsTable, makeReadings, JAN1, US_PER_DAY } from '../helpers.js';

after(() => shutdownWorkers());

const schema = struct([field('ts', 'timestamp', false), field('sensor_id', 'string', false), field('value', 'double'), field('quality', 'integer', false), field('date', 'date', false)]);
const day = (i: number) => makeReadings({ days: 1, sensors: 1, perDay: 1, startUs: JAN1 + BigInt(i) * US_PER_DAY });

async function setup(dir: string) {
  const t = await DeltaTable.create(path.join(dir, 't'), { schema, partitionColumns: ['date'] });
  await t.write(readingsTable(day(0)));
  return { t, storage: new LocalStorage(t.location) };
}

function footprint(table: string, readVersion: number, over: Partial<TransactionFootprint> = {}): TransactionFootprint {
  return { table, readVersion, isBlindAppend: true, readPredicate: 'none', readFiles: new Set(), removedFiles: new Set(), txnAppIds: new Set(), changesMetadata: false, ...over };
}

test('a blind append that lost the race lands at the next free version', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { t, storage } = await setup(dir);
    const stale = await loadSnapshot(storage); // version 1
    await t.write(readingsTable(day(1))); // version 2 wins the race
    await t.write(readingsTable(day(2))); // version 3
    const r = await commit(storage, { footprint: footprint(t.location, stale.version), actions: [], commitInfo: { operation: 'WRITE' } });
    assert.equal(r.version, 4);
    assert.equal(r.attempts, 2);
    // The winners come back as read, for the writer to advance its snapshot without reading the log again.
    assert.deepEqual(r.winners.map((w) => w.version), [2, 3]);
    assert.equal(r.version !== null && r.committed.version, 4);
    const h = await t.history(1);
    assert.equal(h[0].readVersion, 1);
  } finally {
    cleanup();
  }
});

test('replaceWhere conflicts with a concurrent append into its partition, not with one elsewhere', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { t, storage } = await setup(dir);
    const snap = await loadSnapshot(storage);
    const pred = bindPredicate(parsePredicate("date = '2024-01-01'"), snap.schema);
    const ours = footprint(t.location, snap.version, { isBlindAppend: false, readPredicate: pred });
    await t.write(readingsTable(day(5))); // another partition: compatible
    const ok = await commit(storage, { footprint: ours, actions: [], commitInfo: { operation: 'WRITE' } });
    assert.equal(ok.version, 3);
    await t.write(readingsTable(day(0))); // our partition, version 4
    await assert.rejects(
      commit(storage, { footprint: { ...ours, readVersion: 3 }, actions: [], commitInfo: { operation: 'WRITE' } }),
      (e: Error) => e instanceof ConflictError && /concurrent commit 4 .* added file date=2024-01-01/.test(e.message),
    );
    assert.equal(await t.version(), 4, 'nothing was committed by the conflicting transaction');
  } finally {
    cleanup();
  }
});

test('retries are bounded; a winner that already committed our txn makes the commit a no-op', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { t, storage } = await setup(dir);
    await t.write(readingsTable(day(1)));
    await t.write(readingsTable(day(2)));
    await assert.rejects(
      commit(storage, { footprint: footprint(t.location, 0), actions: [], commitInfo: { operation: 'WRITE' }, maxRetries: 0 }),
      CommitVersionTakenError,
    );
    await t.write(readingsTable(day(3)), { txn: { appId: 'job', version: 7 } }); // version 4
    const r = await commit(storage, {
      footprint: footprint(t.location, 3, { txnAppIds: new Set(['job']) }),
      actions: [{ txn: { appId: 'job', version: 7 } }],
      txn: { appId: 'job', version: 7 },
      commitInfo: { operation: 'WRITE' },
    });
    assert.equal(r.version, null);
    assert.equal(await t.version(), 4);
  } finally {
    cleanup();
  }
});
