// A source batch (SOURCE_SCHEMA) between threads as its column buffers, moved rather than copied: the worker posts
// them in the transfer list and this thread wraps them again, which skips the Arrow IPC encode, its copy into one
// message, and the decode on the way in.

import * as arrow from 'apache-arrow';
import { SensorlakeError } from '../errors.js';
import { SOURCE_SCHEMA } from './batch.js';

type Buffer = ArrayBufferView | null;

/** One column's arrays; `dictionary` for sensor_id. */
export interface PackedColumn {
  length: number;
  nullCount: number;
  offset: number;
  values: Buffer;
  valueOffsets: Buffer;
  nullBitmap: Buffer;
  dictionary: PackedColumn | null;
}

export interface PackedBatch {
  length: number;
  columns: PackedColumn[];
}

/** A view that owns its whole buffer as is; any other view is copied first, so that nothing else is detached. */
function owned(v: ArrayBufferView | undefined, transfer: ArrayBuffer[]): Buffer {
  if (!v || v.byteLength === 0) return null;
  let out = v;
  if (v.byteOffset !== 0 || v.byteLength !== v.buffer.byteLength || !(v.buffer instanceof ArrayBuffer) || transfer.includes(v.buffer)) {
    const Ctor = v.constructor as new (b: ArrayBuffer) => ArrayBufferView;
    out = new Ctor(new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice().buffer);
  }
  transfer.push(out.buffer as ArrayBuffer);
  return out;
}

function packData(d: arrow.Data, transfer: ArrayBuffer[]): PackedColumn {
  return {
    length: d.length,
    nullCount: d.nullCount,
    offset: d.offset,
    values: owned(d.values as ArrayBufferView | undefined, transfer),
    valueOffsets: owned(d.valueOffsets as ArrayBufferView | undefined, transfer),
    nullBitmap: owned(d.nullBitmap, transfer),
    dictionary: d.dictionary ? packData(d.dictionary.data[0], transfer) : null,
  };
}

/** The batch's buffers and what to transfer with them. */
export function packBatch(batch: arrow.RecordBatch): { packed: PackedBatch; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const columns = SOURCE_SCHEMA.fields.map((f) => {
    const child = batch.getChild(f.name);
    if (!child || child.data.length !== 1) throw new SensorlakeError(`source batch column ${f.name}: expected one chunk`);
    return packData(child.data[0], transfer);
  });
  return { packed: { length: batch.numRows, columns }, transfer };
}

function unpackData(type: arrow.DataType, c: PackedColumn): arrow.Data {
  const props = {
    type,
    length: c.length,
    nullCount: c.nullCount,
    offset: c.offset,
    ...(c.nullBitmap ? { nullBitmap: c.nullBitmap as Uint8Array } : {}),
  };
  if (arrow.DataType.isDictionary(type)) {
    const dictionary = arrow.makeVector(unpackData(type.dictionary, c.dictionary!));
    return arrow.makeData({ ...props, type, data: (c.values ?? new Int32Array(0)) as Int32Array, dictionary });
  }
  if (arrow.DataType.isUtf8(type)) {
    return arrow.makeData({ ...props, type, valueOffsets: (c.valueOffsets ?? new Int32Array(c.offset + c.length + 1)) as Int32Array, data: (c.values ?? new Uint8Array(0)) as Uint8Array });
  }
  return arrow.makeData({ ...props, type: type as arrow.Float64, data: (c.values ?? new Float64Array(0)) as Float64Array });
}

/** The batch again, over the transferred buffers. */
export function unpackBatch(p: PackedBatch): arrow.RecordBatch {
  const fields = SOURCE_SCHEMA.fields;
  if (p.columns.length !== fields.length) throw new SensorlakeError(`source worker sent ${p.columns.length} columns, expected ${fields.length}`);
  const children = fields.map((f, k) => unpackData(f.type, p.columns[k]));
  return new arrow.RecordBatch(SOURCE_SCHEMA, arrow.makeData({ type: new arrow.Struct(fields), length: p.length, nullCount: 0, children }));
}
