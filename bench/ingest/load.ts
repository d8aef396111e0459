// The load generator of bench/ingest: autocannon (programmatic) posting bodies of N readings each to POST
// /v1/readings, as a JSON array or as NDJSON. Bodies are templates built once, with only the timestamp filled in per
// request (request i carries start + i ms for all its sensors), so every (sensor_id, ts) key is new and nothing is
// deduplicated; the template costs one string join per request, not a JSON.stringify of N objects.

import autocannon from 'autocannon';

export type BodyFormat = 'json' | 'ndjson';

export const CONTENT_TYPE: Record<BodyFormat, string> = { json: 'application/json', ndjson: 'application/x-ndjson' };

export interface LoadOptions {
  url: string;
  format: BodyFormat;
  seconds: number;
  connections: number;
  readingsPerRequest: number;
  /** First timestamp, ms since the epoch. */
  startMs: number;
  token?: string;
}

export interface LoadResult {
  format: BodyFormat;
  seconds: number;
  connections: number;
  requests: number;
  ok: number;
  /** Responses by status code. */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Readings the server acknowledged (sum of `accepted` of 2xx responses). */
  acknowledged: number;
  rejected: number;
  readingsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  bodyBytes: number;
}

/** The pieces of a body between its timestamps: body(i) = pieces.join(ts(i)). */
export function bodyTemplate(format: BodyFormat, n: number): string[] {
  const pieces: string[] = [];
  let text = format === 'json' ? '[' : '';
  for (let k = 0; k < n; k++) {
    const sep = format === 'json' ? (k > 0 ? ',' : '') : '';
    text += `${sep}{"ts":"`;
    pieces.push(text);
    text = `","sensor_id":"plant1/line${k % 10}/sensor-${String(k).padStart(5, '0')}","value":${(k * 0.37).toFixed(2)}}${format === 'ndjson' ? '\n' : ''}`;
  }
  pieces.push(text + (format === 'json' ? ']' : ''));
  return pieces;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const pieces = bodyTemplate(o.format, o.readingsPerRequest);
  let next = 0;
  let acknowledged = 0;
  let rejected = 0;
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPE[o.format] };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  const sample = pieces.join(new Date(o.startMs).toISOString());
  const result = await autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/v1/readings',
        headers,
        setupRequest: (req) => ({ ...req, body: pieces.join(new Date(o.startMs + next++).toISOString()) }),
        onResponse: (status, body) => {
          if (status < 200 || status >= 300) return;
          const r = JSON.parse(body) as { accepted: number; rejected: number };
          acknowledged += r.accepted;
          rejected += r.rejected;
        },
      },
    ],
  });
  const statuses: Record<string, number> = {};
  for (const [code, s] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = (s as { count: number }).count;
  const ok = Object.entries(statuses).reduce((sum, [code, n]) => sum + (code.startsWith('2') ? n : 0), 0);
  const seconds = result.duration;
  return {
    format: o.format,
    seconds,
    connections: o.connections,
    requests: result.requests.total,
    ok,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    acknowledged,
    rejected,
    readingsPerSecond: acknowledged / seconds,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.average },
    bodyBytes: Buffer.byteLength(sample),
  };
}
