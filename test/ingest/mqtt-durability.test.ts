// kill -9 of `sensorlake ingest mqtt` mid-stream, twice, while a publisher keeps sending QoS 1 messages: every reading
// ends up in readings exactly once. The broker keeps the persistent session of the stable client id and redelivers
// what was not acknowledged; the PUBACK waits for the WAL, and the core drops redelivered readings it already holds by
// (sensor_id, ts). Each kill comes once the process has acknowledged some messages, while more are in flight.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { MqttClient } from 'mqtt';
import { tempDir } from '../helpers.js';
import { IngestProcess, publisher, readingRows, startBroker, startIngest, until, type Broker } from './mqtt-helpers.js';

const scratch = tempDir('sensorlake-mqtt-durable-');
const lake = path.join(scratch.dir, 'lake');
const ARGS = ['--lake', lake, '--client-id', 'test-mqtt-durable', '--topic', 'line/+/+', '--topic-map', 'line/{cell}/{sensor}=>{cell}.{sensor}', '--commit-ms', '50', '--stats-interval', '0.1'];
const TOPICS = ['line/c1/temp', 'line/c1/speed', 'line/c2/temp', 'line/c2/speed'];
const MESSAGES = 800;
const PER_MESSAGE = 4;
const T0 = Date.UTC(2024, 2, 1);

let broker: Broker;
let pub: MqttClient;
let running: IngestProcess | null = null;

before(async () => {
  broker = startBroker();
  pub = await publisher(broker.url, 'test-mqtt-durable-pub');
});

after(async () => {
  await pub?.endAsync();
  running?.kill('SIGKILL');
  broker?.stop();
  scratch.cleanup();
});

/** Message i: PER_MESSAGE readings of one topic, each with its own ts; value encodes (message, reading). */
function message(i: number): { topic: string; payload: string } {
  const topic = TOPICS[i % TOPICS.length];
  const items = Array.from({ length: PER_MESSAGE }, (_, k) => ({ ts: new Date(T0 + (i * PER_MESSAGE + k) * 1000).toISOString(), value: i * 10 + k }));
  return { topic, payload: JSON.stringify(items) };
}

/** Publishes every message, a few ms apart, so that the stream is still flowing when the ingest process is killed. */
async function publishAll(): Promise<void> {
  for (let i = 0; i < MESSAGES; i++) {
    const m = message(i);
    await pub.publishAsync(m.topic, m.payload, { qos: 1 });
    if (i % 4 === 3) await new Promise((r) => setTimeout(r, 8));
  }
}

/** kill -9 once the process has acknowledged some messages (its stats say so). */
async function killMidStream(p: IngestProcess): Promise<void> {
  await p.waitFor((e) => e.msg === 'mqtt stats' && (e.acked as number) > 0, 'some messages acknowledged');
  p.kill('SIGKILL');
  const { signal } = await p.exited;
  assert.equal(signal, 'SIGKILL');
}

test('every QoS 1 reading lands exactly once across two kill -9 of the ingest process', async (t) => {
  const a = (running = await startIngest(['--url', broker.url, ...ARGS]));
  const publishing = publishAll();
  await killMidStream(a);
  // Meanwhile the broker queues what is published in the session.
  const b = (running = await startIngest(['--url', broker.url, ...ARGS]));
  const connected = await b.waitFor((e) => e.msg === 'connected', 'the connection');
  assert.equal(connected.sessionPresent, true, 'the broker kept the session of the stable client id');
  await killMidStream(b);

  const c = (running = await startIngest(['--url', broker.url, ...ARGS]));
  await publishing;
  const total = MESSAGES * PER_MESSAGE;
  await until(() => readingRows(lake), (r) => r.length >= total, `all ${total} readings`, 60_000);
  const { code, summary } = await c.stop();
  running = null;
  assert.equal(code, 0, `exit code; stderr:\n${c.stderrText}`);
  assert.equal(summary.quarantined, 0);
  t.diagnostic(`last run: ${summary.messages} messages received (of ${MESSAGES} published), ${summary.duplicates} redelivered readings dropped as duplicates`);

  const rows = await readingRows(lake);
  const expected = new Map<string, number>();
  for (let i = 0; i < MESSAGES; i++) {
    const m = message(i);
    const id = m.topic.slice('line/'.length).replace('/', '.');
    for (const it of JSON.parse(m.payload) as { ts: string; value: number }[]) expected.set(`${id}@${it.ts.replace('Z', '000Z')}`, it.value);
  }
  const seen = new Map<string, number>();
  for (const r of rows) {
    const k = `${r.sensor_id}@${r.ts}`;
    assert.ok(!seen.has(k), `reading ${k} is in readings twice`);
    seen.set(k, r.value!);
  }
  const missing = [...expected.keys()].filter((k) => !seen.has(k));
  assert.deepEqual(missing, [], `${missing.length} readings are missing`);
  assert.equal(rows.length, expected.size);
  for (const [k, v] of expected) assert.equal(seen.get(k), v, `value of ${k}`);
});
