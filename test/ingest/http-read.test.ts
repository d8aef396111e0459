// The read and ops side of `sensorlake serve`: one sensor's readings back (rows, bucketed aggregates, the row cap),
// table history, the OpenAPI document, Prometheus metrics, and HTTPS with a self-signed certificate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers.js';
import { openIngestor, type Ingestor } from '../../src/ingest/ingestor.js';
import { buildServer } from '../../src/ingest/http/server.js';
import { TokenStore } from '../../src/ingest/http/tokens.js';
import type { AddressInfo } from 'node:net';
import { call, makeTokens, post, startServer, type Running } from './http-helpers.js';

const scratch = tempDir('sensorlake-http-read-');
let run: Running;

interface Row {
  ts: string;
  value: number | null;
  value_text: string | null;
  quality: number;
}
interface Bucket {
  ts: string;
  value: number;
  count: number;
}

// Sensor rb-1: one reading every 20 s for 3 minutes, value = minute * 100 + second; posted out of order in two
// requests, one per day partition boundary side, so the scan has several files to read and sort.
const T0 = Date.parse('2024-05-01T23:58:00Z');
const POINTS = Array.from({ length: 9 }, (_, i) => ({
  ts: T0 + i * 20_000,
  sensor_id: 'rb-1',
  value: Math.floor(i / 3) * 100 + (i % 3) * 20,
  quality: i === 4 ? 'uncertain' : 'good',
}));

before(async () => {
  run = await startServer(path.join(scratch.dir, 'main'));
  const other = [{ ts: T0 + 5000, sensor_id: 'rb-2', value: 999 }];
  const first = await post(run, JSON.stringify([...POINTS.slice(5).reverse(), ...other]), 'application/json');
  assert.equal(first.status, 200, first.text);
  await run.ingest.flush();
  const second = await post(run, JSON.stringify(POINTS.slice(0, 5)), 'application/json');
  assert.equal(second.status, 200, second.text);
  await run.ingest.flush();
});
after(async () => {
  await run?.close();
  scratch.cleanup();
});

const read = (query: string) => call(`${run.url}/v1/readings?${query}`, { token: run.secrets.read });

test('GET /v1/readings returns one sensor in [from, to) sorted by ts, across day partitions', async () => {
  const r = await read('sensor_id=rb-1&from=2024-05-01T23:58:00Z&to=2024-05-02T00:00:40Z');
  assert.equal(r.status, 200, r.text);
  const body = r.json<{ count: number; rows: Row[]; sensor_id: string }>();
  assert.equal(body.sensor_id, 'rb-1');
  const expected = POINTS.filter((p) => p.ts < Date.parse('2024-05-02T00:00:40Z')).map((p) => ({
    ts: new Date(p.ts).toISOString(),
    value: p.value,
    value_text: null,
    quality: p.quality === 'good' ? 0 : 0x40000000,
  }));
  assert.deepEqual(body.rows, expected);
  assert.equal(body.count, expected.length);
  const none = await read('sensor_id=nobody&from=2024-05-01&to=2024-05-03');
  assert.deepEqual(none.json<{ rows: Row[] }>().rows, []);
});

test('GET /v1/readings with every and agg returns one aggregate per bucket', async () => {
  const q = 'sensor_id=rb-1&from=2024-05-01T23:58:00Z&to=2024-05-02T00:01:00Z&every=1m';
  const get = async (agg: string) => (await read(`${q}&agg=${agg}`)).json<{ buckets: Bucket[] }>().buckets;
  const minutes = ['2024-05-01T23:58:00.000Z', '2024-05-01T23:59:00.000Z', '2024-05-02T00:00:00.000Z'];
  // Minute m holds m*100 + 0, 20, 40.
  assert.deepEqual(await get('avg'), minutes.map((ts, m) => ({ ts, value: m * 100 + 20, count: 3 })));
  assert.deepEqual((await get('min')).map((b) => b.value), [0, 100, 200]);
  assert.deepEqual((await get('max')).map((b) => b.value), [40, 140, 240]);
  assert.deepEqual((await get('last')).map((b) => b.value), [40, 140, 240]);
  assert.deepEqual((await get('count')).map((b) => b.value), [3, 3, 3]);
});

test('GET /v1/readings refuses bad queries and too many rows with a clear 400', async () => {
  const cases: [string, RegExp][] = [
    ['sensor_id=rb-1&from=2024-05-01T23:58:00Z&to=2024-05-02T00:01:00Z&limit=4', /more than 4 readings.*narrow from\/to.*every= and agg=/],
    ['sensor_id=rb-1&from=yesterday&to=2024-05-02', /from 'yesterday': expected an ISO 8601 date/],
    ['sensor_id=rb-1&from=2024-05-02&to=2024-05-01', /must be after from/],
    ['sensor_id=rb-1&from=2024-05-01&to=2024-05-02&every=1m', /every and agg go together/],
    ['sensor_id=rb-1&from=2024-05-01&to=2024-05-02&every=1x&agg=avg', /every/],
    ['sensor_id=rb-1&from=2000-01-01&to=2024-05-02&every=1s&agg=avg', /buckets, more than 100000/],
    ['from=2024-05-01&to=2024-05-02', /sensor_id/],
  ];
  for (const [query, message] of cases) {
    const r = await read(query);
    assert.equal(r.status, 400, `${query}: ${r.text}`);
    assert.match(r.json<{ message: string }>().message, message, query);
  }
});

