// Generates the delta-write benchmark's input once, as an Arrow IPC file both writers load: narrow sensor rows
// (ts µs UTC, sensor_id string, value double with ~0.1 % nulls, quality int32) plus the daily partition column `date`.

import * as arrow from 'apache-arrow';
import { writeFileSync } from 'node:fs';
import { sensorIds, QUALITY } from '../../src/sim/plant.js';

export interface GenOptions {
  sensors: number;
  readingsPerSensor: number;
  /** Seconds between two readings of one sensor. */
  intervalSeconds: number;
  /** 'time': rows in time order (each day's rows contiguous); 'sensor': all readings of one sensor, then the next. */
  order: 'time' | 'sensor';
  batchRows: number;
  seed: number;
}

const START_US = 1_704_067_200_000_000n; // 2024-01-01T00:00:00Z
const US_PER_DAY = 86_400_000_000n;

export const BENCH_SCHEMA = new arrow.Schema([
  new arrow.Field('ts', new arrow.TimestampMicrosecond('UTC'), false),
  new arrow.Field('sensor_id', new arrow.Utf8(), false),
  new arrow.Field('value', new arrow.Float64(), true),
  new arrow.Field('quality', new arrow.Int32(), false),
  new arrow.Field('date', new arrow.DateDay(), false),
]);

function* batches(o: GenOptions): Generator<arrow.RecordBatch> {
  const enc = new TextEncoder();
  const ids = sensorIds(o.sensors).map((s) => enc.encode(s));
  const total = o.sensors * o.readingsPerSensor;
  let s = o.seed >>> 0 || 1;
  const rand = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const base = ids.map(() => 20 + rand() * 80);
  const amp = ids.map(() => 1 + rand() * 10);
  const stepUs = BigInt(o.intervalSeconds) * 1_000_000n;
  for (let first = 0; first < total; first += o.batchRows) {
    const n = Math.min(o.batchRows, total - first);
    const ts = new BigInt64Array(n);
    const value = new Float64Array(n);
    const valid = new Uint8Array((n + 7) >> 3).fill(0xff);
    let nulls = 0;
    const quality = new Int32Array(n);
    const date = new Int32Array(n);
    const offsets = new Int32Array(n + 1);
    const sensorOf = new Int32Array(n);
    let bytes = 0;
    for (let r = 0; r < n; r++) {
      const row = first + r;
      const sensor = o.order === 'time' ? row % o.sensors : Math.floor(row / o.readingsPerSensor);
      const k = o.order === 'time' ? Math.floor(row / o.sensors) : row % o.readingsPerSensor;
      // Sensors report a few ms apart within one step, so timestamps are µs-precise and distinct.
      const t = START_US + BigInt(k) * stepUs + BigInt(sensor * 1237 + Math.floor(rand() * 1000));
      ts[r] = t;
      date[r] = Number(t / US_PER_DAY);
      const phase = (Number(t % US_PER_DAY) / 86_400e6) * 2 * Math.PI;
      const x = rand();
      if (x < 0.001) {
        valid[r >> 3] &= ~(1 << (r & 7));
        nulls++;
      } else value[r] = base[sensor] + amp[sensor] * Math.sin(phase + sensor) + (rand() - 0.5) * 0.2 * amp[sensor];
      quality[r] = x > 0.998 ? QUALITY.bad : x > 0.994 ? QUALITY.uncertain : QUALITY.good;
      sensorOf[r] = sensor;
      bytes += ids[sensor].length;
      offsets[r + 1] = bytes;
    }
    const utf8 = new Uint8Array(bytes);
    for (let r = 0; r < n; r++) utf8.set(ids[sensorOf[r]], offsets[r]);
    const children = [
      arrow.makeData({ type: BENCH_SCHEMA.fields[0].type, length: n, nullCount: 0, data: ts }),
      arrow.makeData({ type: new arrow.Utf8(), length: n, nullCount: 0, valueOffsets: offsets, data: utf8 }),
      arrow.makeData({ type: new arrow.Float64(), length: n, nullCount: nulls, nullBitmap: nulls > 0 ? valid : undefined, data: value }),
      arrow.makeData({ type: new arrow.Int32(), length: n, nullCount: 0, data: quality }),
      arrow.makeData({ type: new arrow.DateDay(), length: n, nullCount: 0, data: date }),
    ];
    yield new arrow.RecordBatch(BENCH_SCHEMA, arrow.makeData({ type: new arrow.Struct(BENCH_SCHEMA.fields), length: n, nullCount: 0, children }));
  }
}

/** Writes the input as an Arrow IPC file; returns its row count and size in bytes. */
export function generate(path: string, o: GenOptions): { rows: number; bytes: number } {
  const table = new arrow.Table([...batches(o)]);
  const ipc = arrow.tableToIPC(table, 'file');
  writeFileSync(path, ipc);
  return { rows: table.numRows, bytes: ipc.byteLength };
}
