// Comparing an independent recount (a Tally) with truth.json: counts to the record, fault locations, and the
// identity that every grid slot is a reading, a gap or a replaced record.
import assert from 'node:assert/strict';
import type { Truth } from '../../src/sim/truth.js';
import type { Tally } from './tally.js';

export function assertMatchesTruth(truth: Truth, t: Tally): void {
  const e = truth.expected;
  const c = t.c;
  assert.deepEqual(
    { records: c.records, readings: c.readings, distinctKeys: c.distinctKeys, exactDuplicates: c.exactDuplicates, conflictingDuplicates: c.conflictingDuplicates, outOfRange: c.outOfRange, textReadings: c.textReadings, late: c.late },
    { records: e.records, readings: e.readings, distinctKeys: e.distinctKeys, exactDuplicates: e.exactDuplicates, conflictingDuplicates: e.conflictingDuplicates, outOfRange: e.outOfRange, textReadings: e.textReadings, late: e.late },
  );
  assert.deepEqual(sorted(c.malformed), sorted(e.malformed as Record<string, number>));
  if (e.quality) assert.deepEqual(sorted(c.quality), sorted(Object.fromEntries(Object.entries(e.quality).filter(([, n]) => n > 0))));
  const left = new Map([...t.rejects].map(([k, v]) => [k, [...v]]));
  for (const f of truth.faults) {
    if (f.kind !== 'malformed') continue;
    const here = left.get(`${f.file}:${f.location}`) ?? [];
    const k = here.indexOf(f.reason);
    assert.ok(k >= 0, `${f.reason} at ${f.file}:${f.location}, found ${JSON.stringify(here)}`);
    here.splice(k, 1);
  }
  assert.deepEqual([...left].filter(([, v]) => v.length > 0), [], 'every rejected record is a fault in truth.json');
}

function sorted(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/** Every slot of every sensor's grid is a distinct key, a gap, or a reading replaced by a malformed record. */
export function assertGridAccounted(truth: Truth): void {
  const span = Date.parse(truth.to) - Date.parse(truth.from);
  const slots = truth.sensors.reduce((n, s) => n + Math.ceil(span / (s.interval_s * 1000)), 0);
  const e = truth.expected;
  const replaced = e.malformedTotal - (e.malformed.malformed_record ?? 0);
  assert.equal(e.distinctKeys + e.missing + replaced, slots);
}
