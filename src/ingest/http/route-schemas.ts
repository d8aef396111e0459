// JSON Schemas of the routes: Fastify serializes responses with them and @fastify/swagger turns them into
// /openapi.json. Request bodies of POST /v1/readings are documented here but decoded by decode.ts, not validated.

import { AGGREGATES, DEFAULT_ROW_LIMIT, HISTORY_TABLES, MAX_ROW_LIMIT } from './readback.js';
import { MEDIA_TYPES } from './decode.js';

export const errorBody = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'A stable code: unauthorized, forbidden, malformed_body, unknown_schema, body_too_large, ...' },
    message: { type: 'string', description: 'What is wrong and where (byte offset, line, field)' },
  },
} as const;

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, errorBody]));

const reading = {
  type: 'object',
  required: ['ts', 'sensor_id'],
  properties: {
    ts: { description: 'ISO 8601 with an offset, or epoch seconds/ms/µs/ns (inferred from magnitude)', type: ['string', 'number'] },
    sensor_id: { type: ['string', 'number'] },
    value: { description: 'A number, numeric text, or a boolean', type: ['number', 'string', 'boolean', 'null'] },
    value_text: { type: ['string', 'null'] },
    quality: { description: 'good, uncertain, bad, an OPC UA StatusCode, or a boolean', type: ['string', 'number', 'boolean', 'null'] },
  },
} as const;

const recordError = {
  type: 'object',
  properties: {
    reason: { type: 'string', description: 'bad_timestamp, bad_value, missing_sensor_id, malformed_record, ...' },
    message: { type: 'string' },
    index: { type: 'integer', description: '0-based item of a JSON array or record of an Avro body' },
    line: { type: 'integer', description: '1-based line of an NDJSON body' },
    offset: { type: 'integer', description: 'byte offset in the body' },
  },
} as const;

export const postReadings = {
  summary: 'Ingest readings',
  description:
    'Decodes the body, validates every record, makes the readings durable in the write-ahead log and acknowledges; ' +
    'they reach the readings table in the next micro-batch commit. Records that fail validation go to quarantine and ' +
    'are listed in errors. A retry with the same Idempotency-Key is acknowledged again but counted once.',
  tags: ['ingest'],
  headers: {
    type: 'object',
    properties: {
      'idempotency-key': { type: 'string', maxLength: 200, description: 'Makes a retry count once' },
      'content-encoding': { type: 'string', description: 'gzip, deflate or identity; the limit applies to the decompressed body too' },
    },
  },
  body: {
    content: {
      [MEDIA_TYPES.json[0]]: { schema: { type: 'array', items: reading } },
      [MEDIA_TYPES.ndjson[0]]: { schema: { type: 'string', description: 'One reading object per line' } },
      [MEDIA_TYPES.avro[0]]: {
        schema: {
          type: 'string',
          format: 'binary',
          description: 'An Avro object container file, or single-object messages (C3 01 + CRC-64-AVRO fingerprint + datum) of a schema registered at /v1/schemas',
        },
      },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['accepted', 'rejected', 'errors', 'position', 'duplicate'],
      properties: {
        accepted: { type: 'integer', description: 'Readings durable and bound for the readings table' },
        rejected: { type: 'integer', description: 'Records bound for quarantine' },
        errors: { type: 'array', items: recordError, description: 'The rejected records (the first 1,000)' },
        errors_truncated: { type: 'boolean' },
        position: { type: 'integer', description: 'WAL position of this request' },
        duplicate: { type: 'boolean', description: 'The Idempotency-Key was seen before; nothing new was written' },
      },
    },
    ...errors(400, 401, 403, 413, 415, 429, 503),
  },
} as const;

