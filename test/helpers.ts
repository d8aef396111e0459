// Shared test helpers: temp directories and small Arrow tables of sensor readings.
import * as arrow from 'apache-arrow';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/...). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = path.resolve(REPO_ROOT, '..', 'shared');

export function tempDir(prefix = 'sensorlake-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Reading {
  ts: bigint; // µs since epoch
  sensor_id: string;
  value: number | null;
  quality: number;
}

export function dayOf(us: bigint): number {
  return Math.floor(Number(us / 1000n) / 86_400_000);
}

/** Readings as an Arrow table with ts (µs UTC), sensor_id, value, quality and the partition column date. */
export function readingsTable(rows: Reading[]): arrow.Table {
  const n = rows.length;
  const ts = arrow.makeVector(
    arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: n, nullCount: 0, data: BigInt64Array.from(rows.map((r) => r.ts)) }),
  );
  const date = arrow.makeVector(arrow.makeData({ type: new arrow.DateDay(), length: n, nullCount: 0, data: Int32Array.from(rows.map((r) => dayOf(r.ts))) }));
  return new arrow.Table({
    ts,
    sensor_id: arrow.vectorFromArray(rows.map((r) => r.sensor_id), new arrow.Utf8()),
    value: arrow.vectorFromArray(rows.map((r) => r.value), new arrow.Float64()),
    quality: arrow.vectorFromArray(rows.map((r) => r.quality), new arrow.Int32()),
    date,
  });
}

export const US_PER_DAY = 86_400_000_000n;
export const JAN1 = 1_704_067_200_000_000n; // 2024-01-01T00:00:00Z in µs

/** `count` readings per sensor per day, µs-precise timestamps. */
export function makeReadings(opts: { days: number; sensors: number; perDay: number; startUs?: bigint; seed?: number }): Reading[] {
  const out: Reading[] = [];
  const start = opts.startUs ?? JAN1;
  let x = opts.seed ?? 1;
  for (let d = 0; d < opts.days; d++) {
    for (let s = 0; s < opts.sensors; s++) {
      for (let k = 0; k < opts.perDay; k++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        out.push({
          ts: start + BigInt(d) * US_PER_DAY + BigInt(k) * 60_000_000n + BigInt(s) + 1n,
          sensor_id: `sensor-${s}`,
          value: x % 17 === 0 ? null : x / 1e6,
          quality: x % 5 === 0 ? 1073741824 : 0,
        });
      }
    }
  }
  return out;
}

/** Rows of an Arrow table as plain comparable records: timestamps as µs strings. */
export function rowsOf(t: arrow.Table): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const cols = t.schema.fields.map((f) => f.name);
  for (const batch of t.batches) {
    const getters = t.schema.fields.map((f, i) => {
      const col = batch.getChildAt(i)!;
      if (arrow.DataType.isTimestamp(f.type)) {
        const d = col.data[0];
        const vals = d.values as unknown as BigInt64Array;
        return (r: number) => (d.getValid(r) ? String(vals[r]) : null);
      }
      return (r: number) => {
        const v = col.get(r);
        return typeof v === 'bigint' ? String(v) : v;
      };
    });
    for (let r = 0; r < batch.numRows; r++) out.push(Object.fromEntries(cols.map((c, i) => [c, getters[i](r)])));
  }
  return out.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

export function expectedRows(rows: Reading[]): Record<string, unknown>[] {
  return rows
    .map((r) => ({ ts: String(r.ts), sensor_id: r.sensor_id, value: r.value, quality: r.quality, date: dayOf(r.ts) * 86_400_000 }))
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

// makeData's overloads cannot pick one for a generic type; the props are checked by the tests' assertions instead.
const looseData = arrow.makeData as unknown as (props: object) => arrow.Data;

/** A column built straight from raw values (null = null), so µs timestamps, int64s and day dates stay exact. */
export function rawVector<T extends arrow.DataType>(type: T, values: (number | bigint | null)[], Ctor: new (n: number) => { [i: number]: number | bigint }): arrow.Vector<T> {
  const bitmap = new Uint8Array(Math.max(1, Math.ceil(values.length / 8)));
  const data = new Ctor(values.length);
  let nulls = 0;
  values.forEach((v, i) => {
    if (v === null) nulls++;
    else {
      bitmap[i >> 3] |= 1 << (i & 7);
      data[i] = v;
    }
  });
  return arrow.makeVector(looseData({ type, length: values.length, nullCount: nulls, nullBitmap: bitmap, data })) as arrow.Vector<T>;
}
