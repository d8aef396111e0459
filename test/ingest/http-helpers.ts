// Shared by the HTTP front-end tests: a real server (Fastify on 127.0.0.1, a free port) over a real ingestor on a temp
// lake, tokens of each scope, a small HTTP(S) client, and the lake's tables read back with our reader.
import * as http from 'node:http';
import * as https from 'node:https';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import { DeltaTable } from '../../src/delta/table.js';
import { NotFoundError } from '../../src/errors.js';
import { openIngestor, type Ingestor } from '../../src/ingest/ingestor.js';
import { buildServer, type IngestServer } from '../../src/ingest/http/server.js';
import { createToken, TokenStore } from '../../src/ingest/http/tokens.js';
import { REPO_ROOT } from '../helpers.js';

export const BIN = path.join(REPO_ROOT, 'bin', 'sensorlake.js');

export interface Secrets {
  all: string;
  ingest: string;
  read: string;
  admin: string;
}

/** A token file holding one token per scope and one with every scope. */
export function makeTokens(file: string): Secrets {
  return {
    all: createToken(file, 'all', ['ingest', 'read', 'admin']).secret,
    ingest: createToken(file, 'writer', ['ingest']).secret,
    read: createToken(file, 'reader', ['read']).secret,
    admin: createToken(file, 'admin', ['admin']).secret,
  };
}

export interface Running {
  url: string;
  lake: string;
  ingest: Ingestor;
  server: IngestServer;
  secrets: Secrets;
  close(): Promise<void>;
}

export interface StartOptions {
  bufferRows?: number;
  commitMs?: number;
  commitRows?: number;
  bodyLimit?: number;
  https?: { key: Buffer; cert: Buffer };
  /** 0 decodes bodies on the event loop; default the server's (worker threads). */
  decodeWorkers?: number;
}

/** A server on `<dir>/lake` with tokens in `<dir>/tokens.json`. close() closes the server, then the ingestor. */
export async function startServer(dir: string, opts: StartOptions = {}): Promise<Running> {
  const lake = path.join(dir, 'lake');
  const tokensFile = path.join(dir, 'tokens.json');
  const secrets = makeTokens(tokensFile);
  const ingest = await openIngestor({ lake, commitMs: opts.commitMs ?? 100, commitRows: opts.commitRows, bufferRows: opts.bufferRows });
  const server = await buildServer({ lake, ingest, tokens: new TokenStore(tokensFile), bodyLimit: opts.bodyLimit, https: opts.https, processMetrics: false, decodeWorkers: opts.decodeWorkers });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (server.app.server.address() as AddressInfo).port;
  return {
    url: `${opts.https ? 'https' : 'http'}://127.0.0.1:${port}`,
    lake,
    ingest,
    server,
    secrets,
    async close() {
      await server.app.close();
      await ingest.close();
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export interface CallOptions {
  method?: string;
  token?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** CA certificate for https (a self-signed server certificate). */
  ca?: Buffer;
  agent?: http.Agent;
}

/** One request; resolves with the whole response. */
export function call(url: string, opts: CallOptions = {}): Promise<Reply> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method: opts.method ?? (body ? 'POST' : 'GET'), headers, ca: opts.ca, agent: opts.agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const b = Buffer.concat(parts);
        const text = b.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text, json: <T>() => JSON.parse(text) as T });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** POST a body to /v1/readings. */
export function post(run: Pick<Running, 'url' | 'secrets'>, body: Buffer | string, contentType: string, headers: Record<string, string> = {}): Promise<Reply> {
  return call(`${run.url}/v1/readings`, { token: run.secrets.all, body, headers: { 'content-type': contentType, ...headers } });
}

export interface ReadingRow {
  ts: bigint;
  sensor_id: string;
  value: number | null;
  value_text: string | null;
  quality: bigint;
  source: string | null;
}

/** The readings table's rows (raw µs timestamps), [] before it has any. */
export async function readingRows(lake: string): Promise<ReadingRow[]> {
  const t = await openTable(path.join(lake, 'readings'));
  if (!t) return [];
  const table = await t.read({ columns: ['ts', 'sensor_id', 'value', 'value_text', 'quality', 'source'] });
  const out: ReadingRow[] = [];
  for (const b of table.batches) {
    const ts = b.getChild('ts')!.data[0];
    const tsv = ts.values as unknown as BigInt64Array;
    const q = b.getChild('quality')!.data[0];
    const qv = q.values as unknown as BigInt64Array;
    for (let i = 0; i < b.numRows; i++) {
      out.push({
        ts: tsv[ts.offset + i],
        sensor_id: b.getChild('sensor_id')!.get(i) as string,
        value: b.getChild('value')!.get(i) as number | null,
        value_text: b.getChild('value_text')!.get(i) as string | null,
        quality: qv[q.offset + i],
        source: b.getChild('source')!.get(i) as string | null,
      });
    }
  }
  return out;
}

export async function quarantineRows(lake: string): Promise<Record<string, unknown>[]> {
  const t = await openTable(path.join(lake, 'quarantine'));
  if (!t) return [];
  return (await t.read({ columns: ['raw', 'reason', 'message', 'source_file', 'location', 'location_kind'] })).toArray().map((r) => ({ ...r.toJSON() }));
}

async function openTable(location: string): Promise<DeltaTable | null> {
  try {
    return await DeltaTable.open(location);
  } catch (e) {
    if (e instanceof NotFoundError) return null;
    throw e;
  }
}

/** µs since the epoch of an ISO time. */
export function us(iso: string): bigint {
  return BigInt(Date.parse(iso)) * 1000n;
}

export type CliProcess = ChildProcessByStdio<null, Readable, Readable> & { url: Promise<string>; exited: Promise<number | null>; stderrText(): string };

/** `sensorlake serve ...` as a child process; `url` resolves with the URL it prints once listening. */
export function spawnServe(args: string[]): CliProcess {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) as CliProcess;
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stderrText = () => err;
  child.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  child.url = new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const m = /listening on (\S+)/.exec(line);
      if (m) resolve(m[1]);
    });
    child.exited.then((code) => reject(new Error(`sensorlake serve exited (${code}) before listening: ${err}`)));
  });
  return child;
}

/** Polls /readyz until the server's WAL recovery is done. */
export async function waitReady(url: string, token: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = await call(`${url}/readyz`, { token }).catch(() => null);
    if (r?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not become ready within 30 s`);
}
