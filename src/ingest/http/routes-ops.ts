// Operations: liveness (/healthz, the one route open to all), readiness, Prometheus metrics and the OpenAPI document.

import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';
import { healthz, metricsRoute, openapiRoute, readyz } from './route-schemas.js';

export function opsRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/healthz', { schema: healthz, config: { scope: 'open' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: readyz, config: { scope: 'read' } }, async (_req, reply) => {
    const reason = ctx.gate.reason;
    if (reason !== null) return reply.code(503).send({ ready: false, reason });
    return { ready: true };
  });

  app.get('/metrics', { schema: metricsRoute, config: { scope: 'read' } }, async (_req, reply) => {
    reply.type(ctx.metrics.contentType);
    return ctx.metrics.text();
  });

  app.get('/openapi.json', { schema: openapiRoute, config: { scope: 'read' } }, async () => app.swagger());
}
