// Pass 1 without disk: the fast path for batches without text (stagePlain) stages exactly what validateBatch does,
// with the same rejects, counts and sensor evidence; and staging segments round-trip every column, nulls and text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReadingsBuilder } from '../../src/sources/batch.js';
import { RowBuffer, decodeSegment, SEGMENT_HEADER_BYTES, segmentHeader } from '../../src/backfill/rows.js';
import { SensorObserver, type SensorInfo } from '../../src/backfill/sensors.js';
import { isPlain, stagePlain } from '../../src/backfill/stage-plain.js';
import { WindowSpill } from '../../src/backfill/staging.js';
import { SensorDict, validateBatch, type ValidationRules } from '../../src/backfill/validate.js';

const HOUR = 3600e6;
const T0 = Date.UTC(2024, 0, 1) * 1000;

interface Reading {
  sensor: number;
  /** Seconds after T0. */
  s: number;
  value: number | null;
  quality: number | null;
}

const reading = fc.record({
  sensor: fc.integer({ min: 0, max: 5 }),
  s: fc.integer({ min: -3600, max: 5 * 3600 }),
  value: fc.option(fc.double({ min: -100, max: 100, noNaN: true }), { freq: 6 }),
  quality: fc.option(fc.constantFrom(0, 0x40000000, 0x80000000, 0x80320000), { freq: 3 }),
});

function batchOf(list: Reading[]): ReturnType<ReadingsBuilder['flush']>['batch'] {
  const b = new ReadingsBuilder('x.csv', 'line', list.length + 1);
  list.forEach((r, i) => b.append(`s${r.sensor}`, T0 + r.s * 1e6, r.value, null, r.quality, i + 2));
  return b.flush(0).batch;
}

function known(id: string): SensorInfo | undefined {
  // Two sensors have a valid range, so out-of-range values are flagged.
  const base = { sensor_id: id, asset: null, unit: null, interval_s: null, description: null, kind: 'numeric' as const };
  if (id === 's1') return { ...base, valid_min: -10, valid_max: 10 };
  if (id === 's4') return { ...base, valid_min: 0, valid_max: 50 };
  return undefined;
}

interface Staged {
  windows: [number, number[][]][];
  counts: [number, number][];
  rejects: string[];
  outOfRange: number;
  inferred: unknown[];
}

function rowsOf(spill: WindowSpill): [number, number[][]][] {
  return spill.windows().map((w) => {
    const b = spill.buffer(w);
    const out: number[][] = [];
    for (let i = 0; i < b.n; i++) out.push([b.ts[i], b.sid[i], b.valid[i] ? b.value[i] : NaN, b.valid[i], b.quality[i], b.file[i], b.loc[i]]);
    return [w, out];
  });
}

function viaPlain(list: Reading[], rules: ValidationRules): Staged {
  const dict = new SensorDict(known);
  const observer = new SensorObserver();
  const spill = new WindowSpill('/nonexistent', 1e9);
  const rejects: string[] = [];
  const batch = batchOf(list)!;
  assert.ok(isPlain(batch));
  const r = stagePlain(batch, { dict, rules, windowUs: HOUR, spill, observer, file: 3, reject: (raw, reason, message, loc) => rejects.push(`${reason}|${message}|${loc}|${raw}`) });
  assert.equal(r.staged, [...spill.counts.values()].reduce((a, b) => a + b, 0));
  return { windows: rowsOf(spill), counts: [...spill.counts].sort((a, b) => a[0] - b[0]), rejects, outOfRange: r.outOfRange, inferred: dict.names.map((id, sid) => observer.inferred(sid, id)) };
}

function viaValidate(list: Reading[], rules: ValidationRules): Staged {
  const dict = new SensorDict(known);
  const observer = new SensorObserver();
  const spill = new WindowSpill('/nonexistent', 1e9);
  const rejects: string[] = [];
  const v = validateBatch(batchOf(list)!, dict, rules, {
    row: (ts, sid, value, text, q, loc) => {
      const w = Math.floor(ts / HOUR);
      spill.buffer(w).push(ts, sid, value, text, q, 3, loc);
      spill.added(w);
    },
    pendingText: () => assert.fail('no text in these batches'),
    reject: (raw, reason, message, loc) => rejects.push(`${reason}|${message}|${loc}|${raw}`),
    observe: (sid, ts, numeric, text) => observer.observe(sid, ts, numeric, text),
  });
  return { windows: rowsOf(spill), counts: [...spill.counts].sort((a, b) => a[0] - b[0]), rejects, outOfRange: v.outOfRange, inferred: dict.names.map((id, sid) => observer.inferred(sid, id)) };
}

test('stagePlain stages what validateBatch does: rows per window, rejects, flags and sensor evidence', () => {
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
  for (let k = 0; k < 200; k++) for (let s = 0; s < 3; s++) list.push({ sensor: s, s: k * 60, value: k, quality: null });
  const a = viaPlain(list, {});
  assert.deepEqual(a, viaValidate(list, {}));
  assert.deepEqual((a.inferred as { interval_s: number }[]).map((x) => x.interval_s), [60, 60, 60]);
});

test('a staging segment round-trips every column, null values and text', () => {
  const b = new RowBuffer(2);
  b.push(1.5e15, 7, 3.25, null, 0x80000000, 2, 11);
  b.push(1.5e15 + 1, 0, null, 'RUNNING', 0, 0, 12);
  b.push(-5, 3, -0.5, null, 1, 1, 13);
  b.push(9, 2, null, 'ÉTAT 😀', 5, 1, 14);
  b.push(10, 2, null, '', 5, 1, 15);
  const parts = b.segment();
  const bytes = Buffer.concat(parts);
  const h = segmentHeader(bytes.subarray(0, SEGMENT_HEADER_BYTES))!;
  assert.equal(h.n, 5);
  assert.equal(SEGMENT_HEADER_BYTES + h.bodyBytes, bytes.length);
  const body = new Uint8Array(h.bodyBytes);
  body.set(bytes.subarray(SEGMENT_HEADER_BYTES));
  const d = decodeSegment(bytes.subarray(0, SEGMENT_HEADER_BYTES), body);
  const back = new RowBuffer(1);
  back.appendBatch(d);
  const rows = (r: RowBuffer) => Array.from({ length: r.n }, (_, i) => [r.ts[i], r.sid[i], r.valid[i] ? r.value[i] : null, r.text?.[i] ?? null, r.quality[i], r.file[i], r.loc[i]]);
  assert.deepEqual(rows(back), rows(b));
  // Without text or nulls the segment is just the columns.
  const plain = new RowBuffer(1);
  plain.push(1, 1, 1, null, 0, 0, 2);
  const p = Buffer.concat(plain.segment());
  assert.equal(p.length, SEGMENT_HEADER_BYTES + 36);
  const again = new RowBuffer(1);
  again.appendBatch(decodeSegment(p.subarray(0, SEGMENT_HEADER_BYTES), new Uint8Array(p.subarray(SEGMENT_HEADER_BYTES))));
  assert.deepEqual(rows(again), rows(plain));
});
