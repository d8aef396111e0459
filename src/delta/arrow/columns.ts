// Column-level Arrow helpers the write path needs and apache-arrow lacks: flattening chunked columns, gathering
// rows by index, and reading raw values (timestamps as µs bigints, never the lossy float `get()` gives).
// Arrow JS slices keep the validity bitmap whole (index it with data.offset) but cut value buffers and
// value offsets to the slice (index them from 0); the UTF-8 byte buffer of strings is left whole.

import * as arrow from 'apache-arrow';

type AnyData = arrow.Data<arrow.DataType>;

function isValidAt(d: AnyData, i: number): boolean {
  if (!d.nullBitmap || d.nullCount === 0) return true;
  const j = d.offset + i;
  return (d.nullBitmap[j >> 3] & (1 << (j & 7))) !== 0;
}

/** Whether a type stores one element per slot of `data.values` (so a gather is a typed-array copy). */
function isFlatFixedWidth(t: arrow.DataType): boolean {
  return (
    arrow.DataType.isInt(t) ||
    (arrow.DataType.isFloat(t) && t.precision !== arrow.Precision.HALF) ||
    arrow.DataType.isTimestamp(t) ||
    (arrow.DataType.isDate(t) && t.unit === arrow.DateUnit.DAY) ||
    arrow.DataType.isTime(t)
  );
}

function bitmapFrom(valid: (i: number) => boolean, n: number): { bitmap: Uint8Array | undefined; nullCount: number } {
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (valid(i)) bitmap[i >> 3] |= 1 << (i & 7);
    else nulls++;
  }
  return nulls === 0 ? { bitmap: undefined, nullCount: 0 } : { bitmap, nullCount: nulls };
}

/** Rows `indices` of `vector`, in that order, as one chunk of the same type. */
export function takeVector<T extends arrow.DataType>(vector: arrow.Vector<T>, indices: Uint32Array): arrow.Vector<T> {
  const type = vector.type;
  const n = indices.length;
  const chunks = vector.data as unknown as AnyData[];
  // Map a row to (chunk, row in chunk) quickly when there are several chunks.
  const starts = new Float64Array(chunks.length + 1);
  for (let c = 0; c < chunks.length; c++) starts[c + 1] = starts[c] + chunks[c].length;
  const locate = (row: number): number => {
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const single = chunks.length === 1;
  const chunkOf = (i: number): number => (single ? 0 : locate(indices[i]));

  if (isFlatFixedWidth(type) || (arrow.DataType.isDictionary(type) && chunks.every((c) => c.dictionary === chunks[0].dictionary))) {
    const sample = chunks[0].values as unknown as { constructor: new (n: number) => ArrayLike<number | bigint> & { [i: number]: number | bigint } };
    const out = new sample.constructor(n);
    for (let i = 0; i < n; i++) {
      const c = chunkOf(i);
      const d = chunks[c];
      const r = indices[i] - starts[c];
      out[i] = (d.values as unknown as ArrayLike<number | bigint>)[r];
    }
    const { bitmap, nullCount } = bitmapFrom((i) => {
      const c = chunkOf(i);
      return isValidAt(chunks[c], indices[i] - starts[c]);
    }, n);
    const props = { type, length: n, nullCount, nullBitmap: bitmap, data: out, dictionary: chunks[0].dictionary } as unknown as Parameters<typeof arrow.makeData>[0];
    return arrow.makeVector(arrow.makeData(props)) as arrow.Vector<T>;
  }
  if (arrow.DataType.isUtf8(type)) {
    const parts: Uint8Array[] = [];
    const offsets = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const c = chunkOf(i);
      const d = chunks[c];
      const r = indices[i] - starts[c]; // valueOffsets are already sliced; the byte buffer is not
      const vo = d.valueOffsets as Int32Array;
      const bytes = (d.values as Uint8Array).subarray(vo[r], vo[r + 1]);
      parts.push(bytes);
      total += bytes.length;
      offsets[i + 1] = total;
    }
    const data = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
    const { bitmap, nullCount } = bitmapFrom((i) => {
      const c = chunkOf(i);
      return isValidAt(chunks[c], indices[i] - starts[c]);
    }, n);
    return arrow.makeVector(
      arrow.makeData({ type: type as unknown as arrow.Utf8, length: n, nullCount, nullBitmap: bitmap, valueOffsets: offsets, data }),
    ) as unknown as arrow.Vector<T>;
  }
  // Rare types on the write path (bool, decimal, nested): correct, not fast.
  const values: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) values[i] = vector.get(indices[i]);
  if (arrow.DataType.isDictionary(type)) {
    return arrow.vectorFromArray(values as string[], type as unknown as arrow.Dictionary<arrow.Utf8, arrow.Int32>) as unknown as arrow.Vector<T>;
  }
  return arrow.vectorFromArray(values, type) as arrow.Vector<T>;
}

