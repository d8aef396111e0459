// Test helpers for live ingest: requests built the way front ends build them (ReadingsBuilder -> SourceChunk).
import { ReadingsBuilder, type SourceChunk } from '../../src/sources/batch.js';
import type { IngestRequest } from '../../src/ingest/contract.js';

export interface TestReading {
  sensor: string;
  /** µs since the epoch. */
  ts: number;
  value: number | null;
  text?: string | null;
  quality?: number | null;
}

/** One chunk holding `readings`, and decode rejects given as raw texts (reason malformed_record). */
export function chunkOf(readings: TestReading[], badRaw: string[] = [], file = 'http'): SourceChunk {
  const b = new ReadingsBuilder(file, 'record', Math.max(readings.length, 1));
  readings.forEach((r, i) => b.append(r.sensor, r.ts, r.value, r.text ?? null, r.quality ?? null, i));
  badRaw.forEach((raw, k) => b.reject(raw, 'malformed_record', `record ${readings.length + k} is not JSON`, readings.length + k));
  return b.flush(0);
}

export function request(readings: TestReading[], opts: { bad?: string[]; source?: string; key?: string } = {}): IngestRequest {
  return { chunks: [chunkOf(readings, opts.bad)], source: opts.source ?? 'http', ...(opts.key ? { idempotencyKey: opts.key } : {}) };
}

/** `count` in-order readings over `sensors` sensors starting at `startUs`, one per sensor per ms step. */
export function series(startUs: number, count: number, sensors = 10, prefix = 's'): TestReading[] {
  const out: TestReading[] = [];
  for (let i = 0; i < count; i++) {
    const s = i % sensors;
    out.push({ sensor: `${prefix}${s}`, ts: startUs + Math.floor(i / sensors) * 1000 + s, value: (i * 37) % 1000 / 10 });
  }
  return out;
}
