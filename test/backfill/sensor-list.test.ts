// Sensor lists: the simulator's sensors.csv (kind words plus value_type) and JSON lists, with errors naming the row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadSensorList } from '../../src/backfill/sensor-list.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

test('CSV with value_type, JSON arrays and { sensors: [...] } all load; kinds become numeric or state', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const csv = path.join(dir, 'sensors.csv');
  writeFileSync(csv, 'sensor_id,asset,unit,interval_s,valid_min,valid_max,description,kind,value_type\na/t,a,degC,10,-5,90,"temp, inlet",temperature,numeric\na/s,a,,10,,,state,state,text\n');
  const m = await loadSensorList(csv);
  assert.deepEqual(m.get('a/t'), { sensor_id: 'a/t', asset: 'a', unit: 'degC', interval_s: 10, valid_min: -5, valid_max: 90, description: 'temp, inlet', kind: 'numeric' });
  assert.equal(m.get('a/s')!.kind, 'state');
  assert.equal(m.get('a/s')!.valid_min, null);

  const json = path.join(dir, 'sensors.json');
  writeFileSync(json, JSON.stringify({ sensors: [{ sensor_id: 'b', kind: 'state' }, { sensor_id: 'c', valid_max: 3 }] }));
  const j = await loadSensorList(json);
  assert.equal(j.get('b')!.kind, 'state');
  assert.equal(j.get('c')!.kind, null);
  assert.equal(j.get('c')!.valid_max, 3);
});

test('bad lists fail naming the file and line', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const f = path.join(dir, 'bad.csv');
  writeFileSync(f, 'sensor_id,valid_min,valid_max\na,1,2\nb,5,1\n');
  await assert.rejects(loadSensorList(f), (e: Error) => e instanceof InvalidArgumentError && /bad\.csv line 3: valid_min 5 is above valid_max 1/.test(e.message));
  writeFileSync(f, 'sensor_id,interval_s\na,ten\n');
  await assert.rejects(loadSensorList(f), /line 2: interval_s 'ten' is not a number/);
  writeFileSync(f, 'sensor_id\na\na\n');
  await assert.rejects(loadSensorList(f), /listed twice/);
  await assert.rejects(loadSensorList(path.join(dir, 'missing.csv')), /does not exist/);
});
