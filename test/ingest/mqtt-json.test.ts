// `sensorlake ingest mqtt` end to end with JSON payloads: a real mosquitto, the CLI as a child process on the real
// ingest core, the lake read back. Readings on many topics named by the topic map land exactly; undecodable payloads
// are acknowledged and quarantined with their bytes while the client goes on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { MqttClient } from 'mqtt';
import { tempDir } from '../helpers.js';
import { publisher, readingRows, startBroker, startIngest, tableRows, until, type Broker, type IngestProcess, type Row } from './mqtt-helpers.js';

const scratch = tempDir('sensorlake-mqtt-json-');
const lake = path.join(scratch.dir, 'lake');
let broker: Broker;
let ingest: IngestProcess;
let pub: MqttClient;

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const iso = (sec: number): string => new Date(T0 + sec * 1000).toISOString();
const isoUs = (sec: number): string => iso(sec).replace('Z', '000Z');

before(async () => {
  broker = startBroker();
  ingest = await startIngest([
    '--url', broker.url,
    '--lake', lake,
    '--client-id', 'test-mqtt-json',
    '--topic-map', 'plant/{site}/{line}/{sensor}=>{site}.{line}.{sensor}',
    '--commit-ms', '100',
  ]);
  pub = await publisher(broker.url, 'test-mqtt-json-pub');
});

after(async () => {
  await pub?.endAsync();
  ingest?.kill('SIGKILL');
  broker?.stop();
  scratch.cleanup();
});

const byRaw = (a: { raw: unknown }, b: { raw: unknown }): number => (String(a.raw) < String(b.raw) ? -1 : String(a.raw) > String(b.raw) ? 1 : 0);

let published = 0;
async function send(topic: string, payload: string | Buffer): Promise<void> {
  await pub.publishAsync(topic, payload, { qos: 1 });
  published++;
}

test('JSON objects, arrays, NDJSON and bare values on many topics land in readings exactly, named by the topic map', async () => {
  const expected: Row[] = [];
  const row = (topic: string, sensor: string, sec: number, value: number | null, text: string | null = null, quality: number | null = 0): Row => ({
    ts: isoUs(sec), sensor_id: sensor, value, value_text: text, quality, source: `mqtt:${topic}` });
  let sec = 0;
  for (const site of ['north', 'south']) {
    for (const line of ['l1', 'l2']) {
      for (const sensor of ['temp', 'flow']) {
        const topic = `plant/${site}/${line}/${sensor}`;
        const id = `${site}.${line}.${sensor}`;
        // One object.
        const a = ++sec;
        await send(topic, JSON.stringify({ ts: iso(a), value: a / 10 }));
        expected.push(row(topic, id, a, a / 10));
        // An array, one reading with a quality word, one with epoch ms.
        const b = [++sec, ++sec, ++sec];
        await send(topic, JSON.stringify([{ ts: iso(b[0]), value: 1 }, { ts: iso(b[1]), value: 2, quality: 'bad' }, { ts: T0 + b[2] * 1000, value: '3.5' }]));
        expected.push(row(topic, id, b[0], 1), row(topic, id, b[1], 2, null, 0x80000000), row(topic, id, b[2], 3.5));
        // NDJSON.
        const c = [++sec, ++sec];
        await send(topic, `{"ts":"${iso(c[0])}","value":-1}\n{"ts":"${iso(c[1])}","value":-2}\n`);
        expected.push(row(topic, id, c[0], -1), row(topic, id, c[1], -2));
      }
    }
  }
  // A payload naming its sensor keeps it; a text value goes to value_text.
  const d = ++sec;
  await send('plant/north/l1/temp', JSON.stringify({ ts: iso(d), sensor_id: 'explicit.id', value: 7 }));
  expected.push(row('plant/north/l1/temp', 'explicit.id', d, 7));
  const e = ++sec;
  await send('plant/north/l1/valve', JSON.stringify({ ts: iso(e), value: 'OPEN' }));
  expected.push(row('plant/north/l1/valve', 'north.l1.valve', e, null, 'OPEN'));
  // A bare number: the topic is the sensor, the arrival time the ts.
  const sentAt = Date.now();
  await send('plant/south/l2/level', '42.5');

  const rows = await until(() => readingRows(lake), (r) => r.length >= expected.length + 1, 'all readings committed');
  const bare = rows.filter((r) => r.sensor_id === 'south.l2.level');
  assert.equal(bare.length, 1, 'the bare value is one reading');
  assert.equal(bare[0].value, 42.5);
  const bareMs = Date.parse(bare[0].ts);
  assert.ok(bareMs >= sentAt - 1000 && bareMs <= Date.now(), `bare value stamped on arrival: ${bare[0].ts}, published at ${new Date(sentAt).toISOString()}`);
  const byKey = (a: Row, b: Row) => (a.sensor_id < b.sensor_id ? -1 : a.sensor_id > b.sensor_id ? 1 : a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0);
  assert.deepEqual(rows.filter((r) => r.sensor_id !== 'south.l2.level'), expected.sort(byKey));
});

