// Turns Arrow rows into plain values for JSON Lines and CSV output: timestamps as ISO-8601 with microseconds
// (from the raw µs, never the lossy float), longs as exact numbers, dates as YYYY-MM-DD.

import * as arrow from 'apache-arrow';

function isoMicros(us: bigint, zoned: boolean): string {
  const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n);
  const micro = Number(us - ms * 1000n);
  const base = new Date(Number(ms)).toISOString(); // ...sss Z
  return `${base.slice(0, 23)}${String(micro).padStart(3, '0')}${zoned ? 'Z' : ''}`;
}

export type PlainValue = string | number | boolean | null | PlainValue[] | { [k: string]: PlainValue };

function plain(v: unknown, type: arrow.DataType): PlainValue {
  if (v === null || v === undefined) return null;
  if (arrow.DataType.isTimestamp(type)) return isoMicros(BigInt(v as bigint), !!type.timezone);
  if (arrow.DataType.isDate(type)) return new Date(Number(v) * 86_400_000).toISOString().slice(0, 10);
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (arrow.DataType.isStruct(type)) {
    const row = v as Record<string, unknown>;
    return Object.fromEntries(type.children.map((c) => [c.name, plain(row[c.name], c.type)]));
  }
  if (arrow.DataType.isList(type)) return [...(v as Iterable<unknown>)].map((x) => plain(x, type.children[0].type));
  if (arrow.DataType.isMap(type)) {
    const [k, val] = type.children[0].type.children;
    const obj = (v as { toJSON(): Record<string, unknown> }).toJSON();
    return Object.fromEntries(Object.entries(obj).map(([key, x]) => [String(plain(key, k.type)), plain(x, val.type)]));
  }
  if (typeof v === 'object' && v !== null && 'toString' in v && arrow.DataType.isDecimal(type)) return String(v);
  return v as PlainValue;
}

/** Plain rows of a record batch. Timestamp columns are read from their raw µs buffers. */
export function* plainRows(batch: arrow.RecordBatch): Generator<Record<string, PlainValue>> {
  const fields = batch.schema.fields;
  const getters = fields.map((f, i) => {
    const col = batch.getChildAt(i)!;
    // Raw buffers for timestamps (µs) and day dates: get() would turn both into lossy JS milliseconds.
    if (arrow.DataType.isTimestamp(f.type) || (arrow.DataType.isDate(f.type) && f.type.unit === arrow.DateUnit.DAY)) {
      const d = col.data[0];
      const values = d.values as unknown as ArrayLike<bigint | number>;
      return (r: number) => (d.getValid(r) ? plain(values[r], f.type) : null);
    }
    return (r: number) => plain(col.get(r), f.type);
  });
  for (let r = 0; r < batch.numRows; r++) {
    const row: Record<string, PlainValue> = {};
    fields.forEach((f, i) => (row[f.name] = getters[i](r)));
    yield row;
  }
}

export function csvCell(v: PlainValue): string {
  if (v === null) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
