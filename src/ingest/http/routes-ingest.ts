// The write side: POST /v1/readings (decode, submit to the durable core, report per-record errors) and the Avro
// schema registry behind single-object bodies (POST /v1/schemas to register, GET to list).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Reject } from '../../sources/batch.js';
import type { RegisteredSchema } from './avro-schemas.js';
import { SINGLE_OBJECT_MAGIC } from './avro-single.js';
import type { RouteContext } from './context.js';
import { BodyTooLargeError, formatOf } from './decode.js';
import { UnsupportedEncodingError } from './decode-pool.js';
import { bodyError, HttpError } from './http-errors.js';
import { listSchemas, postReadings, postSchema } from './route-schemas.js';

/** Per-record errors a response lists; the rest are only counted (all of them go to quarantine). */
const MAX_ERRORS = 1000;
const KEY_RE = /^[\x21-\x7e]{1,200}$/;

/** Bodies are decoded by decode.ts from the raw bytes: the route's body schema is for the OpenAPI document only. */
const noValidation = () => () => true;

export function ingestRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/readings', { schema: postReadings, config: { scope: 'ingest' }, validatorCompiler: noValidation }, async (req) => {
    const ingest = ctx.gate.get();
    const format = formatOf(req.headers['content-type']);
    if (!format) throw new HttpError(415, 'unsupported_media_type', `Content-Type ${req.headers['content-type']} is not accepted`);
    const key = idempotencyKey(req);
    const encoding = req.headers['content-encoding'];
    let chunks;
    try {
      chunks = await ctx.decoder.decode(format, req.body as Buffer, encoding, ctx.bodyLimit, 'request body');
    } catch (e) {
      if (e instanceof UnsupportedEncodingError) throw new HttpError(415, 'unsupported_media_type', `Content-Encoding ${encoding} is not supported; send gzip, deflate or identity`);
      if (e instanceof BodyTooLargeError) throw new HttpError(413, 'body_too_large', e.message);
      const h = bodyError(e);
      if (!h) throw e;
      ctx.metrics.bodyError(h.code);
      throw h;
    }
    const ack = await ingest.submit({ chunks, source: req.tokenName ? `http:${req.tokenName}` : 'http', idempotencyKey: key });
    if (ack.duplicate) ctx.metrics.duplicate();
    return {
      accepted: ack.accepted,
      rejected: ack.rejected.length,
      // In body order: the decoder's rejects come first, then those of the core's validation.
      errors: [...ack.rejected].sort((a, b) => a.location - b.location).slice(0, MAX_ERRORS).map(recordError),
      ...(ack.rejected.length > MAX_ERRORS ? { errors_truncated: true } : {}),
      position: ack.position,
      duplicate: ack.duplicate,
    };
  });

  app.post('/v1/schemas', { schema: postSchema, config: { scope: 'admin' }, validatorCompiler: noValidation }, async (req, reply) => {
    if (formatOf(req.headers['content-type']) !== 'json') throw new HttpError(415, 'unsupported_media_type', 'send the Avro schema as application/json');
    let schema: unknown;
    try {
      schema = JSON.parse((req.body as Buffer).toString('utf8'));
    } catch (e) {
      throw new HttpError(400, 'malformed_body', `the schema is not valid JSON: ${(e as Error).message}`);
    }
    const { entry, created } = ctx.schemas.register(schema);
    reply.code(created ? 201 : 200);
    return { ...describe(entry), created };
  });

  app.get('/v1/schemas', { schema: listSchemas, config: { scope: 'read' } }, async () => ({ schemas: ctx.schemas.list().map(describe) }));
}

function idempotencyKey(req: FastifyRequest): string | undefined {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (!KEY_RE.test(key)) throw new HttpError(400, 'bad_request', 'Idempotency-Key must be 1-200 visible ASCII characters');
  return key;
}

function recordError(r: Reject): { reason: string; message: string; index?: number; line?: number; offset?: number } {
  const where = r.locationKind === 'line' ? 'line' : r.locationKind === 'offset' ? 'offset' : 'index';
  return { reason: r.reason, message: r.message, [where]: r.location };
}

function describe(e: RegisteredSchema): { fingerprint: string; header: string; name: string; schema: unknown } {
  return { fingerprint: e.fingerprint, header: SINGLE_OBJECT_MAGIC.toString('hex') + e.fingerprint, name: e.name, schema: JSON.parse(e.schema) };
}
