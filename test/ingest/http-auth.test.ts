// Authentication of `sensorlake serve`: every route but /healthz refuses a request without a token or with an unknown
// one (401, WWW-Authenticate) and a token without the route's scope (403); the token CLI stores hashes only, prints
// the secret once on its last line, lists without secrets, and a revoke takes effect on the server's next request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers.js';
import { BIN, call, startServer, type Running } from './http-helpers.js';

const scratch = tempDir('sensorlake-http-auth-');
let run: Running;

before(async () => {
  run = await startServer(scratch.dir);
});
after(async () => {
  await run?.close();
  scratch.cleanup();
});

type Scoped = 'ingest' | 'read' | 'admin';
interface RouteCase {
  method: string;
  path: string;
  /** The path as the OpenAPI document names it. */
  doc: string;
  scope: Scoped;
  body?: string;
}

const ROUTES: RouteCase[] = [
  { method: 'POST', path: '/v1/readings', doc: '/v1/readings', scope: 'ingest', body: '[]' },
  { method: 'GET', path: '/v1/readings?sensor_id=a&from=2024-01-01&to=2024-01-02', doc: '/v1/readings', scope: 'read' },
  { method: 'GET', path: '/v1/tables/readings/history', doc: '/v1/tables/{name}/history', scope: 'read' },
  { method: 'POST', path: '/v1/schemas', doc: '/v1/schemas', scope: 'admin', body: '{"type":"record","name":"R","fields":[{"name":"ts","type":"long"},{"name":"sensor_id","type":"string"},{"name":"value","type":"double"}]}' },
  { method: 'GET', path: '/v1/schemas', doc: '/v1/schemas', scope: 'read' },
  { method: 'GET', path: '/readyz', doc: '/readyz', scope: 'read' },
  { method: 'GET', path: '/metrics', doc: '/metrics', scope: 'read' },
  { method: 'GET', path: '/openapi.json', doc: '/openapi.json', scope: 'read' },
];

function send(r: RouteCase, token?: string, headers: Record<string, string> = {}) {
  return call(run.url + r.path, { method: r.method, token, body: r.body, headers: r.body ? { 'content-type': 'application/json', ...headers } : headers });
}

test('/healthz answers without a token', async () => {
  const r = await call(`${run.url}/healthz`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json(), { status: 'ok' });
});

test('the route list of this test covers every route the OpenAPI document names', async () => {
  const doc = (await call(`${run.url}/openapi.json`, { token: run.secrets.read })).json<{ paths: Record<string, Record<string, unknown>> }>();
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  const tested = new Set([...ROUTES.map((r) => `${r.method} ${r.doc}`), 'GET /healthz']);
  for (const d of documented) assert.ok(tested.has(d), `${d} is not covered by the auth test`);
});

test('every route but /healthz answers 401 with WWW-Authenticate without a token, with a malformed header and with an unknown token', async () => {
  for (const r of ROUTES) {
    const none = await send(r);
    assert.equal(none.status, 401, `${r.method} ${r.path} without a token: ${none.text}`);
    assert.match(String(none.headers['www-authenticate']), /^Bearer realm="sensorlake"/);
    assert.equal(none.json().error, 'unauthorized');
    const basic = await send(r, undefined, { authorization: 'Basic dXNlcjpwYXNz' });
    assert.equal(basic.status, 401, `${r.method} ${r.path} with Basic auth`);
    const unknown = await send(r, 'slk_not-a-token-this-server-knows-about-000000000');
    assert.equal(unknown.status, 401, `${r.method} ${r.path} with an unknown token`);
    assert.match(String(unknown.headers['www-authenticate']), /error="invalid_token"/);
  }
  // Unknown paths too: nothing is learnt about the route table without a token.
  assert.equal((await call(`${run.url}/v1/nothing-here`)).status, 401);
});

test('every route answers 403 to a token without its scope and lets a token with it through', async () => {
  const other: Record<Scoped, Scoped> = { ingest: 'read', read: 'ingest', admin: 'ingest' };
  for (const r of ROUTES) {
    const wrong = await send(r, run.secrets[other[r.scope]]);
    assert.equal(wrong.status, 403, `${r.method} ${r.path} with a '${other[r.scope]}' token: ${wrong.text}`);
    assert.equal(wrong.json().error, 'forbidden');
    assert.match(String(wrong.headers['www-authenticate']), new RegExp(`error="insufficient_scope", scope="${r.scope}"`));
    const right = await send(r, run.secrets[r.scope]);
    assert.ok(right.status === 200 || right.status === 201, `${r.method} ${r.path} with a '${r.scope}' token: ${right.status} ${right.text}`);
  }
});

test('token CLI: create prints the secret on its last line and stores only its hash; list shows no secrets; revoke shuts the token out', async () => {
  const file = path.join(scratch.dir, 'tokens.json'); // the file the running server reads
  const created = execFileSync(process.execPath, [BIN, 'token', 'create', '--tokens', file, '--name', 'cli-made', '--scopes', 'read,ingest'], { encoding: 'utf8' });
  const lines = created.trimEnd().split('\n');
  const secret = lines[lines.length - 1];
  assert.match(secret, /^slk_[A-Za-z0-9_-]{43}$/);
  assert.equal(created.split(secret).length, 2, 'the secret is printed once');

  const stored = readFileSync(file, 'utf8');
  assert.ok(!stored.includes(secret), 'the token file must not hold the secret');
  assert.ok(!stored.includes(secret.slice(4, 20)), 'nor a piece of it');
  const entry = (JSON.parse(stored) as { tokens: { name: string; sha256: string; scopes: string[] }[] }).tokens.find((t) => t.name === 'cli-made');
  assert.equal(entry?.sha256, createHash('sha256').update(secret).digest('hex'));
  assert.deepEqual(entry?.scopes, ['read', 'ingest']);

  const listed = execFileSync(process.execPath, [BIN, 'token', 'list', '--tokens', file, '--json'], { encoding: 'utf8' });
  const names = (JSON.parse(listed) as { name: string; scopes: string[] }[]).map((t) => t.name);
  assert.deepEqual(names, ['all', 'writer', 'reader', 'admin', 'cli-made']);
  assert.ok(!listed.includes(secret) && !listed.includes(entry!.sha256), 'list shows neither secrets nor hashes');

  const history = `${run.url}/v1/tables/readings/history`;
  assert.equal((await call(history, { token: secret })).status, 200, 'the server picks up a token created while it runs');
  execFileSync(process.execPath, [BIN, 'token', 'revoke', '--tokens', file, '--name', 'cli-made'], { encoding: 'utf8' });
  const after = await call(history, { token: secret });
  assert.equal(after.status, 401, 'a revoked token is refused on the next request');
  assert.equal((await call(history, { token: run.secrets.read })).status, 200, 'other tokens still work');
});

test('token CLI refuses an unknown scope and a taken name (exit 2), and revoking an unknown name (exit 1)', () => {
  const file = path.join(scratch.dir, 'other-tokens.json');
  const status = (args: string[]): number => {
    try {
      execFileSync(process.execPath, [BIN, 'token', ...args, '--tokens', file], { stdio: 'pipe' });
      return 0;
    } catch (e) {
      return (e as { status: number }).status;
    }
  };
  assert.equal(status(['create', '--name', 'x', '--scopes', 'ingest,root']), 2);
  assert.equal(status(['create', '--name', 'x', '--scopes', 'ingest']), 0);
  assert.equal(status(['create', '--name', 'x', '--scopes', 'read']), 2);
  assert.equal(status(['revoke', '--name', 'nobody']), 1);
});
