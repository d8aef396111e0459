// Test helpers for the text sources: a SourceInput over bytes in memory (cut into chunks of a chosen size, to hit every
// block boundary), and the rows, rejects and counts of all chunks a reader yields.
import { Readable } from 'node:stream';
import type { Reject, SourceChunk, SourceInput } from '../../src/sources/batch.js';

export function memoryInput(content: string | Buffer, opts: { file?: string; chunk?: number } = {}): SourceInput {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const chunk = opts.chunk ?? 1 << 20;
  let read = 0;
  return {
    file: opts.file ?? 'mem.txt',
    gzip: false,
    size: bytes.length,
    open() {
      read = 0;
      const parts: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += chunk) parts.push(Buffer.from(bytes.subarray(i, i + chunk)));
      return Readable.from(
        (function* () {
          for (const p of parts) {
            read += p.length;
            yield p;
          }
        })(),
        { objectMode: true },
      ) as unknown as NodeJS.ReadableStream & AsyncIterable<Buffer>;
    },
    bytesRead: () => read,
  };
}

export interface Row {
  ts: number; // µs UTC
  sensor_id: string;
  value: number | null;
  value_text: string | null;
  quality: number | null;
  location: number;
}

export interface Collected {
  rows: Row[];
  rejects: Reject[];
  chunks: SourceChunk[];
  recordsRead: number;
  dst: { ambiguous: number; nonexistent: number };
}

/** Drains a reader; checks the accounting invariant of every chunk on the way (a broken one throws). */
export async function collect(gen: AsyncGenerator<SourceChunk>): Promise<Collected> {
  const out: Collected = { rows: [], rejects: [], chunks: [], recordsRead: 0, dst: { ambiguous: 0, nonexistent: 0 } };
  for await (const c of gen) {
    out.chunks.push(c);
    const n = c.batch?.numRows ?? 0;
    if (c.recordsRead !== n + c.rejects.length) throw new Error(`chunk accounting: ${c.recordsRead} != ${n} + ${c.rejects.length}`);
    out.recordsRead += c.recordsRead;
    out.dst.ambiguous += c.dst.ambiguous;
    out.dst.nonexistent += c.dst.nonexistent;
    out.rejects.push(...c.rejects);
    if (!c.batch) continue;
    const cols = ['ts', 'sensor_id', 'value', 'value_text', 'quality', 'location'].map((name) => c.batch!.getChild(name)!);
    const ts = cols[0].data[0].values as unknown as BigInt64Array; // get() would give ms as a double
    for (let i = 0; i < n; i++) {
      const q = cols[4].get(i) as number | null;
      out.rows.push({
        ts: Number(ts[i]),
        sensor_id: cols[1].get(i) as string,
        value: cols[2].get(i) as number | null,
        value_text: cols[3].get(i) as string | null,
        quality: q === null ? null : q >>> 0,
        location: cols[5].get(i) as number,
      });
    }
  }
  return out;
}

/** µs of an ISO instant that Date can read (ms precision) plus extra µs. */
export function us(iso: string, extraMicros = 0): number {
  return Date.parse(iso) * 1000 + extraMicros;
}

/** The reasons and locations of the rejects, compactly. */
export function rejectSummary(c: Collected): [string, number][] {
  return c.rejects.map((r) => [r.reason, r.location]);
}

/** Rows without location, for comparing readings alone. */
export function readings(c: Collected): [string, number, number | null, string | null, number | null][] {
  return c.rows.map((r) => [r.sensor_id, r.ts, r.value, r.value_text, r.quality]);
}
