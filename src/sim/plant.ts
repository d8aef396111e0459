// A quick simulated plant for the demo and the write benchmark: daily cycles and noise as Arrow batches, deterministic
// for a seed. The full model with faults, couplings and truth.json is simulate() in simulate.ts.

import * as arrow from 'apache-arrow';

export interface PlantOptions {
  sensors?: number;
  start?: Date;
  /** Simulated span in hours. */
  hours?: number;
  /** Seconds between readings of one sensor. */
  intervalSeconds?: number;
  seed?: number;
  /** Rows per batch. */
  batchRows?: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export function sensorIds(n: number): string[] {
  const kinds = ['temp', 'pressure', 'flow', 'vibration', 'current'];
  return Array.from({ length: n }, (_, i) => `line${Math.floor(i / 50) + 1}/asset${Math.floor(i / 5) + 1}/${kinds[i % kinds.length]}${i}`);
}

export const READINGS_SCHEMA = new arrow.Schema([
  new arrow.Field('ts', new arrow.TimestampMicrosecond('UTC'), false),
  new arrow.Field('sensor_id', new arrow.Utf8(), false),
  new arrow.Field('value', new arrow.Float64(), true),
  new arrow.Field('quality', new arrow.Int32(), false),
  new arrow.Field('date', new arrow.DateDay(), false),
]);

/** OPC-UA-style status: 0 good, 0x40000000 uncertain, 0x80000000 bad (as signed int32). */
export const QUALITY = { good: 0, uncertain: 0x40000000, bad: -0x80000000 } as const;

export function* simulatePlant(opts: PlantOptions = {}): Generator<arrow.RecordBatch> {
  const n = opts.sensors ?? 200;
  const start = (opts.start ?? new Date('2024-01-01T00:00:00Z')).getTime();
  const step = (opts.intervalSeconds ?? 10) * 1000;
  const steps = Math.floor(((opts.hours ?? 24) * 3_600_000) / step);
  const batchRows = opts.batchRows ?? 500_000;
  const rand = rng(opts.seed ?? 42);
  const ids = sensorIds(n);
  const dict = arrow.vectorFromArray(ids, new arrow.Utf8());
  const base = ids.map(() => 20 + rand() * 80);
  const amp = ids.map(() => 1 + rand() * 10);
  let ts = new BigInt64Array(batchRows);
  let key = new Int32Array(batchRows);
  let value = new Float64Array(batchRows);
  let quality = new Int32Array(batchRows);
  let date = new Int32Array(batchRows);
  let k = 0;
  const flush = (): arrow.RecordBatch => {
    const len = k;
    const data = [
      arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: len, nullCount: 0, data: ts.subarray(0, len) }),
      arrow.makeData({ type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), length: len, nullCount: 0, data: key.subarray(0, len), dictionary: dict }),
      arrow.makeData({ type: new arrow.Float64(), length: len, nullCount: 0, data: value.subarray(0, len) }),
      arrow.makeData({ type: new arrow.Int32(), length: len, nullCount: 0, data: quality.subarray(0, len) }),
      arrow.makeData({ type: new arrow.DateDay(), length: len, nullCount: 0, data: date.subarray(0, len) }),
    ];
    const schema = new arrow.Schema([
      READINGS_SCHEMA.fields[0],
      new arrow.Field('sensor_id', data[1].type, false),
      ...READINGS_SCHEMA.fields.slice(2),
    ]);
    const batch = new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length: len, nullCount: 0, children: data }));
    ts = new BigInt64Array(batchRows);
    key = new Int32Array(batchRows);
    value = new Float64Array(batchRows);
    quality = new Int32Array(batchRows);
    date = new Int32Array(batchRows);
    k = 0;
    return batch;
  };
  for (let s = 0; s < steps; s++) {
    const t = start + s * step;
    const day = Math.floor(t / 86_400_000);
    const phase = ((t % 86_400_000) / 86_400_000) * 2 * Math.PI;
    for (let i = 0; i < n; i++) {
      ts[k] = BigInt(t) * 1000n;
      key[k] = i;
      const r = rand();
      value[k] = base[i] + amp[i] * Math.sin(phase + i) + (rand() - 0.5) * 0.2 * amp[i];
      quality[k] = r < 0.001 ? QUALITY.bad : r < 0.005 ? QUALITY.uncertain : QUALITY.good;
      date[k] = day;
      if (++k === batchRows) yield flush();
    }
  }
  if (k > 0) yield flush();
}
