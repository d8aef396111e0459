// Writer schemas for Avro single-object messages, registered with `POST /v1/schemas` and kept under
// `<lake>/_sensorlake/schemas/<fingerprint>.avsc`, so every server on the lake and every restart knows them.
// A message names its schema by CRC-64-AVRO fingerprint (avro-fingerprint.ts); this file maps one to the other.

import avro from 'avsc';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { resolveFields } from '../../sources/columnar.js';
import { fingerprintBytes } from './avro-fingerprint.js';

export interface RegisteredSchema {
  /** The 8 fingerprint bytes as they follow C3 01 on the wire, in lowercase hex. */
  fingerprint: string;
  /** The schema as registered (logical types and all: the source reads them), as JSON text. */
  schema: string;
  /** The record's full name. */
  name: string;
  /** avsc's type for it, with longs that never lose precision: used to find where each datum ends. */
  type: avro.Type;
}

const FP_FILE = /^([0-9a-f]{16})\.avsc$/;

export class AvroSchemas {
  private readonly byFingerprint = new Map<string, RegisteredSchema>();

  constructor(readonly dir: string) {
    let files: string[] = [];
    try {
      files = readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const f of files) if (FP_FILE.test(f)) this.load(f.slice(0, 16));
  }

  static forLake(lake: string): AvroSchemas {
    return new AvroSchemas(path.join(path.resolve(lake), '_sensorlake', 'schemas'));
  }

  /** Validates, fingerprints and stores a writer schema; registering the same schema again is a no-op. */
  register(schema: unknown): { entry: RegisteredSchema; created: boolean } {
    const type = parseSchema(schema, 'the schema');
    const fingerprint = fingerprintBytes(type).toString('hex');
    const existing = this.get(fingerprint);
    if (existing) return { entry: existing, created: false };
    const text = JSON.stringify(schema);
    mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, `${fingerprint}.avsc`);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file); // whole or absent: another server may load it at any moment
    const entry = { fingerprint, schema: text, name: (type as avro.types.RecordType).name ?? '', type };
    this.byFingerprint.set(fingerprint, entry);
    return { entry, created: true };
  }

  /** The schema with this fingerprint (hex), looking on disk when another server registered it after we started. */
  get(fingerprint: string): RegisteredSchema | null {
    return this.byFingerprint.get(fingerprint) ?? this.load(fingerprint);
  }

  list(): RegisteredSchema[] {
    return [...this.byFingerprint.values()].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
  }

  private load(fingerprint: string): RegisteredSchema | null {
    if (!/^[0-9a-f]{16}$/.test(fingerprint)) return null;
    const file = path.join(this.dir, `${fingerprint}.avsc`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const type = parseSchema(JSON.parse(text), file);
    const entry = { fingerprint, schema: text, name: (type as avro.types.RecordType).name ?? '', type };
    this.byFingerprint.set(fingerprint, entry);
    return entry;
  }
}

/** avsc's type for a writer schema that the Avro source can read: a record with ts, sensor_id and value fields. */
function parseSchema(schema: unknown, where: string): avro.Type {
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'auto', typeHook: longHook });
  } catch (e) {
    throw new InvalidArgumentError(`${where} is not a valid Avro schema: ${(e as Error).message}`);
  }
  if (!(type instanceof avro.types.RecordType)) throw new InvalidArgumentError(`${where} is an Avro ${type.typeName}, expected a record of readings`);
  try {
    resolveFields(undefined, type.fields.map((f) => f.name), where, 'Avro');
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return type;
}

// Datums are only walked here to find their ends: a long beyond 2^53 (nanosecond timestamps) must not throw, and its
// value is not needed (the Avro source decodes it properly).
const SKIP_LONG = avro.types.LongType.__with(
  {
    fromBuffer: () => 0,
    toBuffer: (n: number) => Buffer.from([n & 0x7f]),
    fromJSON: (x: number) => x,
    toJSON: (x: number) => x,
    isValid: (x: unknown) => typeof x === 'number',
    compare: (a: number, b: number) => a - b,
  },
  true,
);

function longHook(schema: avro.Schema): avro.Type | undefined {
  const s = schema as { type?: unknown };
  return schema === 'long' || (typeof schema === 'object' && s.type === 'long') ? SKIP_LONG : undefined;
}