/** Rows `indices` of every column of `table`. */
export function takeRows(table: arrow.Table, indices: Uint32Array): arrow.Table {
  const columns: Record<string, arrow.Vector> = {};
  for (const f of table.schema.fields) columns[f.name] = takeVector(table.getChild(f.name)!, indices);
  return withSchema(table.schema, columns);
}

/** Rows [ranges[2k], ranges[2k + 1]) of `vector`, in order, as one chunk: block copies per range, not per row. */
export function takeVectorRanges<T extends arrow.DataType>(vector: arrow.Vector<T>, ranges: ArrayLike<number>): arrow.Vector<T> {
  const type = vector.type;
  const chunks = vector.data as unknown as AnyData[];
  const sameDictionary = arrow.DataType.isDictionary(type) && chunks.every((c) => c.dictionary === chunks[0].dictionary);
  if (!(isFlatFixedWidth(type) || sameDictionary || arrow.DataType.isUtf8(type))) return takeVector(vector, indicesOf(ranges));
  // Cut the ranges at chunk boundaries: pieces of (chunk, from, to) with rows local to the chunk.
  const pieces: number[] = [];
  let total = 0;
  let c = 0;
  let chunkStart = 0;
  for (let k = 0; k < ranges.length; k += 2) {
    let from = ranges[k];
    const to = ranges[k + 1];
    total += to - from;
    if (from < chunkStart) {
      c = 0;
      chunkStart = 0;
    }
    while (from < to) {
      while (from >= chunkStart + chunks[c].length) chunkStart += chunks[c++].length;
      const end = Math.min(to, chunkStart + chunks[c].length);
      pieces.push(c, from - chunkStart, end - chunkStart);
      from = end;
    }
  }
  const anyNulls = chunks.some((d) => d.nullCount > 0);
  let bitmap: Uint8Array | undefined;
  let nullCount = 0;
  if (anyNulls) {
    bitmap = new Uint8Array((total + 7) >> 3);
    let at = 0;
    for (let p = 0; p < pieces.length; p += 3) {
      const d = chunks[pieces[p]];
      const from = pieces[p + 1];
      const to = pieces[p + 2];
      const bits = d.nullCount > 0 ? d.nullBitmap : null;
      if (!bits || bits.length === 0) {
        for (let r = from; r < to; r++, at++) bitmap[at >> 3] |= 1 << (at & 7);
        continue;
      }
      for (let r = from, j = d.offset + from; r < to; r++, j++, at++) {
        if ((bits[j >> 3] & (1 << (j & 7))) !== 0) bitmap[at >> 3] |= 1 << (at & 7);
        else nullCount++;
      }
    }
    if (nullCount === 0) bitmap = undefined;
  }
  if (arrow.DataType.isUtf8(type)) {
    let bytes = 0;
    for (let p = 0; p < pieces.length; p += 3) {
      const vo = chunks[pieces[p]].valueOffsets as Int32Array;
      bytes += vo[pieces[p + 2]] - vo[pieces[p + 1]];
    }
    const data = new Uint8Array(bytes);
    const offsets = new Int32Array(total + 1);
    let row = 0;
    let byte = 0;
    for (let p = 0; p < pieces.length; p += 3) {
      const d = chunks[pieces[p]];
      const vo = d.valueOffsets as Int32Array; // sliced to the chunk; the byte buffer is not
      const from = pieces[p + 1];
      const to = pieces[p + 2];
      data.set((d.values as Uint8Array).subarray(vo[from], vo[to]), byte);
      const shift = byte - vo[from];
      for (let r = from; r < to; r++) offsets[++row] = vo[r + 1] + shift;
      byte += vo[to] - vo[from];
    }
    return arrow.makeVector(
      arrow.makeData({ type: type as unknown as arrow.Utf8, length: total, nullCount, nullBitmap: bitmap, valueOffsets: offsets, data }),
    ) as unknown as arrow.Vector<T>;
  }
  const sample = chunks[0].values as unknown as { constructor: new (n: number) => { set(a: ArrayLike<number | bigint>, at: number): void } };
  const out = new sample.constructor(total);
  let at = 0;
  for (let p = 0; p < pieces.length; p += 3) {
    const values = chunks[pieces[p]].values as unknown as { subarray(a: number, b: number): ArrayLike<number | bigint> };
    out.set(values.subarray(pieces[p + 1], pieces[p + 2]), at);
    at += pieces[p + 2] - pieces[p + 1];
  }
  const props = { type, length: total, nullCount, nullBitmap: bitmap, data: out, dictionary: chunks[0].dictionary } as unknown as Parameters<typeof arrow.makeData>[0];
  return arrow.makeVector(arrow.makeData(props)) as arrow.Vector<T>;
}