test('GET /v1/tables/{name}/history lists commits newest first; an unknown table is a 400', async () => {
  const r = await call(`${run.url}/v1/tables/readings/history?limit=2`, { token: run.secrets.read });
  assert.equal(r.status, 200, r.text);
  const h = r.json<{ table: string; history: { version: number; operation: string; timestamp: string }[] }>();
  assert.equal(h.table, 'readings');
  assert.equal(h.history.length, 2);
  assert.ok(h.history[0].version > h.history[1].version);
  assert.ok(!Number.isNaN(Date.parse(h.history[0].timestamp)));
  assert.equal(typeof h.history[0].operation, 'string');
  const full = (await call(`${run.url}/v1/tables/readings/history`, { token: run.secrets.read })).json<{ history: { operation: string }[] }>().history;
  assert.equal(full[full.length - 1].operation, 'CREATE TABLE');
  const bad = await call(`${run.url}/v1/tables/secrets/history`, { token: run.secrets.read });
  assert.equal(bad.status, 400);
  const sensors = await call(`${run.url}/v1/tables/quarantine/history`, { token: run.secrets.read });
  assert.ok(sensors.status === 200 || sensors.status === 404, 'quarantine: a history, or 404 before its first commit');
});

test('GET /openapi.json is an OpenAPI 3 document listing every route with its operations', async () => {
  const r = await call(`${run.url}/openapi.json`, { token: run.secrets.read });
  assert.equal(r.status, 200);
  const doc = r.json<{ openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> }; security?: unknown[] }>> }>();
  assert.match(doc.openapi, /^3\./);
  assert.deepEqual(Object.keys(doc.paths).sort(), ['/healthz', '/metrics', '/openapi.json', '/readyz', '/v1/readings', '/v1/schemas', '/v1/tables/{name}/history']);
  assert.deepEqual(Object.keys(doc.paths['/v1/readings']).sort(), ['get', 'post']);
  assert.deepEqual(Object.keys(doc.paths['/v1/readings'].post.requestBody!.content).sort(), ['application/avro', 'application/json', 'application/x-ndjson']);
  assert.deepEqual(doc.paths['/healthz'].get.security, [], '/healthz is documented as open');
});

test('GET /metrics is Prometheus text with the ingest and HTTP metrics', async () => {
  const r = await call(`${run.url}/metrics`, { token: run.secrets.read });
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  for (const name of [
    'sensorlake_ingest_rows_total',
    'sensorlake_ingest_rows_quarantined_total',
    'sensorlake_ingest_commit_seconds_bucket',
    'sensorlake_ingest_commit_seconds_count',
    'sensorlake_wal_bytes',
    'sensorlake_ingest_commit_conflicts_total',
    'sensorlake_ingest_commit_retries_total',
    'sensorlake_ingest_commits_total',
    'sensorlake_http_requests_total',
    'sensorlake_http_request_seconds_bucket',
  ]) {
    assert.match(r.text, new RegExp(`^${name}(\\{[^}]*\\})? \\S+$`, 'm'), name);
  }
  assert.match(r.text, /^sensorlake_ingest_rows_total 10$/m, '9 readings of rb-1 and one of rb-2');
  assert.match(r.text, /^sensorlake_http_requests_total\{route="\/v1\/readings",method="POST",status="200"\} 2$/m);
  const commits = Number(/^sensorlake_ingest_commit_seconds_count (\d+)$/m.exec(r.text)![1]);
  assert.ok(commits >= 2, `two flushes committed at least twice (${commits})`);
});

test('HTTPS with a self-signed certificate (openssl req -x509)', async () => {
  const dir = path.join(scratch.dir, 'tls');
  execFileSync('mkdir', ['-p', dir]);
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  const tls = await startServer(dir, { https: { key: readFileSync(key), cert: readFileSync(cert) } });
  try {
    assert.match(tls.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(cert);
    assert.equal((await call(`${tls.url}/healthz`, { ca })).status, 200);
    const r = await call(`${tls.url}/v1/readings`, { ca, token: tls.secrets.ingest, body: '[{"ts":"2024-05-03T00:00:00Z","sensor_id":"tls-1","value":1}]', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json().accepted, 1);
    await assert.rejects(call(`${tls.url}/healthz`), /self-signed|certificate/, 'without the CA the certificate is not trusted');
  } finally {
    await tls.close();
  }
});

test('/readyz is 503 and writes get 503 with Retry-After until the core is open (WAL recovered); then both work', async () => {
  const dir = path.join(scratch.dir, 'late');
  const secrets = makeTokens(path.join(dir, 'tokens.json'));
  let deliver!: (i: Ingestor) => void;
  const late = new Promise<Ingestor>((resolve) => (deliver = resolve));
  const server = await buildServer({ lake: path.join(dir, 'lake'), ingest: late, tokens: new TokenStore(path.join(dir, 'tokens.json')), processMetrics: false });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
  const ingest = await openIngestor({ lake: path.join(dir, 'lake') });
  try {
    const body = '[{"ts":"2024-05-04T00:00:00Z","sensor_id":"late-1","value":1}]';
    const ready = await call(`${url}/readyz`, { token: secrets.read });
    assert.equal(ready.status, 503);
    assert.match(ready.json<{ reason: string }>().reason, /recovering the write-ahead log/);
    const write = await call(`${url}/v1/readings`, { token: secrets.ingest, body, headers: { 'content-type': 'application/json' } });
    assert.equal(write.status, 503);
    assert.equal(write.headers['retry-after'], '1');
    assert.equal((await call(`${url}/healthz`)).status, 200, 'alive meanwhile');
    deliver(ingest);
    await server.ready;
    assert.equal((await call(`${url}/readyz`, { token: secrets.read })).status, 200);
    const ok = await call(`${url}/v1/readings`, { token: secrets.ingest, body, headers: { 'content-type': 'application/json' } });
    assert.equal(ok.status, 200, ok.text);
  } finally {
    await server.app.close();
    await ingest.close();
  }
});
