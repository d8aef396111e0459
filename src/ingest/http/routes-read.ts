// The read side: one sensor's readings (or bucketed aggregates) and a table's commit history, straight from the lake.

import type { FastifyInstance } from 'fastify';
import { queryReadings, tableHistory, type HistoryTable, type ReadingsQuery } from './readback.js';
import type { RouteContext } from './context.js';
import { getHistory, getReadings } from './route-schemas.js';

export function readRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v1/readings', { schema: getReadings, config: { scope: 'read' } }, async (req) => queryReadings(ctx.lake, req.query as ReadingsQuery));

  app.get('/v1/tables/:name/history', { schema: getHistory, config: { scope: 'read' } }, async (req) => {
    const { name } = req.params as { name: HistoryTable };
    const { limit } = req.query as { limit: number };
    return { table: name, history: await tableHistory(ctx.lake, name, limit) };
  });
}
