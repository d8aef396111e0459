// The one canonical shape every source yields: readings as an Arrow record batch (SOURCE_SCHEMA) plus the records
// that could not be read, each with its reason and location. Sources build it with ReadingsBuilder; the backfill
// validates, dedups and writes it. Flow: source -> (this shape) -> validate -> dedup -> partition/sort -> commit.

import * as arrow from 'apache-arrow';

/** Why a record went to quarantine. Stable codes: they are stored in the quarantine table and counted in reports. */
export const REJECT_REASONS = [
  'bad_timestamp', // timestamp missing or unparseable
  'nonexistent_local_time', // naive local time inside a DST gap, with the rule set to reject
  'ambiguous_local_time', // naive local time inside a DST overlap, with the rule set to reject
  'bad_value', // value missing or unparseable as a number
  'non_finite', // NaN or +-Inf
  'type_mismatch', // a value of the wrong type (text for a numeric sensor, object in JSON, ...)
  'missing_sensor_id',
  'bad_quality', // quality flag present but not understood
  'malformed_record', // the record itself cannot be parsed (wrong column count, broken JSON, bad line protocol)
  'out_of_range_time', // outside --from/--to
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** How `location` counts: 1-based text line, 0-based record index (Parquet, Avro, JSON item), or byte offset. */
export type LocationKind = 'line' | 'record' | 'offset';

export interface Reject {
  /** The record as it was read (a text line, or JSON of a binary record), truncated to 4 KiB. */
  raw: string;
  reason: RejectReason;
  /** Names what is wrong and where: field, value, expected form. */
  message: string;
  file: string;
  location: number;
  locationKind: LocationKind;
}

/** Canonical columns. ts is µs since epoch UTC; quality null means the source gave none. */
export const SOURCE_SCHEMA = new arrow.Schema([
  new arrow.Field('ts', new arrow.TimestampMicrosecond('UTC'), false),
  new arrow.Field('sensor_id', new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), false),
  new arrow.Field('value', new arrow.Float64(), true),
  new arrow.Field('value_text', new arrow.Utf8(), true),
  new arrow.Field('quality', new arrow.Int32(), true),
  new arrow.Field('location', new arrow.Float64(), false),
]);

/** What a source yields, in input order. Accounting: `recordsRead === (batch?.numRows ?? 0) + rejects.length`. */
export interface SourceChunk {
  file: string;
  batch: arrow.RecordBatch | null;
  rejects: Reject[];
  recordsRead: number;
  /** Bytes of the input file (compressed, if it is) consumed so far: for progress. */
  bytesRead: number;
  /** Naive local times resolved by the DST rules in this chunk (counted, not rejected). */
  dst: { ambiguous: number; nonexistent: number };
  locationKind: LocationKind;
}

const RAW_LIMIT = 4096;
export function truncateRaw(raw: string): string {
  return raw.length <= RAW_LIMIT ? raw : `${raw.slice(0, RAW_LIMIT)}…`;
}

const TWO_32 = 4294967296;

/**
 * Accumulates readings column by column (sensor ids dictionary-encoded per file) and rejects, and hands them out as
 * SourceChunks. Timestamps are integer µs held in doubles (exact to year 2255), split into int64 words at flush.
 */
export class ReadingsBuilder {
  private ids = new Map<string, number>();
  private idList: string[] = [];
  private ts: Float64Array;
  private key: Int32Array;
  private value: Float64Array;
  private valueValid: Uint8Array;
  private valueText: (string | null)[] = [];
  private hasText = false;
  private quality: Int32Array;
  private qualityValid: Uint8Array;
  private hasQuality = false;
  private location: Float64Array;
  private rejects: Reject[] = [];
  private n = 0;
  private dstAmbiguous = 0;
  private dstNonexistent = 0;

  constructor(
    readonly file: string,
    readonly locationKind: LocationKind,
    readonly capacity = 65_536,
  ) {
    this.ts = new Float64Array(capacity);
    this.key = new Int32Array(capacity);
    this.value = new Float64Array(capacity);
    this.valueValid = new Uint8Array(capacity);
    this.quality = new Int32Array(capacity);
    this.qualityValid = new Uint8Array(capacity);
    this.location = new Float64Array(capacity);
  }

  get length(): number {
    return this.n;
  }

