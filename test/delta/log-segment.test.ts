// Log segment selection: which checkpoint and commits a snapshot replays, including broken checkpoint sets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyLogFiles, selectSegment } from '../../src/delta/kernel/log-segment.js';
import { CorruptLogError, NotFoundError } from '../../src/errors.js';

const f = (name: string) => ({ path: `_delta_log/${name}`, size: 1, modificationTime: 0 });
const v = (n: number) => String(n).padStart(20, '0');

test('picks the newest checkpoint at or below the version and the commits after it', () => {
  const listing = classifyLogFiles([
    ...Array.from({ length: 13 }, (_, i) => f(`${v(i)}.json`)),
    f(`${v(10)}.checkpoint.parquet`),
    f(`${v(5)}.checkpoint.parquet`),
    f('_last_checkpoint'),
    f(`.${v(13)}.json.tmp`),
    f(`${v(3)}.crc`),
  ]);
  const latest = selectSegment(listing, 't');
  assert.equal(latest.version, 12);
  assert.equal(latest.checkpoint?.version, 10);
  assert.deepEqual(latest.commits.map((c) => c.version), [11, 12]);
  const older = selectSegment(listing, 't', 7);
  assert.equal(older.checkpoint?.version, 5);
  assert.deepEqual(older.commits.map((c) => c.version), [6, 7]);
  const skipping = selectSegment(listing, 't', 12, new Set([10]));
  assert.equal(skipping.checkpoint?.version, 5);
  assert.deepEqual(skipping.commits.map((c) => c.version), [6, 7, 8, 9, 10, 11, 12]);
});

test('ignores an incomplete multi-part checkpoint', () => {
  const listing = classifyLogFiles([
    ...Array.from({ length: 3 }, (_, i) => f(`${v(i)}.json`)),
    f(`${v(2)}.checkpoint.0000000001.0000000003.parquet`),
    f(`${v(2)}.checkpoint.0000000002.0000000003.parquet`),
    f(`${v(1)}.checkpoint.0000000001.0000000002.parquet`),
    f(`${v(1)}.checkpoint.0000000002.0000000002.parquet`),
  ]);
  const seg = selectSegment(listing, 't');
  assert.equal(seg.checkpoint?.version, 1);
  assert.equal(seg.checkpoint?.parts.length, 2);
  assert.deepEqual(seg.commits.map((c) => c.version), [2]);
});

test('a gap in the commits is a corrupt log; a cleaned-up log without checkpoint cannot be read', () => {
  const gap = classifyLogFiles([f(`${v(0)}.json`), f(`${v(2)}.json`)]);
  assert.throws(() => selectSegment(gap, 't'), CorruptLogError);
  const cleaned = classifyLogFiles([f(`${v(5)}.json`), f(`${v(6)}.json`)]);
  assert.throws(() => selectSegment(cleaned, 't'), NotFoundError);
  assert.throws(() => selectSegment(classifyLogFiles([]), 't'), /not a Delta table/);
  assert.throws(() => selectSegment(gap, 't', 9), /version 9 does not exist/);
});
