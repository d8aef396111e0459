// `quality explain`: the deterministic brief (text and JSON) on a simulated lake, and the LLM path against a real
// chat-completions server on loopback that records what it was sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { buildBrief } from '../../src/quality/brief.js';
import { llmConfigFromEnv } from '../../src/quality/llm.js';
import { tempDir } from '../helpers.js';
import { cliAsync, simulatedLake } from './helpers.js';

const SENSOR = 'plant1/line1/pump1/temperature';
const AT = '2024-01-01T05:00:00Z';

interface Seen {
  url: string;
  auth: string | undefined;
  body: { model: string; messages: { role: string; content: string }[] };
}

/** A chat-completions server on 127.0.0.1: answers `status` with `answer`, recording each request. */
async function llmServer(answer: string, status = 200): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const read = async (req: IncomingMessage): Promise<string> => {
    let s = '';
    for await (const c of req) s += String(c);
    return s;
  };
  const server = createServer((req, res) => {
    void read(req).then((raw) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization, body: JSON.parse(raw) as Seen['body'] });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? JSON.stringify({ id: 'x', object: 'chat.completion', model: 'tiny-test', choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }] }) : '{"error":"overloaded"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/v1`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

test('explain: brief, JSON, and the LLM answer from a loopback chat-completions server', async (t) => {
  const tmp = tempDir('sensorlake-explain-');
  t.after(tmp.cleanup);
  const lake = path.join(tmp.dir, 'lake');
  await simulatedLake(tmp.dir, lake, '2024-01-01T00:00:00Z', '2024-01-01T06:00:00Z');

  const brief = await buildBrief(lake, { sensor: SENSOR, at: AT });
  assert.equal(brief.sensor.asset, 'plant1/line1/pump1');
  assert.equal(brief.sensor.intervalS, 100);
  assert.equal(brief.reading?.ts, '2024-01-01T05:00:00.000Z');
  assert.ok(brief.stats && brief.stats.percentile !== null && brief.stats.percentile >= 0 && brief.stats.percentile <= 100);
  // Five hours every 100 s before the moment, less any the simulator's faults took or marked bad.
  assert.ok(brief.stats.readings > 170 && brief.stats.readings <= 180, String(brief.stats.readings));
  assert.equal(brief.anomalySource, 'computed', 'no quality run yet');
  assert.deepEqual(brief.leaders.map((l) => l.sensorId), ['plant1/line1/pump1/motor_current'], 'motor current leads the bearing temperature');
  assert.ok(brief.leaders[0].lagS > 0);

  // Without an endpoint: the deterministic brief only.
  const noLlm = { ...process.env, SENSORLAKE_LLM_URL: '', SENSORLAKE_LLM_MODEL: '' };
  const plain = await cliAsync(['quality', 'explain', '--lake', lake, '--sensor', SENSOR, '--at', AT], noLlm);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^Incident brief: plant1\/line1\/pump1\/temperature at 2024-01-01T05:00:00.000Z/);
  assert.match(plain.stdout, /leading it:\n {4}plant1\/line1\/pump1\/motor_current: leads by \d+ s/);
  assert.doesNotMatch(plain.stdout, /LLM/);
  const json = await cliAsync(['quality', 'explain', '--lake', lake, '--sensor', SENSOR, '--at', AT, '--json'], noLlm);
  const parsed = JSON.parse(json.stdout) as { brief: { sensor: { id: string }; stats: { percentile: number } }; llm: unknown };
  assert.equal(parsed.brief.sensor.id, SENSOR);
  assert.equal(parsed.llm, null);

  // With an endpoint: the brief goes out as the prompt; the answer is printed beside it.
  const llm = await llmServer('Bearing temperature follows the motor current; nothing abnormal at 05:00.');
  t.after(llm.close);
  const env = { ...process.env, SENSORLAKE_LLM_URL: llm.url, SENSORLAKE_LLM_MODEL: 'tiny-test', SENSORLAKE_LLM_KEY: 'k-123' };
  const r = await cliAsync(['quality', 'explain', '--lake', lake, '--sensor', SENSOR, '--at', AT], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Incident brief: plant1\/line1\/pump1\/temperature/);
  assert.match(r.stdout, /LLM \(tiny-test\):\n {2}Bearing temperature follows the motor current; nothing abnormal at 05:00\./);
  assert.equal(llm.seen.length, 1);
  const req = llm.seen[0];
  assert.equal(req.url, '/v1/chat/completions');
  assert.equal(req.auth, 'Bearer k-123');
  assert.equal(req.body.model, 'tiny-test');
  assert.deepEqual(req.body.messages.map((m) => m.role), ['system', 'user']);
  const prompt = req.body.messages[1].content;
  assert.ok(prompt.includes(`"id": "${SENSOR}"`), 'the brief as JSON');
  assert.ok(prompt.includes(`"percentile": ${parsed.brief.stats.percentile}`), 'with its statistics');
  assert.ok(prompt.includes('leading it:'), 'and as text');
  assert.ok(prompt.includes('plant1/line1/pump1/motor_current'));

  // A failing endpoint: the brief is still printed, the exit code says the LLM part failed.
  const down = await llmServer('', 503);
  t.after(down.close);
  const bad = await cliAsync(['quality', 'explain', '--lake', lake, '--sensor', SENSOR, '--at', AT], { ...env, SENSORLAKE_LLM_URL: down.url });
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /Incident brief/);
  assert.match(bad.stderr, /LlmError: LLM endpoint http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: HTTP 503/);
});

test('the LLM settings come from the environment, with the model required', () => {
  assert.equal(llmConfigFromEnv({}), null);
  assert.deepEqual(llmConfigFromEnv({ SENSORLAKE_LLM_URL: 'http://127.0.0.1:8080/v1/', SENSORLAKE_LLM_MODEL: 'm' }), {
    url: 'http://127.0.0.1:8080/v1/chat/completions',
    model: 'm',
    key: null,
    timeoutMs: 60_000,
  });
  assert.equal(llmConfigFromEnv({ SENSORLAKE_LLM_URL: 'http://h/v1/chat/completions', SENSORLAKE_LLM_MODEL: 'm', SENSORLAKE_LLM_TIMEOUT_S: '5' })?.url, 'http://h/v1/chat/completions');
  assert.throws(() => llmConfigFromEnv({ SENSORLAKE_LLM_URL: 'http://h/v1' }), /SENSORLAKE_LLM_MODEL/);
  assert.throws(() => llmConfigFromEnv({ SENSORLAKE_LLM_URL: 'not a url', SENSORLAKE_LLM_MODEL: 'm' }), /not a URL/);
});
