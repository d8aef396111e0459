// Shapes incoming Arrow data to the table schema before anything is written: checks types (enforcement or
// mergeSchema evolution), orders columns as the table does, fills absent nullable columns with nulls, and
// converts timestamps of other units to microseconds.

import * as arrow from 'apache-arrow';
import { checkWriteSchema, fromArrowSchema, toArrowField, type StructType } from '../kernel/schema.js';
import { SchemaMismatchError } from '../../errors.js';
import { nullVector, identity, takeVector } from '../arrow/columns.js';

export type WriteInput = arrow.Table | arrow.RecordBatch | arrow.RecordBatch[];

export function toTable(input: WriteInput): arrow.Table {
  if (input instanceof arrow.Table) return input;
  if (input instanceof arrow.RecordBatch) return new arrow.Table(input);
  if (input.length === 0) throw new SchemaMismatchError('write: no record batches given');
  return new arrow.Table(input);
}

const PER_US: Record<number, [bigint, 'mul' | 'div']> = {
  [arrow.TimeUnit.SECOND]: [1_000_000n, 'mul'],
  [arrow.TimeUnit.MILLISECOND]: [1_000n, 'mul'],
  [arrow.TimeUnit.NANOSECOND]: [1_000n, 'div'],
};

function toMicros(v: arrow.Vector<arrow.Timestamp>): arrow.Vector {
  const flat = v.data.length === 1 ? v : takeVector(v, identity(v.length));
  const d = flat.data[0];
  const [factor, how] = PER_US[v.type.unit];
  const src = d.values as unknown as BigInt64Array;
  const out = new BigInt64Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const x = src[i];
    // Floor division keeps pre-1970 nanosecond instants on the right microsecond.
    out[i] = how === 'mul' ? x * factor : x >= 0n ? x / factor : -((-x + factor - 1n) / factor);
  }
  const type = new arrow.TimestampMicrosecond(v.type.timezone ?? undefined);
  let bitmap: Uint8Array | undefined;
  if (d.nullCount > 0 && d.nullBitmap) {
    bitmap = new Uint8Array((d.length + 7) >> 3);
    for (let i = 0; i < d.length; i++) if (d.getValid(i)) bitmap[i >> 3] |= 1 << (i & 7);
  }
  return arrow.makeVector(arrow.makeData({ type, length: d.length, nullCount: d.nullCount, nullBitmap: bitmap, data: out }));
}

export interface Conformed {
  table: arrow.Table;
  /** The table schema after this write (differs from the input schema only under mergeSchema). */
  schema: StructType;
  added: string[];
}

export function conformToSchema(input: arrow.Table, tableSchema: StructType, opts: { mergeSchema: boolean; table: string }): Conformed {
  const dataSchema = fromArrowSchema(input.schema);
  const { schema, added } = checkWriteSchema(tableSchema, dataSchema, opts);
  const fields: arrow.Field[] = [];
  const columns: arrow.Vector[] = [];
  for (const f of schema.fields) {
    let v = input.getChild(f.name) as arrow.Vector | null;
    const target = toArrowField(f);
    if (!v) {
      v = nullVector(target.type, input.numRows);
    } else if (arrow.DataType.isTimestamp(v.type) && v.type.unit !== arrow.TimeUnit.MICROSECOND) {
      v = toMicros(v as arrow.Vector<arrow.Timestamp>);
    }
    if (!f.nullable && v.nullCount > 0) {
      throw new SchemaMismatchError(`${opts.table}: column '${f.name}' is not nullable but the data has ${v.nullCount} null(s)`);
    }
    // Keep the data's physical type (e.g. dictionary strings) but the table's name and nullability.
    fields.push(new arrow.Field(f.name, v.type, f.nullable));
    columns.push(v);
  }
  const arrowSchema = new arrow.Schema(fields);
  const table = new arrow.Table(
    arrowSchema,
    Object.fromEntries(fields.map((f, i) => [f.name, columns[i]])) as unknown as arrow.RecordBatch[],
  );
  return { table, schema, added };
}
