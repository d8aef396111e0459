// Test helper for sources: the readings of a SourceChunk as plain records (ts as exact µs numbers).
import type { SourceChunk } from '../../src/sources/batch.js';

export interface Row {
  ts: number;
  sensor_id: string;
  value: number | null;
  value_text: string | null;
  quality: number | null;
  location: number;
}

export function chunkRows(c: SourceChunk): Row[] {
  const b = c.batch;
  if (!b) return [];
  const ts = b.getChild('ts')!.data[0];
  const words = new Int32Array((ts.values as unknown as BigInt64Array).buffer, (ts.values as unknown as BigInt64Array).byteOffset, b.numRows * 2);
  const col = (name: string) => b.getChild(name)!;
  const out: Row[] = [];
  for (let i = 0; i < b.numRows; i++) {
    out.push({
      ts: words[2 * i + 1] * 4294967296 + (words[2 * i] >>> 0),
      sensor_id: col('sensor_id').get(i) as string,
      value: col('value').get(i) as number | null,
      value_text: col('value_text').get(i) as string | null,
      quality: col('quality').get(i) as number | null,
      location: col('location').get(i) as number,
    });
  }
  return out;
}
