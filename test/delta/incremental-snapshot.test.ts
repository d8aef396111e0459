// Incremental snapshots: two DeltaTable instances on one table, each moving its cached snapshot forward by the
// commits after it (its own and the other's), must equal a fresh load from the log at every step, never list the
// log (no full reload), and never change a snapshot a caller already holds. The layered map under the snapshots is
// checked against a plain Map model.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import * as path from 'node:path';
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { DeltaTable, field, struct, shutdownWorkers, type Snapshot } from '../../src/delta/table.js';
import { loadSnapshot } from '../../src/delta/snapshot.js';
import { commit } from '../../src/delta/commit.js';
import { LocalStorage } from '../../src/delta/engine/local-storage.js';
import type { FileMeta } from '../../src/delta/engine/storage.js';
import { LayeredMap } from '../../src/delta/kernel/layered-map.js';
import { tempDir, readingsTable, makeReadings, JAN1, US_PER_DAY } from '../helpers.js';

after(() => shutdownWorkers());

const schema = struct([field('ts', 'timestamp', false), field('sensor_id', 'string', false), field('value', 'double'), field('quality', 'integer', false), field('date', 'date', false)]);

/** LocalStorage that counts listings: an incremental advance never lists _delta_log, a full load always does. */
class CountingStorage extends LocalStorage {
  lists = 0;
  override list(dir: string, fromName?: string): Promise<FileMeta[]> {
    this.lists++;
    return super.list(dir, fromName);
  }
}

const sortedEntries = <V>(m: ReadonlyMap<string, V>): [string, V][] => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

/** Everything a snapshot holds, comparable with deepEqual; tombstones past the table's retention at `now` are left out. */
function canonical(s: Snapshot, now: number): unknown {
  const retention = s.metadata.configuration['delta.deletedFileRetentionDuration'] === 'interval 1 second' ? 1000 : 7 * 24 * 3600_000;
  const live = new Map([...s.tombstones()].filter(([, r]) => (r.deletionTimestamp ?? 0) > now - retention));
  return {
    version: s.version,
    protocol: s.protocol,
    metadata: s.metadata,
    files: sortedEntries(s.fileMap()),
    tombstones: sortedEntries(live),
    txns: s.txns().sort((a, b) => (a.appId < b.appId ? -1 : 1)),
    domains: sortedEntries(s.domainMetadata()),
  };
}

type Op =
  | { kind: 'append'; by: 0 | 1; day: number; rows: number; txn: boolean }
  | { kind: 'race'; dayA: number; dayB: number }
  | { kind: 'overwrite'; by: 0 | 1; day: number }
  | { kind: 'replaceWhere'; by: 0 | 1; day: number; rows: number }
  | { kind: 'mergeSchema'; by: 0 | 1; day: number }
  | { kind: 'optimize'; by: 0 | 1 }
  | { kind: 'checkpoint'; by: 0 | 1 }
  | { kind: 'domain'; name: 'd1' | 'd2'; removed: boolean }
  | { kind: 'hold'; by: 0 | 1 };

const by = fc.constantFrom<0 | 1>(0, 1);
const day = fc.integer({ min: 0, max: 3 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('append' as const), by, day, rows: fc.integer({ min: 1, max: 3 }), txn: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('race' as const), dayA: day, dayB: day }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('overwrite' as const), by, day }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('replaceWhere' as const), by, day, rows: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('mergeSchema' as const), by, day }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('optimize' as const), by }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('checkpoint' as const), by }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('domain' as const), name: fc.constantFrom<'d1' | 'd2'>('d1', 'd2'), removed: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hold' as const), by }) },
);

let seed = 1;
function rowsOfDay(d: number, n: number): arrow.Table {
  return readingsTable(makeReadings({ days: 1, sensors: 1, perDay: n, startUs: JAN1 + BigInt(d) * US_PER_DAY, seed: seed++ }));
}