export const getReadings = {
  summary: 'Read one sensor back',
  description: 'Rows of one sensor in [from, to), sorted by ts; with every and agg, one aggregate per bucket aligned to the epoch.',
  tags: ['read'],
  querystring: {
    type: 'object',
    required: ['sensor_id', 'from', 'to'],
    additionalProperties: false,
    properties: {
      sensor_id: { type: 'string', minLength: 1 },
      from: { type: 'string', description: 'ISO 8601 date or date-time (UTC unless an offset is given), inclusive' },
      to: { type: 'string', description: 'exclusive' },
      every: { type: 'string', pattern: '^[0-9]+(s|m|h|d)$', description: 'Bucket width: 30s, 1m, 1h, 1d' },
      agg: { type: 'string', enum: [...AGGREGATES] },
      limit: { type: 'integer', minimum: 1, maximum: MAX_ROW_LIMIT, default: DEFAULT_ROW_LIMIT, description: 'Rows at most; more is a 400' },
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        sensor_id: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        count: { type: 'integer' },
        every: { type: 'string' },
        agg: { type: 'string' },
        rows: {
          type: 'array',
          items: {
            type: 'object',
            properties: { ts: { type: 'string' }, value: { type: ['number', 'null'] }, value_text: { type: ['string', 'null'] }, quality: { type: 'integer' } },
          },
        },
        buckets: {
          type: 'array',
          items: { type: 'object', properties: { ts: { type: 'string' }, value: { type: ['number', 'null'] }, count: { type: 'integer' } } },
        },
      },
    },
    ...errors(400, 401, 403),
  },
} as const;

export const getHistory = {
  summary: "A table's commit history",
  tags: ['read'],
  params: { type: 'object', required: ['name'], properties: { name: { type: 'string', enum: [...HISTORY_TABLES] } } },
  querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 } } },
  response: {
    200: {
      type: 'object',
      properties: {
        table: { type: 'string' },
        history: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              version: { type: 'integer' },
              timestamp: { type: 'string' },
              operation: { type: ['string', 'null'] },
              operationParameters: { type: 'object', additionalProperties: true },
              operationMetrics: { type: 'object', additionalProperties: true },
              readVersion: { type: ['integer', 'null'] },
              isBlindAppend: { type: ['boolean', 'null'] },
              engineInfo: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
    ...errors(400, 401, 403, 404),
  },
} as const;

const schemaEntry = {
  type: 'object',
  properties: {
    fingerprint: { type: 'string', description: 'CRC-64-AVRO of the canonical form: the 8 bytes after C3 01, hex' },
    header: { type: 'string', description: 'The 10-byte single-object header to put before each datum, hex' },
    name: { type: 'string' },
    created: { type: 'boolean' },
    schema: { type: 'object', additionalProperties: true },
  },
} as const;

export const postSchema = {
  summary: 'Register an Avro writer schema for single-object bodies',
  tags: ['admin'],
  body: { content: { 'application/json': { schema: { type: 'object', description: 'An Avro record schema with ts, sensor_id and value fields' } } } },
  response: { 200: schemaEntry, 201: schemaEntry, ...errors(400, 401, 403) },
} as const;

export const listSchemas = {
  summary: 'Registered Avro writer schemas',
  tags: ['read'],
  response: { 200: { type: 'object', properties: { schemas: { type: 'array', items: schemaEntry } } }, ...errors(401, 403) },
} as const;

export const healthz = {
  summary: 'Liveness: the process answers (no token needed)',
  tags: ['ops'],
  security: [],
  response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
} as const;

export const readyz = {
  summary: 'Readiness: WAL recovery finished and the server is not shutting down',
  tags: ['ops'],
  response: {
    200: { type: 'object', properties: { ready: { type: 'boolean' } } },
    503: { type: 'object', properties: { ready: { type: 'boolean' }, reason: { type: 'string' } } },
    ...errors(401, 403),
  },
} as const;

export const metricsRoute = {
  summary: 'Prometheus metrics (text exposition format)',
  tags: ['ops'],
  produces: ['text/plain'],
  response: { 200: { type: 'string' }, ...errors(401, 403) },
} as const;

export const openapiRoute = {
  summary: 'This document (OpenAPI 3)',
  tags: ['ops'],
  response: { 200: { type: 'object', additionalProperties: true }, ...errors(401, 403) },
} as const;
