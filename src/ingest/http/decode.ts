// Request bodies of POST /v1/readings -> SourceChunks, through the sources' own code: a JSON array through the JSON
// Lines rules (readJsonItems), NDJSON through readJsonl, Avro container files and single-object messages through
// readAvro. A body that cannot be read as a whole throws a SensorlakeError naming what and where (a 400).

import { gunzipSync, inflateSync } from 'node:zlib';
import { InvalidRecordError } from '../../errors.js';
import type { SourceChunk } from '../../sources/batch.js';
import { readAvro } from '../../sources/avro.js';
import { bufferInput } from '../../sources/inputs.js';
import { readJsonItems, readJsonl } from '../../sources/jsonl.js';
import type { AvroSchemas } from './avro-schemas.js';
import { frameSingleObjects, isSingleObject } from './avro-single.js';
import { jsonErrorPlace } from './json-error.js';

export type BodyFormat = 'json' | 'ndjson' | 'avro';

/** Media types each format is accepted under (parameters such as charset are ignored). */
export const MEDIA_TYPES: Record<BodyFormat, string[]> = {
  json: ['application/json'],
  ndjson: ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'],
  avro: ['application/avro', 'avro/binary', 'application/vnd.apache.avro+binary'],
};

const BY_TYPE = new Map<string, BodyFormat>(Object.entries(MEDIA_TYPES).flatMap(([f, types]) => types.map((t) => [t, f as BodyFormat])));

export function formatOf(contentType: string | undefined): BodyFormat | null {
  if (!contentType) return null;
  return BY_TYPE.get(contentType.split(';', 1)[0].trim().toLowerCase()) ?? null;
}

/**
 * The body with its Content-Encoding undone (gzip or deflate; identity or none as is), never growing past `limit`
 * bytes. Returns null for an encoding we do not speak (a 415).
 */
export function undoContentEncoding(body: Buffer, encoding: string | undefined, limit: number, name: string): Buffer | null {
  const enc = encoding?.trim().toLowerCase();
  if (enc === undefined || enc === '' || enc === 'identity') return body;
  if (enc !== 'gzip' && enc !== 'x-gzip' && enc !== 'deflate') return null;
  try {
    return enc === 'deflate' ? inflateSync(body, { maxOutputLength: limit }) : gunzipSync(body, { maxOutputLength: limit });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new BodyTooLargeError(`${name}: decompressed, the body exceeds ${limit} bytes`);
    throw new InvalidRecordError(`${name}: Content-Encoding ${enc}, but the body is not valid ${enc} data: ${(e as Error).message}`);
  }
}

/** A body that is larger than the limit only once decompressed. */
export class BodyTooLargeError extends InvalidRecordError {}

export interface DecodeContext {
  /** Stands in for a file name in messages ("request body"). */
  name: string;
  schemas: AvroSchemas;
}

/** Readings per chunk at most: a whole 16 MiB body in a few chunks. */
const MAX_BATCH_ROWS = 65_536;

/**
 * Chunk capacity for a body of about `records` records: the builder allocates its columns up front, and 65,536 rows
 * of them for a request of 1,000 readings cost more than decoding the readings.
 */
function batchRows(records: number): number {
  return Math.max(16, Math.min(MAX_BATCH_ROWS, records));
}

export async function decodeBody(format: BodyFormat, body: Buffer, ctx: DecodeContext): Promise<SourceChunk[]> {
  switch (format) {
    case 'json': {
      const items = parseJsonArray(body, ctx.name);
      return readJsonItems(ctx.name, items, { batchRows: batchRows(items.length), ownStrings: false });
    }
    case 'ndjson':
      return collect(readJsonl(bufferInput(ctx.name, body), { batchRows: batchRows(countLines(body)), ownStrings: false }));
    case 'avro':
      return decodeAvro(body, ctx);
  }
}

function countLines(body: Buffer): number {
  let n = 1;
  for (let i = body.indexOf(10); i >= 0; i = body.indexOf(10, i + 1)) n++;
  return n;
}

/** The items of a body that must be one JSON array. */
export function parseJsonArray(body: Buffer, name: string): unknown[] {
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    const place = jsonErrorPlace(text);
    const where = place ? ` at byte ${place.offset} (line ${place.line}, column ${place.column})` : '';
    const reason = (e as Error).message.replace(/, .*is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
    throw new InvalidRecordError(`${name}: not valid JSON${where}: ${reason}${body.length === 0 ? ' (the body is empty)' : ''}`);
  }
  if (!Array.isArray(parsed)) {
    const what = parsed === null ? 'null' : typeof parsed === 'object' ? 'an object' : `a ${typeof parsed}`;
    throw new InvalidRecordError(`${name}: expected a JSON array of readings (objects with ts, sensor_id, value), got ${what}; send one object per line as application/x-ndjson, or wrap it in [ ]`);
  }
  return parsed;
}

async function decodeAvro(body: Buffer, ctx: DecodeContext): Promise<SourceChunk[]> {
  // A record takes a few bytes at least: the body's size bounds the count.
  const rows = batchRows(Math.ceil(body.length / 8));
  if (body.length >= 4 && body.toString('latin1', 0, 4) === 'Obj\x01') return collect(readAvro(bufferInput(ctx.name, body), { batchRows: rows }));
  if (!isSingleObject(body)) {
    const head = body.subarray(0, 4).toString('hex') || 'nothing (the body is empty)';
    throw new InvalidRecordError(`${ctx.name}: not Avro: expected an object container file (magic "Obj" 01) or single-object messages (C3 01) at byte 0, found ${head}`);
  }
  const out: SourceChunk[] = [];
  for (const run of frameSingleObjects(body, ctx.schemas, ctx.name)) {
    for (const chunk of await collect(readAvro(bufferInput(ctx.name, run.container), { batchRows: batchRows(run.count) }))) {
      // Each run is read as a file of its own: its record indexes start at 0, the body's at run.first.
      if (run.first > 0) for (const r of chunk.rejects) r.location += run.first;
      out.push(chunk);
    }
  }
  return out;
}

async function collect(chunks: AsyncIterable<SourceChunk>): Promise<SourceChunk[]> {
  const out: SourceChunk[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}
