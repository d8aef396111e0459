// How failures become HTTP answers: one error body ({ error, message }) for Fastify's own refusals (413, 415, schema
// validation), the core's back-pressure (429 with Retry-After) and shutdown (503), and our typed errors.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BufferFullError, InvalidArgumentError, InvalidRecordError, NotFoundError, SchemaMismatchError, SensorlakeError, ShuttingDownError } from '../../errors.js';
import { MEDIA_TYPES } from './decode.js';

/** A refusal with its status, code and headers, thrown by route handlers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** While WAL recovery runs, and after it failed: the core is not there to take writes. */
export function notReady(reason: string): HttpError {
  return new HttpError(503, 'not_ready', reason, { 'retry-after': '1' });
}

/** A body that could not be decoded as a whole: what kind of fault, for the error code and the metric label. */
export function bodyError(e: unknown): HttpError | null {
  if (e instanceof NotFoundError) return new HttpError(400, 'unknown_schema', e.message);
  if (e instanceof SchemaMismatchError) return new HttpError(400, 'schema_mismatch', e.message);
  if (e instanceof InvalidRecordError) return new HttpError(400, 'malformed_body', e.message);
  if (e instanceof SensorlakeError) return new HttpError(400, 'bad_request', e.message);
  return null;
}

const ACCEPTED = Object.values(MEDIA_TYPES)
  .map((t) => t[0])
  .join(', ');

export function toHttpError(err: FastifyError | Error, bodyLimit: number): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof BufferFullError) {
    return new HttpError(429, 'buffer_full', err.message, { 'retry-after': String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))) });
  }
  if (err instanceof ShuttingDownError) return new HttpError(503, 'shutting_down', err.message, { 'retry-after': '5' });
  if (err instanceof InvalidArgumentError) return new HttpError(400, 'bad_request', err.message);
  if (err instanceof NotFoundError) return new HttpError(404, 'not_found', err.message);
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'body_too_large', `the request body exceeds the limit of ${bodyLimit} bytes (serve --body-limit); send smaller batches`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_EMPTY_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new HttpError(415, 'unsupported_media_type', `Content-Type is missing or not accepted; send one of ${ACCEPTED}`);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError(400, 'bad_request', 'Content-Length does not match the body received');
  }
  if (fe.validation) return new HttpError(400, 'bad_request', `${fe.validationContext ?? 'request'}: ${fe.message}`);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new HttpError(fe.statusCode, 'bad_request', fe.message);
  return new HttpError(500, 'internal', `internal error: ${err.message}`);
}

/** Fastify's error handler: logs server faults, answers with the error body. */
export function errorHandler(bodyLimit: number) {
  return async function handle(err: FastifyError, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const h = toHttpError(err, bodyLimit);
    if (h.status >= 500 && h.code === 'internal') req.log.error({ err, url: req.url }, 'request failed');
    await reply.code(h.status).headers(h.headers).send({ error: h.code, message: h.message });
  };
}
