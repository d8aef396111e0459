// The README's live-ingest examples (HTTP with curl, MQTT with mosquitto_pub), run as pasted: in a scratch directory
// that looks like the repository (bin, dist, scripts, node_modules, package.json linked), with only the HTTP port
// swapped for a free one. The README promises they work when pasted; this is what keeps that true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { readmeBlock as block, runPasted } from './readme-blocks.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('the README HTTP example: a token, a POST with one good and one bad reading, the reading read back', async () => {
  const port = await freePort();
  const out = runPasted(block('http').replaceAll('8080', String(port)));
  assert.match(out, /listening on http:\/\/127\.0\.0\.1:/);
  const [post, get] = out.slice(out.indexOf('{')).split(/(?<=\})(?=\{)/);
  const ack = JSON.parse(post) as { accepted: number; rejected: number; errors: { reason: string; index: number }[] };
  assert.equal(ack.accepted, 1);
  assert.equal(ack.rejected, 1);
  assert.deepEqual(ack.errors.map((e) => [e.reason, e.index]), [['type_mismatch', 1]]);
  const rows = (JSON.parse(get) as { rows: { ts: string; value: number }[] }).rows;
  assert.deepEqual(rows.map((r) => [r.ts, r.value]), [['2024-05-01T12:00:00.000Z', 71.3]]);
});

test('the README MQTT example: a JSON reading published to mosquitto lands in readings under its mapped name', () => {
  const out = runPasted(block('mqtt'));
  assert.match(out, /2024-05-01T12:00:00\.000000Z\s+north\.l1\.temp\s+71\.3\s+mqtt:plant\/north\/l1\/temp/);
  assert.match(out, /\(1 row\)/);
});
