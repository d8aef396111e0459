// The plant layout, the fault plan and the option parsing, without writing data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPlant } from '../../src/sim/catalog.js';
import { planFaults, type PlannedFault } from '../../src/sim/faults.js';
import { sensorsCsv } from '../../src/sim/sensors-csv.js';
import { parseInterval } from '../../src/sim/simulate.js';
import { sensorRow } from '../../src/sim/truth.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { splitCsv } from './tally.js';

test('sensor ids are plant/line/asset/kind, unique, exactly as many as asked', () => {
  const p = buildPlant(1000, 1000);
  assert.equal(p.sensors.length, 1000);
  assert.equal(new Set(p.sensors.map((s) => s.id)).size, 1000);
  for (const s of p.sensors) assert.match(s.id, /^plant\d+\/line\d+\/(pump|compressor|boiler|conveyor)\d+\/(temperature|pressure|vibration|flow|motor_current|state)$/);
  assert.ok(p.sensors.some((s) => s.id.startsWith('plant2/')), 'a thousand sensors fill more than one plant');
  assert.deepEqual(buildPlant(3, 1000).sensors.map((s) => s.id), ['plant1/line1/pump1/temperature', 'plant1/line1/pump1/pressure', 'plant1/line1/pump1/vibration']);
  assert.deepEqual(new Set(buildPlant(40, 1000, ['boiler']).assets.map((a) => a.type)), new Set(['boiler']));
  const numeric = buildPlant(20, 1000, undefined, ['temperature', 'pressure', 'vibration', 'flow', 'motor_current']);
  assert.equal(numeric.sensors.length, 20);
  assert.ok(numeric.sensors.every((s) => s.valueType === 'numeric'), 'kinds without state give numeric sensors only');
  assert.throws(() => buildPlant(5, 1000, ['conveyor'], ['pressure']), InvalidArgumentError);
  const slow = p.sensors.filter((s) => s.every > 1).map((s) => s.kind);
  assert.deepEqual(new Set(slow), new Set(['temperature', 'state']));
});

test('sensors.csv quotes descriptions with commas and round-trips', () => {
  const rows = buildPlant(12, 500).sensors.map(sensorRow);
  const lines = sensorsCsv(rows).trimEnd().split('\n');
  assert.equal(lines[0], 'sensor_id,asset,unit,interval_s,valid_min,valid_max,description,kind,value_type');
  const state = splitCsv(lines[6]);
  assert.deepEqual(state, ['plant1/line1/pump1/state', 'plant1/line1/pump1', '', '5', '', '', 'Pump 1 on line 1, plant 1: machine state', 'state', 'text']);
  assert.equal(splitCsv(lines[1])[3], '5', 'temperature every 10 base intervals of 0.5 s');
});

function extent(f: PlannedFault): [number, number] {
  return [f.start, f.release ?? f.end - 1];
}

test('the fault plan: sorted, never overlapping on a sensor, late blocks released the same day, reasons as asked', () => {
  const plant = buildPlant(30, 1000);
  const startMs = Date.parse('2024-01-01T20:00:00Z');
  const steps = 8 * 3600;
  const plan = planFaults({ plant, steps, startMs, seed: 3, profile: 'heavy', reasons: ['bad_value', 'non_finite'], garbage: false });
  const all = plan.flat();
  assert.ok(all.length > 100);
  const kinds = new Set(all.map((f) => f.kind));
  assert.deepEqual([...kinds].sort(), ['conflict', 'duplicate', 'gap', 'malformed', 'out_of_order', 'spike', 'stuck']);
  assert.deepEqual(new Set(all.filter((f) => f.kind === 'malformed').map((f) => f.reason)), new Set(['bad_value', 'non_finite']));
  plan.forEach((list, i) => {
    const every = plant.sensors[i].every;
    for (let k = 0; k < list.length; k++) {
      const f = list[k];
      assert.equal(f.sensor, i);
      assert.equal(f.start % every, 0, 'faults sit on the sensor grid');
      assert.ok(f.end <= steps);
      if (k > 0) assert.ok(extent(list[k - 1])[1] + every < f.start, `sensor ${i}: faults ${k - 1} and ${k} overlap or touch`);
      if (f.kind === 'out_of_order') {
        const day = (s: number): number => Math.floor((startMs + s * 1000) / 86_400_000);
        assert.equal(day(f.release as number), day(f.start));
        assert.ok((f.release as number) >= f.end);
      }
      if (['stuck', 'spike', 'conflict', 'malformed'].includes(f.kind)) assert.equal(plant.sensors[i].valueType, 'numeric');
    }
  });
  assert.equal(planFaults({ plant, steps, startMs, seed: 3, profile: 'none', reasons: ['bad_value'], garbage: true }).flat().length, 0);
  const capped = planFaults({ plant: buildPlant(400, 1000), steps: 86_400 * 3, startMs, seed: 1, profile: 'default', reasons: ['bad_value'], garbage: true }).flat();
  assert.ok(capped.filter((f) => f.kind === 'spike').length <= 2000, 'each kind is capped');
});

test('intervals parse with units and reject nonsense', () => {
  assert.equal(parseInterval('1s'), 1000);
  assert.equal(parseInterval('500ms'), 500);
  assert.equal(parseInterval('1.5s'), 1500);
  assert.equal(parseInterval('2m'), 120_000);
  assert.equal(parseInterval('1h'), 3_600_000);
  assert.equal(parseInterval('10'), 10_000);
  assert.throws(() => parseInterval('soon'), InvalidArgumentError);
});
