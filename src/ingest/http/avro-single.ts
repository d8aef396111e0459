// Avro single-object encoding (C3 01, 8-byte CRC-64-AVRO fingerprint, datum) as bodies of POST /v1/readings: one
// message or several back to back. The datums are framed as an in-memory object container file with the registered
// writer schema, so the Avro source (src/sources/avro.ts) decodes them exactly as it decodes files.

import { randomBytes } from 'node:crypto';
import { InvalidRecordError, NotFoundError } from '../../errors.js';
import type { AvroSchemas, RegisteredSchema } from './avro-schemas.js';

export const SINGLE_OBJECT_MAGIC = Buffer.from([0xc3, 0x01]);
const HEADER = 10;

/** A run of consecutive messages with one writer schema, as an OCF; `first` is the body's index of its first datum. */
export interface FramedRun {
  container: Buffer;
  first: number;
  count: number;
}

export function isSingleObject(body: Buffer): boolean {
  return body.length >= 2 && body[0] === 0xc3 && body[1] === 0x01;
}

/**
 * Splits a body of single-object messages into runs by schema, each framed as an OCF. Fails naming the byte offset
 * when a message lacks the marker, names a schema never registered, or its datum is cut short.
 */
export function frameSingleObjects(body: Buffer, schemas: AvroSchemas, name: string): FramedRun[] {
  const runs: FramedRun[] = [];
  let run: { schema: RegisteredSchema; first: number; datums: Buffer[] } | null = null;
  let pos = 0;
  let index = 0;
  while (pos < body.length) {
    if (body.length - pos < HEADER || body[pos] !== 0xc3 || body[pos + 1] !== 0x01) {
      const what = index === 0 ? 'does not start' : `continues after message ${index - 1} (ending at byte ${pos}) but not`;
      throw new InvalidRecordError(`${name}: the Avro single-object body ${what} with a whole header (C3 01 and an 8-byte schema fingerprint) at byte ${pos}`);
    }
    const fp = body.subarray(pos + 2, pos + HEADER).toString('hex');
    const schema = schemas.get(fp);
    if (!schema) {
      throw new NotFoundError(`${name}: message ${index} at byte ${pos} names Avro schema fingerprint ${fp}, which is not registered (POST it to /v1/schemas first)`);
    }
    let end: number;
    try {
      end = schema.type.decode(body, pos + HEADER).offset;
    } catch (e) {
      throw new InvalidRecordError(`${name}: message ${index} at byte ${pos} is not a valid ${schema.name} datum: ${(e as Error).message}`, { cause: e });
    }
    if (end < 0) throw new InvalidRecordError(`${name}: message ${index} at byte ${pos} is cut short: its ${schema.name} datum runs past the end of the body (${body.length} bytes)`);
    if (run === null || run.schema !== schema) {
      if (run) runs.push(frame(run.schema, run.first, run.datums));
      run = { schema, first: index, datums: [] };
    }
    run.datums.push(body.subarray(pos + HEADER, end));
    pos = end;
    index++;
  }
  if (run) runs.push(frame(run.schema, run.first, run.datums));
  return runs;
}

/** An OCF with a null codec: header (magic, metadata map, sync marker) and one block holding every datum. */
function frame(schema: RegisteredSchema, first: number, datums: Buffer[]): FramedRun {
  const sync = randomBytes(16);
  const size = datums.reduce((n, d) => n + d.length, 0);
  const parts = [
    Buffer.from('Obj\x01', 'latin1'),
    zigzag(2),
    avroString('avro.schema'),
    avroString(schema.schema),
    avroString('avro.codec'),
    avroString('null'),
    zigzag(0),
    sync,
    zigzag(datums.length),
    zigzag(size),
    ...datums,
    sync,
  ];
  return { container: Buffer.concat(parts), first, count: datums.length };
}

function avroString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([zigzag(bytes.length), bytes]);
}

function zigzag(n: number): Buffer {
  let z = n * 2; // non-negative counts and sizes only
  const out: number[] = [];
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
  return Buffer.from(out);
}
