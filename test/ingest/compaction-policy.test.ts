// The background compaction policy (pure): when a partition is closed, which files are small, which partitions are
// due and in what order, and which settings are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_COMPACTION_POLICY,
  isSmall,
  partitionStates,
  periodColumn,
  periodEndMs,
  planCompaction,
  resolvePolicy,
  type DataFile,
} from '../../src/ingest/compaction-policy.js';
import { InvalidArgumentError } from '../../src/errors.js';

const MB = 1024 * 1024;
const policy = resolvePolicy({ minSmallFiles: 3, openMaxSmallFiles: 5 });

function file(partition: Record<string, string>, size: number, rows?: number): DataFile {
  return {
    path: `f-${Math.random()}.parquet`,
    partitionValues: partition,
    size,
    modificationTime: 0,
    dataChange: true,
    stats: rows === undefined ? null : JSON.stringify({ numRecords: rows, minValues: {}, maxValues: {}, nullCount: {} }),
  };
}
const files = (n: number, partition: Record<string, string>, size = MB, rows = 1000): DataFile[] => Array.from({ length: n }, () => file(partition, size, rows));

test('defaults: 1 h grace, 16 small files for a closed partition, 300 for an open one, OPTIMIZE targets', () => {
  const p = resolvePolicy();
  assert.deepEqual(p, { ...DEFAULT_COMPACTION_POLICY });
  assert.equal(p.graceMs, 3_600_000);
  assert.equal(p.minSmallFiles, 16);
  assert.equal(p.openMaxSmallFiles, 300);
  assert.equal(p.targetFileBytes, 128 * MB);
  assert.equal(p.maxRowsPerFile, 2_000_000);
});

test('a day partition closes at midnight UTC plus the grace, not before', () => {
  const end = periodEndMs('date', '2024-01-01');
  assert.equal(end, Date.UTC(2024, 0, 2));
  const f = files(1, { date: '2024-01-01' });
  const closedAt = (now: number): boolean => partitionStates(f, 'date', policy, now)[0].closed;
  assert.equal(closedAt(Date.UTC(2024, 0, 2, 0, 59, 59, 999)), false);
  assert.equal(closedAt(Date.UTC(2024, 0, 2, 1)), true);
  assert.equal(partitionStates(f, 'date', resolvePolicy({ graceMs: 0 }), Date.UTC(2024, 0, 2))[0].closed, true);
  // Leap day and year end roll over as dates do.
  assert.equal(periodEndMs('date', '2024-02-29'), Date.UTC(2024, 2, 1));
  assert.equal(periodEndMs('date', '2024-12-31'), Date.UTC(2025, 0, 1));
});

test('a month partition closes after its last day plus the grace; values that are no period never close', () => {
  assert.equal(periodEndMs('month', '2024-12'), Date.UTC(2025, 0, 1));
  const f = files(1, { month: '2024-02' });
  assert.equal(partitionStates(f, 'month', policy, Date.UTC(2024, 2, 1, 0, 30))[0].closed, false);
  assert.equal(partitionStates(f, 'month', policy, Date.UTC(2024, 2, 1, 1))[0].closed, true);
  assert.equal(periodEndMs('date', 'yesterday'), null);
  assert.equal(partitionStates(files(1, { date: 'x' }), 'date', policy, Date.UTC(2030, 0, 1))[0].closed, false);
});

test('small means OPTIMIZE would still merge it: under 3/4 of the target in bytes and in rows', () => {
  const p = resolvePolicy({ targetFileBytes: 100 * MB, maxRowsPerFile: 1000 });
  assert.equal(isSmall(file({ date: 'd' }, 10 * MB, 10), p), true);
  assert.equal(isSmall(file({ date: 'd' }, 75 * MB, 10), p), false, 'at 3/4 of the target bytes');
  assert.equal(isSmall(file({ date: 'd' }, 10 * MB, 750), p), false, 'at 3/4 of the row cap (a compacted readings file)');
  assert.equal(isSmall(file({ date: 'd' }, 10 * MB, 749), p), true);
  assert.equal(isSmall(file({ date: 'd' }, 10 * MB), p), true, 'no stats: bytes decide');
});

test('due: closed partitions at minSmallFiles, open ones at openMaxSmallFiles; open first, then most small files', () => {
  const now = Date.UTC(2024, 0, 3, 2); // Jan 1 and 2 closed, Jan 3 open
  const all = [
    ...files(2, { date: '2024-01-01' }), // closed, below 3
    ...files(3, { date: '2024-01-01' }, 200 * MB, 1000), // big: not small
    ...files(4, { date: '2024-01-02' }), // closed, due
    ...files(3, { date: '2023-12-31' }), // closed, due (fewer)
    ...files(4, { date: '2024-01-03' }), // open, below 5
  ];
  const due = planCompaction(all, 'date', policy, now);
  assert.deepEqual(
    due.map((d) => [d.value, d.reason, d.smallFiles, d.files]),
    [
      ['2024-01-02', 'closed', 4, 4],
      ['2023-12-31', 'closed', 3, 3],
    ],
  );
  all.push(...files(1, { date: '2024-01-03' }), ...files(5, { date: '2024-01-04' })); // open bound reached; a day ahead
  const due2 = planCompaction(all, 'date', policy, now);
  assert.deepEqual(
    due2.map((d) => [d.value, d.reason, d.closed]),
    [
      ['2024-01-03', 'open-bound', false],
      ['2024-01-04', 'open-bound', false],
      ['2024-01-02', 'closed', true],
      ['2023-12-31', 'closed', true],
    ],
  );
  // Within the grace, yesterday is still open and needs the open bound.
  const early = planCompaction(files(4, { date: '2024-01-02' }), 'date', policy, Date.UTC(2024, 0, 3, 0, 30));
  assert.deepEqual(early, []);
});

test('refuses settings it cannot honour, and tables not partitioned by date or month alone', () => {
  assert.throws(() => resolvePolicy({ minSmallFiles: 1 }), InvalidArgumentError);
  assert.throws(() => resolvePolicy({ openMaxSmallFiles: Number.NaN }), /openMaxSmallFiles must be a number/);
  assert.throws(() => resolvePolicy({ graceMs: -1 }), /graceMs must be a number >= 0/);
  assert.throws(() => resolvePolicy({ intervalMs: 0 }), /intervalMs/);
  assert.equal(periodColumn(['date'], 't'), 'date');
  assert.equal(periodColumn(['month'], 't'), 'month');
  assert.throws(() => periodColumn(['date', 'site'], '/lake/readings'), /\/lake\/readings: background compaction needs a table partitioned by 'date' or 'month' alone, not by \[date, site\]/);
  assert.throws(() => periodColumn([], 't'), InvalidArgumentError);
});
