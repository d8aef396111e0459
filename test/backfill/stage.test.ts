// Pass 1: the fast path (stageBatch) stages exactly what validateBatch does, with the same
// rejects, counts and sensor evidence; staging segments round-trip every column, nulls and text, whole and by row
// range; and a spill is ordered by sensor id, so a bucket of sensors loads from one range of rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReadingsBuilder } from '../../src/sources/batch.js';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { loadInKeyOrder } from '../../src/backfill/key-order.js';
import { RowBuffer } from '../../src/backfill/rows.js';
import { encodeSegment, HEADER_BYTES } from '../../src/backfill/segment.js';
import { SensorObserver, type SensorInfo } from '../../src/backfill/sensors.js';
import { stageable, stageBatch } from '../../src/backfill/stage-batch.js';
import { appendSegment, readSegments, StagingReader, WindowSpill } from '../../src/backfill/staging.js';
import { SensorDict, validateBatch, type ValidationRules } from '../../src/backfill/validate.js';
import { tempDir } from '../helpers.js';

const HOUR = 3600e6;
const T0 = Date.UTC(2024, 0, 1) * 1000;

interface Reading {
  sensor: number;
  /** Seconds after T0. */
  s: number;
  value: number | null;
  text: string | null;
  quality: number | null;
}

const reading = fc.record({
  sensor: fc.integer({ min: 0, max: 7 }),
  s: fc.integer({ min: -3600, max: 5 * 3600 }),
  value: fc.option(fc.double({ min: -100, max: 100, noNaN: true }), { freq: 4 }),
  text: fc.option(fc.constantFrom('RUNNING', 'STOPPED', 'état 😀', ''), { freq: 2 }),
  quality: fc.option(fc.constantFrom(0, 0x40000000, 0x80000000, 0x80320000), { freq: 3 }),
});

function batchOf(list: Reading[]): ReturnType<ReadingsBuilder['flush']>['batch'] {
  const b = new ReadingsBuilder('x.csv', 'line', list.length + 1);
  list.forEach((r, i) => b.append(`s${r.sensor}`, T0 + r.s * 1e6, r.value, r.text, r.quality, i + 2));
  return b.flush(0).batch;
}

function known(id: string): SensorInfo | undefined {
  // Two numeric sensors have a valid range, so out-of-range values are flagged; one is a state sensor; the rest are
  // of a kind not known yet (their text readings wait for the end of the input).
  const base = { sensor_id: id, asset: null, unit: null, interval_s: null, description: null, valid_min: null, valid_max: null };
  if (id === 's1') return { ...base, kind: 'numeric', valid_min: -10, valid_max: 10 };
  if (id === 's4') return { ...base, kind: 'numeric', valid_min: 0, valid_max: 50 };
  if (id === 's6') return { ...base, kind: 'state' };
  return undefined;
}

interface Staged {
  windows: [number, unknown[][]][];
  counts: [number, number][];
  rejects: string[];
  pending: unknown[];
  outOfRange: number;
  inferred: unknown[];
}

function rowsOf(spill: WindowSpill): [number, unknown[][]][] {
  return spill.windows().map((w) => {
    const b = spill.buffer(w);
    const out: unknown[][] = [];
    for (let i = 0; i < b.n; i++) out.push([b.ts[i], b.sid[i], b.valid[i] ? b.value[i] : NaN, b.valid[i], b.text?.[i] ?? null, b.quality[i], b.file[i], b.loc[i]]);
    return [w, out];
  });
}

function viaPlain(list: Reading[], rules: ValidationRules): Staged {
  const dict = new SensorDict(known);
  const observer = new SensorObserver();
  const spill = new WindowSpill('/nonexistent', 1e9);
  const rejects: string[] = [];
  const batch = batchOf(list)!;
  assert.ok(stageable(batch));
  const pending: unknown[] = [];
  const r = stageBatch(batch, {
    dict,
    rules,
    windowUs: HOUR,
    spill,
    observer,
    file: 3,
    reject: (raw, reason, message, loc) => rejects.push(`${reason}|${message}|${loc}|${raw}`),
    pendingText: (...a) => pending.push(a),
  });
  assert.equal(r.staged, [...spill.counts.values()].reduce((a, b) => a + b, 0));
  return { windows: rowsOf(spill), counts: [...spill.counts].sort((a, b) => a[0] - b[0]), rejects, pending, outOfRange: r.outOfRange, inferred: dict.names.map((id, sid) => observer.inferred(sid, id)) };
}

function viaValidate(list: Reading[], rules: ValidationRules): Staged {
  const dict = new SensorDict(known);
  const observer = new SensorObserver();
  const spill = new WindowSpill('/nonexistent', 1e9);
  const rejects: string[] = [];
  const pending: unknown[] = [];
  const v = validateBatch(batchOf(list)!, dict, rules, {
    row: (ts, sid, value, text, q, loc) => {
      const w = Math.floor(ts / HOUR);
      spill.buffer(w).push(ts, sid, value, text, q, 3, loc);
      spill.added(w);
    },
    pendingText: (...a) => pending.push(a),
    reject: (raw, reason, message, loc) => rejects.push(`${reason}|${message}|${loc}|${raw}`),
    observe: (sid, ts, numeric, text) => observer.observe(sid, ts, numeric, text),
  });
  return { windows: rowsOf(spill), counts: [...spill.counts].sort((a, b) => a[0] - b[0]), rejects, pending, outOfRange: v.outOfRange, inferred: dict.names.map((id, sid) => observer.inferred(sid, id)) };
}

