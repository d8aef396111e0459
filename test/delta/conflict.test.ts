// Conflict rules: blind appends never conflict; replaceWhere and overwrite conflict with matching concurrent changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConflict, type TransactionFootprint } from '../../src/delta/kernel/conflict.js';
import { bindPredicate, parsePredicate } from '../../src/delta/kernel/predicate.js';
import { parseSchema } from '../../src/delta/kernel/schema.js';
import type { Action } from '../../src/delta/kernel/actions.js';
import { ConflictError } from '../../src/errors.js';

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'ts', type: 'timestamp', nullable: false, metadata: {} },
      { name: 'sensor_id', type: 'string', nullable: false, metadata: {} },
      { name: 'date', type: 'date', nullable: false, metadata: {} },
    ],
  }),
);

const base: TransactionFootprint = {
  table: 't',
  readVersion: 3,
  isBlindAppend: true,
  readPredicate: 'none',
  readFiles: new Set(),
  removedFiles: new Set(),
  txnAppIds: new Set(),
  changesMetadata: false,
};
const add = (date: string): Action => ({
  add: { path: `date=${date}/f-${date}.parquet`, partitionValues: { date }, size: 1, modificationTime: 0, dataChange: true, stats: null },
});

test('blind appends ignore concurrent appends', () => {
  assert.doesNotThrow(() => checkConflict(base, [add('2024-01-01'), { commitInfo: { operation: 'WRITE' } }], 4));
});

test('protocol and metadata changes always conflict', () => {
  assert.throws(() => checkConflict(base, [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }], 4), ConflictError);
  assert.throws(
    () => checkConflict(base, [{ metaData: { id: 'x', format: { provider: 'parquet', options: {} }, schemaString: '{}', partitionColumns: [], configuration: {} } }], 4),
    /changed the table metadata/,
  );
});

test('replaceWhere conflicts only with adds matching its predicate', () => {
  const pred = bindPredicate(parsePredicate("date = '2024-01-02'"), schema);
  const ours: TransactionFootprint = { ...base, isBlindAppend: false, readPredicate: pred };
  assert.doesNotThrow(() => checkConflict(ours, [add('2024-01-01')], 4));
  assert.throws(() => checkConflict(ours, [add('2024-01-02')], 4), /matches what we read/);
});

test('removing a file we read or remove conflicts; compaction adds do not', () => {
  const key = 'date=2024-01-02/f.parquet';
  const ours: TransactionFootprint = { ...base, isBlindAppend: false, readPredicate: 'all', readFiles: new Set([key]), removedFiles: new Set([key]) };
  const remove: Action = { remove: { path: key, dataChange: true, deletionTimestamp: 1 } };
  assert.throws(() => checkConflict(ours, [remove], 4), /also removed/);
  const compaction: Action = { add: { path: 'c.parquet', partitionValues: {}, size: 1, modificationTime: 0, dataChange: false } };
  assert.doesNotThrow(() => checkConflict(ours, [compaction], 4));
  assert.throws(() => checkConflict(ours, [add('2024-01-09')], 4), ConflictError);
});

test('a concurrent txn for the same appId conflicts', () => {
  const ours = { ...base, txnAppIds: new Set(['job-1']) };
  assert.throws(() => checkConflict(ours, [{ txn: { appId: 'job-1', version: 7 } }], 4), /appId 'job-1'/);
  assert.doesNotThrow(() => checkConflict(ours, [{ txn: { appId: 'job-2', version: 7 } }], 4));
});
