// SourceChunks across a worker boundary as their column buffers: the decode worker posts them, the main thread puts
// the batch back together around the same buffers. Arrow IPC would do too, but writing and reading its framing costs
// several times what decoding 1,000 readings does.

import * as arrow from 'apache-arrow';
import { SensorlakeError } from '../../errors.js';
import { SOURCE_SCHEMA, type SourceChunk } from '../../sources/batch.js';

/** One column's Arrow data without its type (the type comes from SOURCE_SCHEMA). */
interface ColumnBuffers {
  length: number;
  nullCount: number;
  offset: number;
  values: ArrayBufferView | undefined;
  valueOffsets: Int32Array | undefined;
  nullBitmap: Uint8Array | undefined;
  /** A dictionary column's dictionary (Utf8). */
  dictionary?: ColumnBuffers;
}

export interface PortableChunk {
  meta: Omit<SourceChunk, 'batch'>;
  columns: ColumnBuffers[] | null;
  rows: number;
}

function buffersOf(d: arrow.Data): ColumnBuffers {
  const out: ColumnBuffers = {
    length: d.length,
    nullCount: d.nullCount,
    offset: d.offset,
    values: d.values as ArrayBufferView | undefined,
    valueOffsets: d.valueOffsets as Int32Array | undefined,
    nullBitmap: d.nullBitmap ?? undefined,
  };
  if (d.dictionary) {
    if (d.dictionary.data.length !== 1) throw new SensorlakeError(`a chunk's dictionary has ${d.dictionary.data.length} parts, expected 1`);
    out.dictionary = buffersOf(d.dictionary.data[0]);
  }
  return out;
}

/** The chunk as plain objects and typed arrays: structured clone copies them (a few KiB per 1,000 readings). */
export function toPortable(chunk: SourceChunk): PortableChunk {
  const { batch, ...meta } = chunk;
  if (!batch) return { meta, columns: null, rows: 0 };
  return { meta, columns: batch.data.children.map(buffersOf), rows: batch.numRows };
}

function dataOf(type: arrow.DataType, c: ColumnBuffers): arrow.Data {
  const common = { length: c.length, nullCount: c.nullCount, offset: c.offset, nullBitmap: c.nullBitmap };
  if (arrow.DataType.isDictionary(type)) {
    const dictionary = arrow.makeVector(dataOf(type.dictionary, c.dictionary!));
    return arrow.makeData({ ...common, type, data: c.values as Int32Array, dictionary });
  }
  if (arrow.DataType.isUtf8(type)) return arrow.makeData({ ...common, type, valueOffsets: c.valueOffsets!, data: c.values as Uint8Array });
  // The fixed-width columns of SOURCE_SCHEMA: timestamps, floats and ints, each with its typed array of values.
  return arrow.makeData({ ...common, type: type as arrow.Float64, data: c.values as Float64Array });
}

export function fromPortable(p: PortableChunk): SourceChunk {
  if (!p.columns) return { ...p.meta, batch: null };
  const fields = SOURCE_SCHEMA.fields;
  if (p.columns.length !== fields.length) throw new SensorlakeError(`a decoded chunk has ${p.columns.length} columns, expected ${fields.length}`);
  const children = p.columns.map((c, i) => dataOf(fields[i].type, c));
  const struct = arrow.makeData({ type: new arrow.Struct(fields), length: p.rows, nullCount: 0, children });
  return { ...p.meta, batch: new arrow.RecordBatch(SOURCE_SCHEMA, struct) };
}
