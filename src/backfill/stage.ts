// Pass 1: reads every input to the end, validates each reading and spills valid ones to per-window staging files,
// rejects to the quarantine spill. Nothing is committed here, so a file that cannot be read costs no commit.

import * as path from 'node:path';
import type { RejectReason, SourceChunk } from '../sources/batch.js';
import type { RejectSpill } from './quarantine.js';
import { RowBuffer } from './rows.js';
import type { SensorObserver } from './sensors.js';
import { stageable, stageBatch } from './stage-batch.js';
import { appendSegment, readSegments, WindowSpill } from './staging.js';
import { recordJson, validateBatch, type SensorDict, type ValidationRules } from './validate.js';

/** Per input file counts, indexed like the run's input list. */
export interface FileCounts {
  read: number;
  quarantined: number;
  /** Rows that reached a window's staging file. */
  staged: number;
}

export interface StageInput {
  dir: string;
  chunks: AsyncIterable<SourceChunk>;
  /** Input file index of a chunk's `file` (a file not known yet is appended by the caller's function). */
  fileIndex: (file: string) => number;
  dict: SensorDict;
  observer: SensorObserver;
  rules: ValidationRules;
  windowUs: number;
  flushRows: number;
  rejects: RejectSpill;
  onChunk?: (chunk: SourceChunk, rowsRead: number) => void;
}

export interface StageResult {
  spill: WindowSpill;
  files: FileCounts[];
  byReason: Map<RejectReason, number>;
  outOfRange: number;
  dst: { ambiguous: number; nonexistent: number };
}

export async function stageInputs(input: StageInput): Promise<StageResult> {
  const { dict, observer, rules, rejects, windowUs } = input;
  const spill = new WindowSpill(input.dir, input.flushRows, () => dict.names);
  const textFile = path.join(input.dir, 'pending-text.stg');
  let pending = new RowBuffer(1024);
  const files: FileCounts[] = [];
  const byReason = new Map<RejectReason, number>();
  const res: StageResult = { spill, files, byReason, outOfRange: 0, dst: { ambiguous: 0, nonexistent: 0 } };
  const counts = (f: number): FileCounts => (files[f] ??= { read: 0, quarantined: 0, staged: 0 });
  const quarantine = async (f: number, raw: string, reason: RejectReason, message: string, loc: number, kind: SourceChunk['locationKind']): Promise<void> => {
    counts(f).quarantined++;
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    await rejects.add({ raw, reason, message, f, loc, kind });
  };
  let lastWindow = Number.NaN;
  let lastBuffer: RowBuffer | null = null;
  let flushDue = false;
  const stage = (ts: number, sid: number, value: number | null, text: string | null, q: number, f: number, loc: number): void => {
    const w = Math.floor(ts / windowUs);
    if (w !== lastWindow || !lastBuffer) {
      lastWindow = w;
      lastBuffer = spill.buffer(w);
    }
    lastBuffer.push(ts, sid, value, text, q, f, loc);
    counts(f).staged++;
    if (spill.added(w)) flushDue = true;
  };
  let rowsRead = 0;
  // The location kind of each input file, as its chunks report it (for rejects found after the read).
  const kinds: SourceChunk['locationKind'][] = [];

  for await (const chunk of input.chunks) {
    const f = input.fileIndex(chunk.file);
    const c = counts(f);
    kinds[f] = chunk.locationKind;
    c.read += chunk.recordsRead;
    rowsRead += chunk.recordsRead;
    res.dst.ambiguous += chunk.dst.ambiguous;
    res.dst.nonexistent += chunk.dst.nonexistent;
    for (const r of chunk.rejects) await quarantine(f, r.raw, r.reason, r.message, r.location, r.locationKind);
    if (chunk.batch && stageable(chunk.batch)) {
      // Spilled before the batch would take the buffers past the budget, so a buffer never outgrows it.
      if (spill.wouldExceed(chunk.batch.numRows)) {
        await spill.flush();
        lastBuffer = null;
        flushDue = false;
      }
      const found: { raw: string; reason: RejectReason; message: string; loc: number }[] = [];
      const r = stageBatch(chunk.batch, {
        dict,
        rules,
        windowUs,
        spill,
        observer,
        file: f,
        reject: (raw, reason, message, loc) => found.push({ raw, reason, message, loc }),
        pendingText: (ts, sid, text, q, loc) => pending.push(ts, sid, null, text, q, f, loc),
      });
      c.staged += r.staged;
      res.outOfRange += r.outOfRange;
      if (r.flushDue) flushDue = true;
      lastBuffer = null;
      lastWindow = Number.NaN;
      for (const x of found) await quarantine(f, x.raw, x.reason, x.message, x.loc, chunk.locationKind);
    } else if (chunk.batch) {
      const found: { raw: string; reason: RejectReason; message: string; loc: number }[] = [];
      const v = validateBatch(chunk.batch, dict, rules, {
        row: (ts, sid, value, text, q, loc) => stage(ts, sid, value, text, q, f, loc),
        pendingText: (ts, sid, text, q, loc) => pending.push(ts, sid, null, text, q, f, loc),
        reject: (raw, reason, message, loc) => found.push({ raw, reason, message, loc }),
        observe: (sid, ts, numeric, text) => observer.observe(sid, ts, numeric, text),
      });
      res.outOfRange += v.outOfRange;
      for (const r of found) await quarantine(f, r.raw, r.reason, r.message, r.loc, chunk.locationKind);
    }
    if (pending.n >= input.flushRows) {
      await appendSegment(textFile, pending);
      pending = new RowBuffer(1024);
    }
    if (flushDue) {
      await spill.flush();
      lastBuffer = null;
      flushDue = false;
    }
    input.onChunk?.(chunk, rowsRead);
  }
  if (pending.n > 0) await appendSegment(textFile, pending);
  pending = new RowBuffer(16);

  // Text readings of sensors whose kind was open: settled now that every value of the input was seen.
  for await (const b of readSegments(textFile)) {
    for (let i = 0; i < b.n; i++) {
      const sid = b.sid[i];
      const text = b.text ? b.text(i) : null;
      if (observer.inferredKind(sid) === 'state') {
        stage(b.ts[i], sid, null, text, b.quality[i], b.file[i], b.loc[i]);
        if (flushDue) {
          await spill.flush();
          lastBuffer = null;
          flushDue = false;
        }
      } else {
        const raw = recordJson(b.ts[i], dict.names[sid], null, text, b.quality[i]);
        await quarantine(b.file[i], raw, 'type_mismatch', `value_text '${text}' for sensor '${dict.names[sid]}', which has numeric values in this input`, b.loc[i], kinds[b.file[i]] ?? 'line');
      }
    }
  }
  await spill.flush();
  spill.release();
  await rejects.flush();
  return res;
}