  /** True when the batch is full and should be flushed before the next append. */
  get full(): boolean {
    return this.n >= this.capacity;
  }

  get pending(): number {
    return this.n + this.rejects.length;
  }

  append(sensorId: string, tsMicros: number, value: number | null, valueText: string | null, quality: number | null, location: number): void {
    let k = this.ids.get(sensorId);
    if (k === undefined) {
      k = this.idList.length;
      this.ids.set(sensorId, k);
      this.idList.push(sensorId);
    }
    const i = this.n++;
    this.ts[i] = tsMicros;
    this.key[i] = k;
    if (value === null) {
      this.valueValid[i] = 0;
      this.value[i] = 0;
    } else {
      this.valueValid[i] = 1;
      this.value[i] = value;
    }
    if (valueText !== null) {
      // Most chunks have no text: the list is only kept from the first text on.
      if (!this.hasText) this.valueText = new Array<string | null>(i).fill(null);
      this.hasText = true;
      this.valueText[i] = valueText;
    } else if (this.hasText) this.valueText[i] = null;
    this.setQuality(i, quality);
    this.location[i] = location;
  }

  private setQuality(i: number, quality: number | null): void {
    if (quality === null) this.qualityValid[i] = 0;
    else {
      this.qualityValid[i] = 1;
      this.quality[i] = quality;
      this.hasQuality = true;
    }
  }

  /** The key of a sensor id in the chunks' dictionary (kept across flushes), for appendNumber. */
  keyOf(sensorId: string): number {
    let k = this.ids.get(sensorId);
    if (k === undefined) {
      k = this.idList.length;
      this.ids.set(sensorId, k);
      this.idList.push(sensorId);
    }
    return k;
  }

  /** append() of a numeric reading whose sensor id's key is known (keyOf): the CSV fast path's. */
  appendNumber(key: number, tsMicros: number, value: number, quality: number | null, location: number): void {
    const i = this.n++;
    this.ts[i] = tsMicros;
    this.key[i] = key;
    this.valueValid[i] = 1;
    this.value[i] = value;
    if (this.hasText) this.valueText[i] = null;
    this.setQuality(i, quality);
    this.location[i] = location;
  }

  reject(raw: string, reason: RejectReason, message: string, location: number): void {
    this.rejects.push({ raw: truncateRaw(raw), reason, message, file: this.file, location, locationKind: this.locationKind });
  }

  countDst(kind: 'ambiguous' | 'nonexistent'): void {
    if (kind === 'ambiguous') this.dstAmbiguous++;
    else this.dstNonexistent++;
  }

  /** Everything appended since the last flush, as one chunk; the builder is then empty (the dictionary is kept). */
  flush(bytesRead: number): SourceChunk {
    const n = this.n;
    const rejects = this.rejects;
    const chunk: SourceChunk = {
      file: this.file,
      batch: n === 0 ? null : this.batch(n),
      rejects,
      recordsRead: n + rejects.length,
      bytesRead,
      dst: { ambiguous: this.dstAmbiguous, nonexistent: this.dstNonexistent },
      locationKind: this.locationKind,
    };
    this.n = 0;
    this.rejects = [];
    this.valueText = [];
    this.hasText = false;
    this.hasQuality = false;
    this.dstAmbiguous = 0;
    this.dstNonexistent = 0;
    return chunk;
  }

