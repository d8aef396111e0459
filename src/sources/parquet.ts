// Parquet exports as a source: streamed batch by batch through parquet-wasm's async reader over a file Blob, so memory
// holds one row group's column chunks and one batch, never the file. Gzip'd Parquet has no random access: buffered.

import * as arrow from 'apache-arrow';
import { isAscii } from 'node:buffer';
import { openAsBlob } from 'node:fs';
import * as pw from 'parquet-wasm';
import { InvalidRecordError } from '../errors.js';
import { ReadingsBuilder, type SourceChunk, type SourceInput } from './batch.js';
import { describe, RecordSink, recordJson, resolveFields, TimestampReader, type ColumnarReadOptions, type TsFailure } from './columnar.js';

type Get = (i: number) => unknown;

/** Readings of a Parquet file, in file order; location is the 0-based row number. */
export async function* readParquet(input: SourceInput, opts: ColumnarReadOptions = {}): AsyncGenerator<SourceChunk> {
  const batchRows = opts.batchRows ?? 65_536;
  const file = await openParquet(input);
  let stream: ReadableStreamDefaultReader<pw.RecordBatch> | null = null;
  try {
    const schema = arrow.tableFromIPC(file.schema().intoIPCStream()).schema;
    const fields = resolveFields(opts.fields, schema.fields.map((f) => f.name), input.file, 'Parquet');
    const builder = new ReadingsBuilder(input.file, 'record', batchRows);
    const time = new TimestampReader(opts.time, (kind) => builder.countDst(kind));
    const meta = file.metadata();
    const tsType = schema.fields.find((f) => f.name === fields.ts)!.type;
    const naive = arrow.DataType.isTimestamp(tsType) && !tsType.timezone && !looksInt96(tsType, meta);
    if (naive) time.requireZone(input.file, fields.ts, 'timestamps without a time zone');
    const totalRows = meta.fileMetadata().numRows();
    const columns = [...new Set(Object.values(fields))];
    stream = (await file.stream({ batchSize: Math.min(batchRows, 65_536), columns })).getReader() as ReadableStreamDefaultReader<pw.RecordBatch>;

    const sink = new RecordSink(builder, opts);
    let row = 0;
    let yielded = false;
    // Progress by rows: the async reader does not say which bytes it has fetched.
    const bytes = (): number => (input.gzip ? input.bytesRead() : totalRows === 0 ? input.size : Math.round((input.size * row) / totalRows));
    for (;;) {
      const next = await stream.read();
      if (next.done) break;
      const batch = arrow.tableFromIPC(next.value.intoIPCStream()).batches[0];
      if (!batch) continue;
      const col = (name: string | undefined): arrow.Data | null => (name === undefined ? null : batch.getChild(name)!.data[0]);
      const tsData = col(fields.ts)!;
      const ts = tsGetter(tsData, time, naive);
      const sensor = getter(col(fields.sensor_id)!);
      const value = getter(col(fields.value)!);
      const qualityData = col(fields.quality);
      const quality = qualityData ? getter(qualityData) : () => null;
      const textData = col(fields.value_text);
      const text = textData ? getter(textData) : () => null;
      let i = 0; // the row `raw` renders: one closure per batch, not per row
      const raw = (): string =>
        recordJson({ [fields.ts]: rawTs(tsData, i), [fields.sensor_id]: sensor(i), [fields.value]: value(i), ...(qualityData ? { [fields.quality!]: quality(i) } : {}) });
      for (i = 0; i < batch.numRows; i++, row++) {
        sink.add(ts(i), sensor(i), value(i), quality(i), text(i), row, raw);
        if (builder.pending >= batchRows) {
          yield builder.flush(bytes());
          yielded = true;
        }
      }
    }
    if (builder.pending > 0 || !yielded) yield builder.flush(input.gzip ? input.bytesRead() : input.size);
  } finally {
    await stream?.cancel().catch(() => undefined);
    file.free();
  }
}

