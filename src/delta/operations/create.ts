// Creates a table: version 0 holds protocol, metaData and commitInfo. Protocol (1,2) unless the schema needs a
// table feature (timestamp_ntz needs (3,7) with timestampNtz), the default of Spark and delta-rs.

import { randomUUID } from 'node:crypto';
import type { Storage } from '../engine/storage.js';
import type { Protocol, Metadata } from '../kernel/actions.js';
import { commitFileName, serializeCommit } from '../kernel/actions.js';
import type { StructType, DataType } from '../kernel/schema.js';
import { LOG_DIR } from '../snapshot.js';
import { ENGINE_INFO } from '../commit.js';
import { InvalidArgumentError, SchemaMismatchError } from '../../errors.js';

export interface CreateOptions {
  schema: StructType;
  partitionColumns?: string[];
  /** Table properties, e.g. { 'delta.checkpointInterval': '10' }. */
  properties?: Record<string, string>;
  name?: string;
  description?: string;
}

function usesType(t: DataType, name: string): boolean {
  if (typeof t === 'string') return t === name;
  if (t.type === 'struct') return t.fields.some((f) => usesType(f.type, name));
  if (t.type === 'array') return usesType(t.elementType, name);
  return usesType(t.keyType, name) || usesType(t.valueType, name);
}

export function protocolFor(schema: StructType): Protocol {
  if (usesType(schema, 'timestamp_ntz')) {
    return { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['timestampNtz'], writerFeatures: ['timestampNtz'] };
  }
  return { minReaderVersion: 1, minWriterVersion: 2 };
}

export async function createTable(storage: Storage, opts: CreateOptions): Promise<number> {
  const partitionColumns = opts.partitionColumns ?? [];
  for (const c of partitionColumns) {
    const f = opts.schema.fields.find((x) => x.name === c);
    if (!f) throw new SchemaMismatchError(`${storage.root}: partition column '${c}' is not in the schema`);
    if (typeof f.type !== 'string') throw new SchemaMismatchError(`${storage.root}: partition column '${c}' must have a primitive type`);
  }
  if (partitionColumns.length === opts.schema.fields.length && partitionColumns.length > 0) {
    throw new SchemaMismatchError(`${storage.root}: every column is a partition column; a table needs at least one data column`);
  }
  const now = Date.now();
  const metaData: Metadata = {
    id: randomUUID(),
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    format: { provider: 'parquet', options: {} },
    schemaString: JSON.stringify(opts.schema),
    partitionColumns,
    configuration: opts.properties ?? {},
    createdTime: now,
  };
  const protocol = protocolFor(opts.schema);
  const body = serializeCommit([
    {
      commitInfo: {
        timestamp: now,
        operation: 'CREATE TABLE',
        operationParameters: {
          isManaged: 'false',
          description: opts.description ?? null,
          partitionBy: JSON.stringify(partitionColumns),
          properties: JSON.stringify(opts.properties ?? {}),
        },
        isBlindAppend: true,
        operationMetrics: {},
        engineInfo: ENGINE_INFO,
      },
    },
    { protocol },
    { metaData },
  ]);
  if (!(await storage.putIfAbsent(`${LOG_DIR}/${commitFileName(0)}`, new TextEncoder().encode(body)))) {
    throw new InvalidArgumentError(`${storage.root}: a Delta table already exists here`);
  }
  return 0;
}