  private batch(n: number): arrow.RecordBatch {
    const words = new Int32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const t = this.ts[i];
      const hi = Math.floor(t / TWO_32);
      words[2 * i] = t - hi * TWO_32;
      words[2 * i + 1] = hi;
    }
    const ts = new BigInt64Array(words.buffer);
    const dictionary = arrow.makeVector(utf8Data(this.idList));
    const fields = SOURCE_SCHEMA.fields;
    const children = [
      arrow.makeData({ type: fields[0].type as arrow.TimestampMicrosecond, length: n, nullCount: 0, data: ts }),
      arrow.makeData({ type: fields[1].type as arrow.Dictionary<arrow.Utf8, arrow.Int32>, length: n, nullCount: 0, data: this.key.slice(0, n), dictionary }),
      withValidity(arrow.makeData({ type: new arrow.Float64(), length: n, data: this.value.slice(0, n) }), this.valueValid, n),
      this.hasText ? arrow.vectorFromArray(this.valueText.slice(0, n), new arrow.Utf8()).data[0] : arrow.makeData({ type: new arrow.Utf8(), length: n, nullCount: n, nullBitmap: new Uint8Array((n + 7) >> 3), valueOffsets: new Int32Array(n + 1), data: new Uint8Array(0) }),
      this.hasQuality
        ? withValidity(arrow.makeData({ type: new arrow.Int32(), length: n, data: this.quality.slice(0, n) }), this.qualityValid, n)
        : arrow.makeData({ type: new arrow.Int32(), length: n, nullCount: n, nullBitmap: new Uint8Array((n + 7) >> 3), data: new Int32Array(n) }),
      arrow.makeData({ type: new arrow.Float64(), length: n, nullCount: 0, data: this.location.slice(0, n) }),
    ];
    return new arrow.RecordBatch(SOURCE_SCHEMA, arrow.makeData({ type: new arrow.Struct(SOURCE_SCHEMA.fields), length: n, nullCount: 0, children: children as arrow.Data[] }));
  }
}

/**
 * Non-null strings as Arrow Utf8 data, encoded in one pass: Arrow's builder encodes string by string, which for the
 * dictionary of a small chunk with many sensors (a live-ingest request) costs more than reading the readings.
 */
function utf8Data(strings: readonly string[]): arrow.Data<arrow.Utf8> {
  const n = strings.length;
  const joined = strings.join('');
  const data = new Uint8Array(Buffer.byteLength(joined, 'utf8'));
  Buffer.from(data.buffer, data.byteOffset, data.length).write(joined, 'utf8');
  const offsets = new Int32Array(n + 1);
  const ascii = data.length === joined.length;
  for (let i = 0, o = 0; i < n; i++) {
    o += ascii ? strings[i].length : Buffer.byteLength(strings[i], 'utf8');
    offsets[i + 1] = o;
  }
  return arrow.makeData({ type: new arrow.Utf8(), length: n, nullCount: 0, valueOffsets: offsets, data });
}

function withValidity<T extends arrow.DataType>(d: arrow.Data<T>, valid: Uint8Array, n: number): arrow.Data<T> {
  let nulls = 0;
  for (let i = 0; i < n; i++) nulls += valid[i] ^ 1;
  if (nulls === 0) return d;
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (valid[i]) bitmap[i >> 3] |= 1 << (i & 7);
  return d.clone(d.type, d.offset, n, nulls, [d.valueOffsets, d.values, bitmap, d.typeIds] as unknown as Parameters<arrow.Data<T>["clone"]>[4]) as arrow.Data<T>;
}

/** Options every source understands; format-specific ones live in each source's own options. */
export interface SourceOptions {
  /** Timestamp interpretation; see timestamps.ts. */
  time?: TimeOptions;
  /** Readings per chunk. */
  batchRows?: number;
}

export interface TimeOptions {
  /** How timestamps are written: 'auto' accepts ISO 8601 and, for numbers, `epochUnit`. */
  format?: 'auto' | 'iso' | 'epoch';
  /** Unit of numeric epoch timestamps (default: inferred from magnitude, see timestamps.ts). */
  epochUnit?: 's' | 'ms' | 'us' | 'ns';
  /** IANA zone for naive local times (no offset). Without it, naive times are rejected as bad_timestamp. */
  zone?: string;
  /** A local time that occurs twice (DST ends): take the earlier or later instant, or reject. Default earlier. */
  ambiguous?: 'earlier' | 'later' | 'reject';
  /** A local time that never occurs (DST starts): shift forward by the gap, or reject. Default shift-forward. */
  nonexistent?: 'shift-forward' | 'reject';
}

/** One input file as a source sees it: decompressed bytes (gzip is undone by inputs.ts), and progress in raw bytes. */
export interface SourceInput {
  /** The path as the user named it (for messages and the quarantine table). */
  file: string;
  /** Whether the file on disk is gzip-compressed (sources needing random access, like Parquet, must then buffer). */
  gzip: boolean;
  /** Size on disk in bytes. */
  size: number;
  /** A fresh stream of the decompressed bytes. */
  open(): NodeJS.ReadableStream & AsyncIterable<Buffer>;
  /** Bytes of the file on disk consumed so far by the last open() stream. */
  bytesRead(): number;
}