test('stageBatch stages what validateBatch does: rows per window, text, rejects, pending text, flags and sensor evidence', () => {
  fc.assert(
    fc.property(fc.array(reading, { minLength: 1, maxLength: 300 }), fc.boolean(), (list, bounded) => {
      const rules: ValidationRules = bounded ? { fromUs: T0, toUs: T0 + 3 * HOUR } : {};
      assert.deepEqual(viaPlain(list, rules), viaValidate(list, rules));
    }),
    { numRuns: 200 },
  );
});

test('a regular series saturates the observer and still reports its median step', () => {
  const list: Reading[] = [];
  for (let k = 0; k < 200; k++) for (let s = 0; s < 3; s++) list.push({ sensor: s, s: k * 60, value: k, text: null, quality: null });
  const a = viaPlain(list, {});
  assert.deepEqual(a, viaValidate(list, {}));
  assert.deepEqual((a.inferred as { interval_s: number }[]).map((x) => x.interval_s), [60, 60, 60]);
});

test('staging segments round-trip every column, null values and text, whole and by row range', async () => {
  const t = tempDir('staging-');
  try {
    const file = path.join(t.dir, 'w.stg');
    const b = new RowBuffer(2);
    b.push(1.5e15, 7, 3.25, null, 0x80000000, 2, 11);
    b.push(1.5e15 + 1, 0, null, 'RUNNING', 0, 0, 12);
    b.push(-5, 3, -0.5, null, 1, 1, 13);
    b.push(9, 2, null, 'ÉTAT 😀', 5, 1, 14);
    b.push(10, 2, null, '', 5, 1, 15);
    const plain = new RowBuffer(1);
    plain.push(1, 1, 1, null, 0, 0, 2);
    plain.push(2, 1, 2, null, 0, 0, 3);
    await appendSegment(file, b);
    await appendSegment(file, plain);
    const rows = (r: { n: number; ts: ArrayLike<number>; sid: ArrayLike<number>; valid: ArrayLike<number>; value: ArrayLike<number>; quality: ArrayLike<number>; file: ArrayLike<number>; loc: ArrayLike<number> }, text: (i: number) => string | null) =>
      Array.from({ length: r.n }, (_, i) => [r.ts[i], r.sid[i], r.valid[i] ? r.value[i] : null, text(i), r.quality[i], r.file[i], r.loc[i]]);
    const want = [...rows(b, (i) => b.text![i]), ...rows(plain, () => null)];
    const got: unknown[] = [];
    for await (const batch of readSegments(file)) got.push(...rows(batch, (i) => (batch.text ? batch.text(i) : null)));
    assert.deepEqual(got, want);
    // Without text or nulls a segment is its header and the columns.
    assert.equal(statSync(file).size, encodeSegment(b).reduce((s, p) => s + p.length, 0) + HEADER_BYTES + 2 * 36);
    const r = (await StagingReader.open(file))!;
    try {
      for (let a = 0; a <= 5; a++) {
        for (let z = a; z <= 5; z++) {
          const part = await r.rows(r.segments[0], a, z);
          assert.deepEqual(rows(part, (i) => (part.text ? part.text(i) : null)), want.slice(a, z), `rows [${a}, ${z})`);
        }
      }
    } finally {
      await r.close();
    }
  } finally {
    t.cleanup();
  }
});

test('a spill is ordered by sensor id with a directory of runs; loading it in key order reads one range per bucket', async () => {
  const t = tempDir('staging-');
  try {
    const names = ['b', 'a', 'é', 'a/x'];
    const spill = new WindowSpill(t.dir, 1e9, () => names);
    for (let i = 0; i < 40; i++) {
      spill.buffer(0).push(i, i % 4, i, null, 0, 0, i + 2);
      spill.added(0);
    }
    await spill.flush();
    const r = (await StagingReader.open(spill.fileOf(0)))!;
    try {
      // UTF-8 order: a, a/x, b, é (sids 1, 3, 0, 2), ten rows each.
      assert.deepEqual(Array.from(r.segments[0].runs!), [1, 10, 3, 10, 0, 10, 2, 10]);
    } finally {
      await r.close();
    }
    const bucket = await loadInKeyOrder(spill.fileOf(0), names, [3, 0]);
    assert.deepEqual(bucket.names, ['a/x', 'b']);
    assert.deepEqual(Array.from(bucket.rows.loc), [5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 2, 6, 10, 14, 18, 22, 26, 30, 34, 38]);
  } finally {
    t.cleanup();
  }
});
