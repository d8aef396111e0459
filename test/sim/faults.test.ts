// Each fault truth.json lists is checked against the CSV it describes: gaps are empty, stuck spans flat, spikes and
// duplicates hold the recorded values, late blocks come right after the step truth.json names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { simulate } from '../../src/sim/simulate.js';
import type { Truth } from '../../src/sim/truth.js';
import { sensorsCsv } from '../../src/sim/sensors-csv.js';
import { tempDir } from '../helpers.js';

interface Row {
  line: number;
  ts: number;
  id: string;
  value: string;
}

test('every fault in truth.json is in the CSV as described', async () => {
  const { dir, cleanup } = tempDir('sim-faults-');
  try {
    await simulate({ out: dir, format: 'csv', sensors: 40, from: '2024-05-01T00:00:00Z', to: '2024-05-01T04:00:00Z', seed: 3, faults: 'heavy' });
    const truth = JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8')) as Truth;
    assert.equal(readFileSync(path.join(dir, 'sensors.csv'), 'utf8'), sensorsCsv(truth.sensors), 'sensors.csv lists truth.json sensors');
    const lines = readFileSync(path.join(dir, 'readings.csv'), 'utf8').trimEnd().split('\n');
    const rows: Row[] = [];
    lines.forEach((l, i) => {
      const c = l.split(',');
      const valid = c.length === 4 && c[1] !== '' && /^(-?\d+(\.\d+)?|[A-Z]+)$/.test(c[2]) && ['good', 'uncertain', 'bad'].includes(c[3]);
      if (i > 0 && valid && !Number.isNaN(Date.parse(c[0]))) rows.push({ line: i + 1, ts: Date.parse(c[0]), id: c[1], value: c[2] });
    });
    const bySensor = new Map<string, Row[]>();
    for (const r of rows) {
      const l = bySensor.get(r.id);
      if (l) l.push(r);
      else bySensor.set(r.id, [r]);
    }
    const interval = new Map(truth.sensors.map((s) => [s.sensor_id, s.interval_s * 1000]));
    const kinds = new Set<string>();
    for (const f of truth.faults) {
      const series = bySensor.get(f.sensor_id) ?? [];
      const at = (ts: number): Row[] => series.filter((r) => r.ts === ts);
      kinds.add(f.kind === 'duplicate' && f.conflicting ? 'conflict' : f.kind);
      if (f.kind === 'gap' || f.kind === 'stuck' || f.kind === 'out_of_order') {
        const from = Date.parse(f.from);
        const to = Date.parse(f.to);
        const inside = series.filter((r) => r.ts >= from && r.ts < to);
        const slots = Math.ceil((to - from) / (interval.get(f.sensor_id) as number));
        assert.equal(f.readings, slots, `${f.kind} ${f.sensor_id} ${f.from}: readings`);
        if (f.kind === 'gap') assert.equal(inside.length, 0, `gap ${f.sensor_id} ${f.from} is empty`);
        if (f.kind === 'stuck') {
          assert.equal(inside.length, slots);
          assert.ok(inside.every((r) => Number(r.value) === f.value), `stuck ${f.sensor_id} at ${f.value}`);
        }
        if (f.kind === 'out_of_order') {
          assert.equal(inside.length, slots);
          const first = inside[0].line;
          assert.ok(inside.every((r, k) => r.line === first + k), 'the late block is contiguous');
          const before = rows.find((r) => r.line === first - 1) as Row;
          assert.equal(new Date(before.ts).toISOString(), f.writtenAfter, 'written right after the readings of writtenAfter');
          assert.ok(series.some((r) => r.ts >= to && r.line < first), 'a later reading precedes the block');
        }
      } else if (f.kind === 'spike') {
        const r = at(Date.parse(f.ts));
        assert.equal(r.length, 1);
        assert.equal(Number(r[0].value), f.value);
        const s = truth.sensors.find((x) => x.sensor_id === f.sensor_id) as Truth['sensors'][number];
        assert.equal(f.outOfRange, f.value < (s.valid_min as number) || f.value > (s.valid_max as number));
      } else if (f.kind === 'duplicate') {
        const r = at(Date.parse(f.ts));
        assert.equal(r.length, 2, `duplicate ${f.sensor_id} ${f.ts}`);
        assert.equal(r[1].line, r[0].line + 1);
        const want = f.conflicting ? [f.value, f.secondValue] : [f.value, f.value];
        assert.deepEqual(r.map((x) => (f.sensor_id.endsWith('/state') ? x.value : Number(x.value))), want);
      } else if (f.kind === 'malformed') {
        // A garbage line comes in addition to the reading; any other malformed record stands in for it.
        const garbage = f.reason === 'malformed_record';
        assert.equal(at(Date.parse(f.ts)).length, garbage ? 1 : 0, `malformed ${f.reason} at ${f.ts}`);
        if (garbage) assert.equal(at(Date.parse(f.ts))[0].line, f.location - 1, 'the garbage line follows its reading');
      }
    }
    assert.deepEqual([...kinds].sort(), ['conflict', 'duplicate', 'gap', 'malformed', 'out_of_order', 'spike', 'stuck']);
  } finally {
    cleanup();
  }
});
