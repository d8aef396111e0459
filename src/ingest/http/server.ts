// The HTTP front end of live ingest (`sensorlake serve`): a Fastify app whose routes decode request bodies with the
// sources' code and submit them to the durable core (contract.ts), read the lake back, and expose ops endpoints.
// It never owns the core: whoever opened it closes it after the server (see src/cli/serve.ts).

import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { logger } from '../../log.js';
import type { Ingest } from '../contract.js';
import { authHook } from './auth.js';
import { AvroSchemas } from './avro-schemas.js';
import { IngestGate, type RouteContext } from './context.js';
import { MEDIA_TYPES } from './decode.js';
import { DecodePool } from './decode-pool.js';
import { errorHandler, HttpError } from './http-errors.js';
import { ServerMetrics } from './metrics.js';
import { ingestRoutes } from './routes-ingest.js';
import { opsRoutes } from './routes-ops.js';
import { readRoutes } from './routes-read.js';
import type { TokenStore } from './tokens.js';

export const DEFAULT_BODY_LIMIT = 16 << 20;

export interface ServerOptions {
  /** The lake directory the core writes to; read-back and the Avro schema registry use it too. */
  lake: string;
  /** The durable core, or the promise of it while its WAL recovers (writes get 503 and /readyz is false until then). */
  ingest: Ingest | Promise<Ingest>;
  /** Bearer tokens; null serves without authentication (the CLI allows that on loopback hosts only). */
  tokens: TokenStore | null;
  /** Largest request body in bytes; larger ones get 413. Default 16 MiB. */
  bodyLimit?: number;
  /** PEM key and certificate: serve HTTPS. */
  https?: { key: Buffer | string; cert: Buffer | string };
  /** Default: the lake's `_sensorlake/schemas`. */
  schemas?: AvroSchemas;
  /** Export Node process metrics (CPU, memory, event loop lag) too. Default true. */
  processMetrics?: boolean;
  /**
   * Worker threads that decode bodies; 0 (the default) decodes on the event loop. On 2 cores the event loop is faster
   * (measured: bench/ingest); a worker pays off only where spare cores outnumber the parquet and commit workers.
   */
  decodeWorkers?: number;
}

export interface IngestServer {
  app: FastifyInstance;
  metrics: ServerMetrics;
  /** Resolves once the core is open (its WAL recovered) and attached to the routes. */
  ready: Promise<void>;
}

export async function buildServer(opts: ServerOptions): Promise<IngestServer> {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    loggerInstance: logger.child({ component: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    ...(opts.https ? { https: { key: opts.https.key, cert: opts.https.cert } } : {}),
  }) as unknown as FastifyInstance;

  const metrics = new ServerMetrics({ processMetrics: opts.processMetrics ?? true });
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const gate = new IngestGate(opts.ingest, (ingest) => {
    metrics.attach(ingest.stats);
    markReady();
  });
  const schemas = opts.schemas ?? AvroSchemas.forLake(opts.lake);
  const decoder = new DecodePool(opts.decodeWorkers ?? 0, schemas);
  app.addHook('onClose', async () => decoder.close());
  const ctx: RouteContext = { lake: opts.lake, gate, schemas, metrics, bodyLimit, decoder };

  // Bodies stay raw bytes: the sources decode them (one JSON.parse of the whole array, no per-object copy by Fastify).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(Object.values(MEDIA_TYPES).flat(), { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

  app.decorateRequest('tokenName', null);
  app.addHook('onRequest', authHook(opts.tokens));
  app.addHook('onResponse', async (req, reply) => {
    metrics.observeRequest(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.setErrorHandler(errorHandler(bodyLimit));
  app.setNotFoundHandler(async (req) => {
    throw new HttpError(404, 'not_found', `no route ${req.method} ${req.url}`);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'sensorlake live ingest', version: '1', description: 'Readings in over HTTP, exactly once into Delta Lake tables.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token from `sensorlake token create`' } } },
      security: [{ bearer: [] }],
    },
  });
  ingestRoutes(app, ctx);
  readRoutes(app, ctx);
  opsRoutes(app, ctx);
  return { app, metrics, ready };
}
