// The real `sensorlake serve` process: SIGTERM commits what is buffered and exits 0; kill -9 under load loses nothing
// acknowledged. A load generator posts batches and records every 2xx; the server is SIGKILLed mid-stream and started
// again on the same lake; every acknowledged reading must then be in `readings` exactly once, as our reader and
// delta-rs both see it. HTTP_KILL_SEED=<n> replays a kill point.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import { DeltaTable } from '../../src/delta/table.js';
import { canonicalRows } from '../interop/canonical.js';
import { startPeers, type Peers } from '../interop/peers.js';
import { tempDir } from '../helpers.js';
import { call, makeTokens, readingRows, spawnServe, waitReady, type Secrets } from './http-helpers.js';

const SEED = process.env.HTTP_KILL_SEED ? Number(process.env.HTTP_KILL_SEED) : Date.now() % 100_000;
const scratch = tempDir('sensorlake-http-cli-');
const tokensFile = path.join(scratch.dir, 'tokens.json');
let secrets: Secrets;
let peers: Peers | null = null;

before(() => {
  secrets = makeTokens(tokensFile);
});
after(async () => {
  await peers?.close();
  scratch.cleanup();
});

function batch(sensor: string, firstMs: number, n: number): { ts: string; sensor_id: string; value: number }[] {
  return Array.from({ length: n }, (_, i) => ({ ts: new Date(firstMs + i).toISOString(), sensor_id: sensor, value: (firstMs + i) % 1000 }));
}