async function openParquet(input: SourceInput): Promise<pw.ParquetFile> {
  let blob: Blob;
  if (input.gzip) {
    const parts: Buffer[] = [];
    for await (const b of input.open()) parts.push(b);
    blob = new Blob(parts);
  } else blob = await openAsBlob(input.file); // read lazily, by byte range
  try {
    return await pw.ParquetFile.fromFile(blob);
  } catch (e) {
    throw new InvalidRecordError(`${input.file}: not a readable Parquet file: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/**
 * Spark, Hive and Impala write instants as INT96, which arrow-rs reads as nanoseconds without a time zone, like a
 * naive nanosecond column, unless an Arrow schema in the footer says more. Without one, such a column is all but
 * always INT96 (writers of naive times use micros), so it is read as UTC instants, as Spark means them. The delta
 * engine's footer reader (hintInt96) could tell exactly, and avoid the ±292-year wrap of nanoseconds: it is private.
 */
function looksInt96(t: arrow.Timestamp, meta: pw.ParquetMetaData): boolean {
  return t.unit === arrow.TimeUnit.NANOSECOND && !meta.fileMetadata().keyValueMetadata().has('ARROW:schema');
}

const MICROS: Record<number, number> = { [arrow.TimeUnit.SECOND]: 1e6, [arrow.TimeUnit.MILLISECOND]: 1e3, [arrow.TimeUnit.MICROSECOND]: 1 };
const NULL_TS: TsFailure = { reason: 'bad_timestamp', message: 'ts is null' };

/** The µs UTC instant of row i, or why there is none. Timestamp columns of any unit are exact (ns floored to µs). */
function tsGetter(d: arrow.Data, time: TimestampReader, naive: boolean): (i: number) => number | TsFailure {
  const valid = (i: number): boolean => d.nullCount === 0 || d.getValid(i);
  const t = d.type;
  if (arrow.DataType.isDate(t)) {
    const dates = arrow.makeVector(d);
    return (i) => (valid(i) ? Number(dates.get(i)) * 1000 : NULL_TS); // a calendar date: its midnight UTC
  }
  if (arrow.DataType.isTimestamp(t)) {
    const words = d.values as unknown as BigInt64Array;
    let us: (i: number) => number;
    if (t.unit === arrow.TimeUnit.NANOSECOND) {
      us = (i) => {
        const v = (words as BigInt64Array)[i];
        const q = v / 1000n;
        return Number(v < 0n && q * 1000n !== v ? q - 1n : q);
      };
    } else {
      const mul = MICROS[t.unit];
      us = (i) => Number((words as BigInt64Array)[i]) * mul;
    }
    return (i) => (!valid(i) ? NULL_TS : naive ? time.naive(us(i)) : us(i));
  }
  const get = getter(d);
  return (i) => {
    const v = get(i);
    if (v === null) return NULL_TS;
    if (typeof v === 'string' || typeof v === 'number') return time.value(v);
    if (typeof v === 'bigint') return time.bigint(v);
    return { reason: 'bad_timestamp', message: `ts is ${describe(v)}, expected a timestamp, text or an epoch number` };
  };
}

/** Row i of a column as a JS value (null when null), with typed-array fast paths for the common types. */
function getter(d: arrow.Data): Get {
  const t = d.type;
  const valid = d.nullCount === 0 ? () => true : (i: number) => d.getValid(i);
  if (arrow.DataType.isFloat(t) && t.precision !== arrow.Precision.HALF) {
    const v = d.values as unknown as Float64Array | Float32Array;
    return (i) => (valid(i) ? v[i] : null);
  }
  if (arrow.DataType.isInt(t) && t.bitWidth <= 32) {
    const v = d.values as unknown as Int32Array;
    return (i) => (valid(i) ? v[i] : null);
  }
  if (arrow.DataType.isDictionary(t)) {
    const dict = arrow.makeVector(d.dictionary!.data[0]);
    const words: unknown[] = Array.from({ length: dict.length }, (_, k) => dict.get(k));
    const keys = d.values as unknown as Int32Array;
    return (i) => (valid(i) ? words[Number(keys[i])] : null);
  }
  if (arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t)) {
    // ASCII text (sensor ids nearly always): one decode per batch, then cheap slices instead of a TextDecoder per row.
    const bytes = d.values as Uint8Array;
    if (isAscii(bytes)) {
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
      const offsets = d.valueOffsets as Int32Array | BigInt64Array;
      return (i) => (valid(i) ? text.slice(Number(offsets[i]), Number(offsets[i + 1])) : null);
    }
  }
  if (arrow.DataType.isDecimal(t)) return decimalGetter(d as arrow.Data<arrow.Decimal>, valid);
  const v = arrow.makeVector(d);
  return (i) => (valid(i) ? (v.get(i) as unknown) : null);
}

/** Decimals as the nearest double, rounded once from the exact digits. */
function decimalGetter(d: arrow.Data<arrow.Decimal>, valid: (i: number) => boolean): Get {
  const words = d.values;
  const stride = d.type.bitWidth / 32;
  const top = 1n << BigInt(d.type.bitWidth);
  return (i) => {
    if (!valid(i)) return null;
    let big = 0n;
    for (let k = stride - 1; k >= 0; k--) big = (big << 32n) | BigInt(words[i * stride + k]);
    if (words[i * stride + stride - 1] & 0x80000000) big -= top;
    return Number(`${big}e-${d.type.scale}`);
  };
}

/** The stored timestamp of row i for a reject: its raw integer, so nothing is rounded away. */
function rawTs(d: arrow.Data, i: number): unknown {
  if (d.nullCount > 0 && !d.getValid(i)) return null;
  if (arrow.DataType.isTimestamp(d.type)) return `${(d.values as unknown as BigInt64Array)[i]} (${arrow.TimeUnit[d.type.unit].toLowerCase()})`;
  return getter(d)(i);
}