function indicesOf(ranges: ArrayLike<number>): Uint32Array {
  let n = 0;
  for (let k = 0; k < ranges.length; k += 2) n += ranges[k + 1] - ranges[k];
  const out = new Uint32Array(n);
  let at = 0;
  for (let k = 0; k < ranges.length; k += 2) for (let r = ranges[k]; r < ranges[k + 1]; r++) out[at++] = r;
  return out;
}

/** Rows [ranges[2k], ranges[2k + 1]) of every column of `table`, concatenated in order. */
export function takeRanges(table: arrow.Table, ranges: ArrayLike<number>): arrow.Table {
  const columns: Record<string, arrow.Vector> = {};
  for (const f of table.schema.fields) columns[f.name] = takeVectorRanges(table.getChild(f.name)!, ranges);
  return withSchema(table.schema, columns);
}

/** A table with exactly `schema` (field metadata and nullability kept) over single-chunk columns. */
export function withSchema(schema: arrow.Schema, columns: Record<string, arrow.Vector>): arrow.Table {
  const n = schema.fields.length === 0 ? 0 : columns[schema.fields[0].name].length;
  const children = schema.fields.map((f) => {
    const v = columns[f.name];
    if (v.data.length !== 1) throw new Error(`column ${f.name} must be a single chunk`);
    return v.data[0];
  });
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children });
  return new arrow.Table(schema, [new arrow.RecordBatch(schema, struct)]);
}

/** A column of `length` nulls of `type`. */
export function nullVector(type: arrow.DataType, length: number): arrow.Vector {
  return arrow.vectorFromArray(new Array<null>(length).fill(null), type);
}

/** Raw per-row accessor: bigint µs for timestamps and longs, numbers for the rest, strings for strings. */
export function rawAccessor(vector: arrow.Vector): (row: number) => unknown {
  const chunks = vector.data as unknown as AnyData[];
  const t = vector.type;
  if (chunks.length === 1 && (isFlatFixedWidth(t) || arrow.DataType.isDictionary(t))) {
    const d = chunks[0];
    const values = d.values as unknown as ArrayLike<unknown>;
    if (arrow.DataType.isDictionary(t)) {
      const dict = d.dictionary!;
      return (i) => (isValidAt(d, i) ? dict.get((values as ArrayLike<number>)[i]) : null);
    }
    return (i) => (isValidAt(d, i) ? values[i] : null);
  }
  if (isFlatFixedWidth(t)) {
    const flat = takeVector(vector, identity(vector.length));
    return rawAccessor(flat);
  }
  return (i) => vector.get(i);
}

export function identity(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