test('SIGTERM with posts in flight: every acknowledged reading is committed, and the CLI exits 0', async () => {
  const lake = path.join(scratch.dir, 'lake-term');
  const serve = spawnServe(['--lake', lake, '--tokens', tokensFile, '--commit-ms', '600000']);
  try {
    const url = await serve.url;
    await waitReady(url, secrets.read);
    const t0 = Date.parse('2024-06-01T00:00:00Z');
    const r = await call(`${url}/v1/readings`, { token: secrets.ingest, body: JSON.stringify(batch('term-0', t0, 50)), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json().accepted, 50);
    assert.equal((await readingRows(lake)).length, 0, 'acknowledged, not committed yet: commits are 10 min apart');

    // Three clients keep posting; SIGTERM goes out after a few more acknowledgements, with requests in flight.
    const acked: string[] = [];
    let signalled = false;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 3 });
    const poster = async (w: number): Promise<void> => {
      for (let i = 0; i < 200; i++) {
        const readings = batch(`term-${w + 1}`, t0 + i * 1000, 100);
        try {
          const res = await call(`${url}/v1/readings`, { agent, token: secrets.ingest, body: JSON.stringify(readings), headers: { 'content-type': 'application/json' } });
          if (res.status !== 200) {
            assert.ok(signalled && res.status === 503, `status ${res.status} ${res.text}`);
            return; // closing: refused, not acknowledged
          }
          acked.push(...readings.map((x) => `${x.sensor_id}|${x.ts}`));
          if (!signalled && acked.length >= 600) {
            signalled = true;
            serve.kill('SIGTERM');
          }
        } catch (e) {
          if (!signalled) throw e;
          return; // the server is gone
        }
      }
    };
    await Promise.all([0, 1, 2].map(poster));
    agent.destroy();
    assert.ok(signalled);
    assert.equal(await serve.exited, 0, serve.stderrText());
    assert.match(serve.stderrText(), /SIGTERM: finishing requests in flight/);

    const rows = await readingRows(lake);
    const keys = new Set(rows.map((x) => `${x.sensor_id}|${new Date(Number(x.ts / 1000n)).toISOString()}`));
    assert.equal(keys.size, rows.length, 'no reading twice');
    for (const b of batch('term-0', t0, 50)) assert.ok(keys.has(`term-0|${b.ts}`), 'the first batch was committed at shutdown');
    const lost = acked.filter((k) => !keys.has(k));
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} of ${acked.length} acknowledged readings missing after SIGTERM`);
  } finally {
    if (serve.exitCode === null) serve.kill('SIGKILL');
  }
});

test('kill -9 under load, then restart: every acknowledged reading is in readings exactly once (our reader and delta-rs)', async (t) => {
  const lake = path.join(scratch.dir, 'lake-kill');
  const peersReady = startPeers(); // the Python peer starts while the load runs
  peersReady.catch(() => undefined);
  const first = spawnServe(['--lake', lake, '--tokens', tokensFile, '--commit-ms', '150']);
  const acked: string[] = []; // JSON of each acknowledged batch's readings
  let sent = 0;
  let failed = 0;
  try {
    const url = await first.url;
    await waitReady(url, secrets.read);
    const killAfter = 12 + (SEED % 25); // acknowledged requests before the kill
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const t0 = Date.parse('2024-06-02T00:00:00Z');
    let killed = false;
    const deadline = Date.now() + 30_000;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; i < 500 && Date.now() < deadline; i++) {
        const readings = batch(`kill-${w}`, t0 + i * 1000, 250);
        sent++;
        try {
          const r = await call(`${url}/v1/readings`, { agent, token: secrets.ingest, body: JSON.stringify(readings), headers: { 'content-type': 'application/json' } });
          if (r.status !== 200) throw new Error(`status ${r.status}: ${r.text}`);
          assert.equal(r.json().accepted, 250);
          acked.push(JSON.stringify(readings));
          if (!killed && acked.length >= killAfter) {
            killed = true;
            first.kill('SIGKILL');
          }
        } catch (e) {
          if (!killed) throw e;
          failed++;
          return; // the server is gone: this worker stops
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    agent.destroy();
    assert.ok(killed, `the server was killed (seed ${SEED})`);
    assert.equal(await first.exited, null, 'it died of SIGKILL');
  } finally {
    if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL');
  }

  const second = spawnServe(['--lake', lake, '--tokens', tokensFile, '--commit-ms', '150']);
  try {
    await waitReady(await second.url, secrets.read);
    second.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.stderrText());
  } finally {
    if (second.exitCode === null) second.kill('SIGKILL');
  }

  const rows = await readingRows(lake);
  const count = new Map<string, number>();
  for (const r of rows) count.set(`${r.sensor_id}|${r.ts}`, (count.get(`${r.sensor_id}|${r.ts}`) ?? 0) + 1);
  const dupes = [...count].filter(([, n]) => n > 1);
  assert.deepEqual(dupes.slice(0, 5), [], `no reading twice (seed ${SEED})`);
  let missing = 0;
  for (const b of acked) {
    for (const x of JSON.parse(b) as { ts: string; sensor_id: string }[]) if (count.get(`${x.sensor_id}|${BigInt(Date.parse(x.ts)) * 1000n}`) !== 1) missing++;
  }
  assert.equal(missing, 0, `${missing} acknowledged readings are missing (seed ${SEED}; ${acked.length} of ${sent} requests acknowledged, ${failed} failed at the kill)`);
  assert.ok(rows.length >= acked.length * 250 && rows.length <= sent * 250, `rows ${rows.length}: acked ${acked.length * 250}, sent ${sent * 250}`);

  t.diagnostic(`seed ${SEED}: ${acked.length} of ${sent} requests acknowledged, ${failed} cut by the kill; ${rows.length} rows after restart`);
  peers = await peersReady;
  const table = path.join(lake, 'readings');
  const ours = canonicalRows(await (await DeltaTable.open(table)).read({ columns: ['sensor_id', 'ts', 'value'] }), { ts: 'timestamp' });
  const theirs = await peers.deltaRsRead(table, { columns: ['sensor_id', 'ts', 'value'] });
  assert.equal(theirs.rows.length, rows.length, 'delta-rs sees as many rows');
  assert.deepEqual(theirs.rows, ours, 'delta-rs reads the same rows');
});