test('an advanced snapshot equals a fresh load after every append, race, overwrite, replaceWhere, optimize, checkpoint and txn', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), fc.constantFrom(undefined, 'interval 1 second'), fc.integer({ min: 2, max: 5 }), async (ops, retention, interval) => {
      const { dir, cleanup } = tempDir();
      try {
        const loc = path.join(dir, 't');
        const properties: Record<string, string> = { 'delta.checkpointInterval': String(interval) };
        if (retention) properties['delta.deletedFileRetentionDuration'] = retention;
        await DeltaTable.create(loc, { schema, partitionColumns: ['date'], properties });
        const storages = [new CountingStorage(loc), new CountingStorage(loc)];
        const tables = [await DeltaTable.open(storages[0]), await DeltaTable.open(storages[1])];
        for (const s of storages) s.lists = 0;
        const txnVersion = [0, 0];
        const held: { snap: Snapshot; form: string }[] = [];
        let evolved = false;
        for (const o of ops) {
          if (o.kind === 'append') {
            await tables[o.by].write(rowsOfDay(o.day, o.rows), o.txn ? { txn: { appId: `w${o.by}`, version: ++txnVersion[o.by] } } : {});
          } else if (o.kind === 'race') {
            // Two blind appends at once: one loses the race, reads the winner and lands after it.
            await Promise.all([
              tables[0].write(rowsOfDay(o.dayA, 1), { txn: { appId: 'w0', version: ++txnVersion[0] } }),
              tables[1].write(rowsOfDay(o.dayB, 1), { txn: { appId: 'w1', version: ++txnVersion[1] } }),
            ]);
          } else if (o.kind === 'overwrite') {
            await tables[o.by].write(rowsOfDay(o.day, 1), { mode: 'overwrite' });
          } else if (o.kind === 'replaceWhere') {
            const date = new Date(Number((JAN1 + BigInt(o.day) * US_PER_DAY) / 1000n)).toISOString().slice(0, 10);
            await tables[o.by].write(o.rows === 0 ? [] : rowsOfDay(o.day, o.rows), { mode: 'overwrite', replaceWhere: `date = '${date}'` });
          } else if (o.kind === 'mergeSchema') {
            const t = rowsOfDay(o.day, 1);
            const withNote = new arrow.Table({ ...Object.fromEntries(t.schema.fields.map((f) => [f.name, t.getChild(f.name)!])), note: arrow.vectorFromArray(['n'], new arrow.Utf8()) });
            await tables[o.by].write(withNote, { mergeSchema: true });
            evolved = true;
          } else if (o.kind === 'optimize') {
            await tables[o.by].optimize({ targetFileBytes: 1 << 20 });
          } else if (o.kind === 'checkpoint') {
            await tables[o.by].checkpoint();
          } else if (o.kind === 'domain') {
            // A foreign writer: a protocol upgrade to table features plus domain metadata, which our writer never makes.
            const storage = new LocalStorage(loc);
            const snap = await loadSnapshot(storage);
            const protocol = { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ['appendOnly', 'invariants', 'domainMetadata'] };
            const actions = [
              ...(snap.protocol.minWriterVersion < 7 ? [{ protocol }] : []),
              { domainMetadata: { domain: o.name, configuration: JSON.stringify({ v: snap.version }), removed: o.removed } },
            ];
            const footprint = { table: loc, readVersion: snap.version, isBlindAppend: false, readPredicate: 'none' as const, readFiles: new Set<string>(), removedFiles: new Set<string>(), txnAppIds: new Set<string>(), changesMetadata: false };
            await commit(storage, { footprint, actions, commitInfo: { operation: 'SET DOMAIN' } });
          } else {
            const snap = await tables[o.by].snapshot();
            held.push({ snap, form: JSON.stringify(canonical(snap, 0)) });
          }
          const fresh = await loadSnapshot(new LocalStorage(loc));
          const now = Date.now();
          for (const t of tables) {
            const s = await t.snapshot();
            assert.deepEqual(canonical(s, now), canonical(fresh, now), `after ${JSON.stringify(o)}`);
            assert.equal(s.schema.fields.some((f) => f.name === 'note'), evolved);
          }
        }
        assert.deepEqual(
          storages.map((s) => s.lists),
          [0, 0],
          'neither instance listed the log: every snapshot was reached by advancing, never by a full load',
        );
        for (const h of held) assert.equal(JSON.stringify(canonical(h.snap, 0)), h.form, 'a held snapshot changed');
      } finally {
        cleanup();
      }
    }),
    { numRuns: 25, endOnFailure: true },
  );
});

