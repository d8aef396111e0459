// Fast per-row outcomes of one predicate leaf over one Arrow chunk, for the shapes scans meet on every row: 64-bit
// integers and µs timestamps compared with a literal (compared as two 32-bit words, no BigInt per row), and
// dictionary-encoded columns (the leaf is decided once per dictionary word). Pure; predicate.ts falls back to its
// general row reader for everything else.

import * as arrow from 'apache-arrow';

/** Writes into out[base + i] the outcome of row i of `data` (a 64-bit integer column) `op` the literal; nulls get `nullOutcome`. */
export function int64CmpOutcomes(
  data: arrow.Data,
  op: '=' | '!=' | '<' | '<=' | '>' | '>=',
  literal: bigint,
  outcomes: { t: number; f: number; null: number },
  out: Uint8Array,
  base: number,
): void {
  const n = data.length;
  // Values are cut to the slice (see arrow/columns.ts): row i is word pair i.
  const v = data.values as unknown as BigInt64Array;
  const w = new Int32Array(v.buffer, v.byteOffset, n * 2);
  const lit = BigInt.asIntN(64, literal);
  const hi = Number(lit >> 32n); // signed high word
  const lo = Number(lit & 0xffffffffn); // unsigned low word
  const { t, f } = outcomes;
  // The outcome for a row below, equal to and above the literal: one table lookup a row, no branch on `op`.
  const bySign = Uint8Array.from(
    op === '=' ? [f, t, f] : op === '!=' ? [t, f, t] : op === '<' ? [t, f, f] : op === '<=' ? [t, t, f] : op === '>' ? [f, f, t] : [f, t, t],
  );
  const nulls = data.nullCount !== 0;
  for (let i = 0; i < n; i++) {
    const h = w[2 * i + 1];
    const l = w[2 * i] >>> 0;
    out[base + i] = bySign[h < hi ? 0 : h > hi ? 2 : l < lo ? 0 : l > lo ? 2 : 1];
  }
  if (nulls) for (let i = 0; i < n; i++) if (!data.getValid(i)) out[base + i] = outcomes.null;
}

/** Writes into out[base + i] the outcome of row i of a dictionary-encoded `data`, given each word's outcome. */
export function dictionaryOutcomes(data: arrow.Data, wordOutcome: (k: number) => number, nullOutcome: number, out: Uint8Array, base: number): void {
  const n = data.length;
  const size = data.dictionary?.length ?? 0;
  const byWord = new Uint8Array(size);
  for (let k = 0; k < size; k++) byWord[k] = wordOutcome(k);
  const keys = data.values as unknown as ArrayLike<number>;
  const nulls = data.nullCount !== 0;
  for (let i = 0; i < n; i++) out[base + i] = nulls && !data.getValid(i) ? nullOutcome : byWord[keys[i]];
}

/** Whether a chunk can take int64CmpOutcomes: 64-bit signed integers, or timestamps already in microseconds. */
export function isInt64Like(t: arrow.DataType): boolean {
  return (arrow.DataType.isInt(t) && t.bitWidth === 64 && t.isSigned) || (arrow.DataType.isTimestamp(t) && t.unit === arrow.TimeUnit.MICROSECOND);
}

/** Whether a chunk can take dictionaryOutcomes: integer keys into a dictionary. */
export function isDictionaryChunk(d: arrow.Data): boolean {
  return arrow.DataType.isDictionary(d.type) && !!d.dictionary && arrow.DataType.isInt((d.type as arrow.Dictionary).indices);
}