test('a payload that is not JSON at all is acknowledged and quarantined whole (malformed_record); the client goes on', async () => {
  await send('plant/north/l1/temp', 'garbage{');
  await send('plant/north/l1/temp', Buffer.from([0xff, 0x00, 0x01]));
  await send('plant/north/l1/temp', '');
  // In a good payload, a bad record is quarantined alone with its line.
  await send('plant/north/l2/temp', `{"ts":"${iso(900)}","value":9}\n{"ts":"not a time","value":1}`);
  await send('plant/north/l1/temp', JSON.stringify({ ts: iso(1000), value: 10 }));

  const rows = await until(() => readingRows(lake), (r) => r.some((x) => x.ts === isoUs(1000)), 'the reading after the malformed payloads');
  assert.ok(rows.some((r) => r.sensor_id === 'north.l2.temp' && r.ts === isoUs(900) && r.value === 9));
  const q = await until(() => tableRows(path.join(lake, 'quarantine')), (r) => r.length >= 4, 'the quarantined records');
  const got = q
    .map((r) => ({ raw: r.raw, reason: r.reason, source_file: r.source_file, location_kind: r.location_kind }))
    .sort(byRaw);
  assert.deepEqual(got, [
    { raw: '', reason: 'malformed_record', source_file: 'mqtt:plant/north/l1/temp', location_kind: 'offset' },
    { raw: 'base64:/wAB', reason: 'malformed_record', source_file: 'mqtt:plant/north/l1/temp', location_kind: 'offset' },
    { raw: 'garbage{', reason: 'malformed_record', source_file: 'mqtt:plant/north/l1/temp', location_kind: 'offset' },
    { raw: '{"ts":"not a time","value":1,"sensor_id":"north.l2.temp"}', reason: 'bad_timestamp', source_file: 'mqtt:plant/north/l2/temp', location_kind: 'line' },
  ].sort(byRaw));
  const bad = q.find((r) => r.raw === 'base64:/wAB')!;
  assert.match(String(bad.message), /not UTF-8/);
});

test('a full ingest buffer holds PUBACKs back and retries: every reading still lands once', async () => {
  // A second server on its own lake whose buffer holds 5 rows: most submits meet a full buffer until a commit.
  const small = await startIngest(['--url', broker.url, '--lake', path.join(scratch.dir, 'lake-small'), '--client-id', 'test-mqtt-buffer', '--topic', 'buf/+', '--buffer-rows', '5', '--commit-ms', '200']);
  try {
    for (let i = 0; i < 30; i++) await pub.publishAsync(`buf/s${i % 3}`, JSON.stringify([{ ts: iso(2000 + 2 * i), value: i }, { ts: iso(2001 + 2 * i), value: -i }]), { qos: 1 });
    const rows = await until(() => readingRows(path.join(scratch.dir, 'lake-small')), (r) => r.length >= 60, 'all 60 readings');
    assert.equal(rows.length, 60);
    assert.deepEqual(new Set(rows.map((r) => `${r.sensor_id}@${r.ts}`)).size, 60);
  } finally {
    const { code, summary } = await small.stop();
    assert.equal(code, 0, small.stderrText);
    assert.equal(summary.acked, 30);
    assert.ok((summary.bufferFullWaits as number) > 0, `the buffer was full at times: ${JSON.stringify(summary)}`);
  }
});

test('stopping commits everything and reports every message acknowledged; exit code 3 for the quarantined records', async () => {
  const { code, summary } = await ingest.stop();
  assert.equal(code, 3, `exit code; stderr:\n${ingest.stderrText}`);
  assert.equal(summary.messages, published);
  assert.equal(summary.acked, published, 'every message was acknowledged, the undecodable ones too');
  assert.equal(summary.quarantined, 4);
});
