// Pass 1's fast path for a batch (dictionary-encoded sensor ids, as every source yields): validates each row by the
// rules of validateBatch and puts it straight into its window's buffer, in one loop with no call per row.

import * as arrow from 'apache-arrow';
import type { RejectReason } from '../sources/batch.js';
import { QUALITY } from './lake.js';
import { isoMicros } from './plan.js';
import { RowBuffer } from './rows.js';
import type { SensorObserver } from './sensors.js';
import type { WindowSpill } from './staging.js';
import { recordJson, type SensorDict, type ValidationRules } from './validate.js';

const TWO_32 = 4294967296;
const NONE = new RowBuffer(0);

export interface StageTarget {
  dict: SensorDict;
  rules: ValidationRules;
  windowUs: number;
  spill: WindowSpill;
  observer: SensorObserver;
  /** Input file index of the batch's rows. */
  file: number;
  reject: (raw: string, reason: RejectReason, message: string, loc: number) => void;
  /** A text reading of a sensor whose kind is not known yet: settled once all input is read. */
  pendingText: (ts: number, sid: number, text: string, quality: number, loc: number) => void;
}

export interface StageResult {
  staged: number;
  outOfRange: number;
  /** The spill holds enough rows to be flushed. */
  flushDue: boolean;
}

/** Whether stageBatch can take the batch: dictionary sensor ids. */
export function stageable(batch: arrow.RecordBatch): boolean {
  return arrow.DataType.isDictionary(batch.getChild('sensor_id')!.type);
}

export function stageBatch(batch: arrow.RecordBatch, t: StageTarget): StageResult {
  const { dict, spill, windowUs, file } = t;
  const n = batch.numRows;
  const col = (name: string): arrow.Data => batch.getChild(name)!.data[0];
  const tsData = col('ts');
  const tsValues = tsData.values as unknown as BigInt64Array;
  const tw = new Int32Array(tsValues.buffer, tsValues.byteOffset, n * 2);
  const sidData = col('sensor_id');
  const words = sidData.dictionary!;
  const remap = new Int32Array(words.length);
  for (let k = 0; k < words.length; k++) remap[k] = dict.id(String(words.get(k)));
  const keys = sidData.values as unknown as Int32Array;
  const valueData = col('value');
  const values = valueData.values as unknown as Float64Array;
  const valueAll = valueData.nullCount === 0;
  const qData = col('quality');
  const qValues = qData.values as unknown as Int32Array;
  const qAll = qData.nullCount === 0;
  const qNone = qData.nullCount === n;
  const locs = col('location').values as unknown as Float64Array;
  const textData = batch.getChild('value_text')?.data[0] ?? null;
  const hasText = textData !== null && textData.nullCount < n;
  const textOffsets = hasText ? textData.valueOffsets : null;
  const textBytes = hasText ? Buffer.from(textData.values.buffer, textData.values.byteOffset, textData.values.byteLength) : null;
  const { fromUs, toUs } = t.rules;
  const bounded = fromUs !== undefined || toUs !== undefined;
  const lo = fromUs ?? -Infinity;
  const hi = toUs ?? Infinity;
  const min = dict.min;
  const max = dict.max;
  const full = t.observer.saturation(dict.names.length);
  const res: StageResult = { staged: 0, outOfRange: 0, flushDue: false };

  let curW = Number.NaN;
  let cur = NONE; // replaced at the first row
  let curText: (string | null)[] | null = null;
  let runStart = 0; // cur.n when the current window's run began
  const endRun = (): void => {
    const k = cur.n - runStart;
    if (k > 0 && spill.added(curW, k)) res.flushDue = true;
    res.staged += k;
  };
  for (let i = 0; i < n; i++) {
    const ts = tw[2 * i + 1] * TWO_32 + (tw[2 * i] >>> 0);
    const s = remap[keys[i]];
    const hasValue = valueAll || valueData.getValid(i);
    const text = hasText && textData.getValid(i) ? textBytes!.toString('utf8', textOffsets![i], textOffsets![i + 1]) : null;
    // Null quality from a source means the source had no quality column: good. Bits are the unsigned StatusCode.
    let q = qNone ? 0 : qAll || qData.getValid(i) ? qValues[i] >>> 0 : 0;
    if (bounded && (ts < lo || ts >= hi)) {
      const value = hasValue ? values[i] : null;
      const bound = ts < lo ? `before --from ${isoMicros(lo)}` : `at or after --to ${isoMicros(hi)}`;
      t.reject(recordJson(ts, dict.names[s], value, text, q), 'out_of_range_time', `ts ${isoMicros(ts)} is ${bound}`, locs[i]);
      continue;
    }
    const v = hasValue ? values[i] : 0;
    if (hasValue) {
      // Kept, but flagged: a reading outside the sensor's physical range is not trustworthy.
      if (v < min[s] || v > max[s]) {
        res.outOfRange++;
        if (q < QUALITY.bad) q = QUALITY.bad;
      }
      if (full[s] === 0) t.observer.observe(s, ts, true, false);
    } else if (text !== null) {
      const kind = dict.kind[s];
      if (kind === 'numeric') {
        t.reject(recordJson(ts, dict.names[s], null, text, q), 'type_mismatch', `value_text '${text}' for numeric sensor '${dict.names[s]}'`, locs[i]);
        continue;
      }
      t.observer.observe(s, ts, false, true);
      if (kind !== 'state') {
        t.pendingText(ts, s, text, q, locs[i]);
        continue;
      }
    } else if (full[s] === 0) t.observer.observe(s, ts, false, false);
    const w = Math.floor(ts / windowUs);
    if (w !== curW) {
      if (curW === curW) endRun();
      curW = w;
      cur = spill.buffer(w);
      cur.reserve(n - i);
      curText = cur.text;
      runStart = cur.n;
    }
    const j = cur.n++;
    cur.ts[j] = ts;
    cur.sid[j] = s;
    cur.value[j] = v;
    cur.valid[j] = hasValue ? 1 : 0;
    if (text !== null) {
      curText ??= cur.text = new Array<string | null>(j).fill(null);
      curText[j] = text;
    } else if (curText !== null) curText[j] = null;
    cur.quality[j] = q;
    cur.file[j] = file;
    cur.loc[j] = locs[i];
  }
  if (curW === curW) endRun();
  return res;
}