test('a log deleted and recreated underneath is reloaded from scratch, even at a lower version', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const loc = path.join(dir, 't');
    await DeltaTable.create(loc, { schema, partitionColumns: ['date'] });
    const t = await DeltaTable.open(loc);
    for (let d = 0; d < 4; d++) await t.write(rowsOfDay(d, 2));
    assert.equal((await t.snapshot()).version, 4);
    rmSync(loc, { recursive: true, force: true });
    const other = await DeltaTable.create(loc, { schema, partitionColumns: ['date'] });
    await other.write(rowsOfDay(9, 1));
    await other.write(rowsOfDay(9, 1), { mode: 'overwrite' });
    const s = await t.snapshot();
    assert.equal(s.version, 2, 'the version went backwards: the cached snapshot must not be reused');
    assert.deepEqual(canonical(s, Date.now()), canonical(await loadSnapshot(new LocalStorage(loc)), Date.now()));
    assert.equal(s.files().length, 1);
    // Recreated again with as many commits as the cache had: same version number, different files.
    rmSync(loc, { recursive: true, force: true });
    const third = await DeltaTable.create(loc, { schema, partitionColumns: ['date'] });
    await third.write(rowsOfDay(7, 3));
    await third.write(rowsOfDay(8, 3));
    const again = await t.snapshot();
    assert.equal(again.version, 2);
    assert.deepEqual(canonical(again, Date.now()), canonical(await loadSnapshot(new LocalStorage(loc)), Date.now()));
    assert.equal(again.files().length, 2);
    assert.equal((await t.write(rowsOfDay(5, 1))).version, 3);
  } finally {
    cleanup();
  }
});

test('a snapshot at an older or newer version than the cache still comes from the log', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const loc = path.join(dir, 't');
    await DeltaTable.create(loc, { schema, partitionColumns: ['date'] });
    const a = await DeltaTable.open(loc);
    const b = await DeltaTable.open(loc);
    for (let d = 0; d < 3; d++) await a.write(rowsOfDay(d, 1));
    const storage = new LocalStorage(loc);
    for (const v of [1, 2, 3]) {
      assert.deepEqual(canonical(await b.snapshot({ version: v }), Date.now()), canonical(await loadSnapshot(storage, { version: v }), Date.now()));
    }
    assert.deepEqual(canonical(await a.snapshot({ version: 1 }), Date.now()), canonical(await loadSnapshot(storage, { version: 1 }), Date.now()));
    await assert.rejects(b.snapshot({ version: 9 }), /version 9 does not exist; the latest is 3/);
  } finally {
    cleanup();
  }
});

type MapOp = { set: string; value: number } | { del: string } | { snap: true };

test('a layered map behaves as a Map through any sets and deletes, and no older version changes', () => {
  const key = fc.integer({ min: 0, max: 60 }).map((k) => `k${k}`);
  const mapOp: fc.Arbitrary<MapOp> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ set: key, value: fc.integer() }) },
    { weight: 3, arbitrary: fc.record({ del: key }) },
    { weight: 1, arbitrary: fc.constant({ snap: true as const }) },
  );
  fc.assert(
    fc.property(fc.array(fc.array(mapOp, { maxLength: 40 }), { maxLength: 80 }), fc.boolean(), (batches, prune) => {
      let model = new Map<string, number>();
      let layered = LayeredMap.of(new Map<string, number>());
      const versions: { layered: LayeredMap<number>; model: Map<string, number> }[] = [];
      // `keep` may drop odd values at a fold: the model then has them only until the fold, so compare without them.
      const keep = prune ? (v: number) => v % 2 === 0 : undefined;
      const visible = (m: ReadonlyMap<string, number>): [string, number][] => sortedEntries(m).filter(([, v]) => !keep || keep(v));
      for (const batch of batches) {
        const changes = new Map<string, number | undefined>();
        for (const o of batch) {
          if ('set' in o) {
            changes.set(o.set, o.value);
          } else if ('del' in o) {
            changes.set(o.del, undefined);
          }
        }
        const next = new Map(model);
        for (const [k, v] of changes) {
          if (v === undefined) next.delete(k);
          else next.set(k, v);
        }
        layered = layered.with(changes, keep);
        model = next;
        assert.deepEqual(visible(layered), visible(model));
        if (!keep) {
          assert.equal(layered.size, model.size);
          assert.deepEqual(sortedEntries(new Map(layered.entries())), sortedEntries(model));
          for (const k of ['k0', 'k1', 'k30', 'k60', 'nope']) assert.equal(layered.get(k), model.get(k));
        }
        if (batch.some((o) => 'snap' in o)) versions.push({ layered, model });
      }
      for (const v of versions) assert.deepEqual(visible(v.layered), visible(v.model), 'an older version changed');
    }),
    { numRuns: 200 },
  );
});
