// `sensorlake ingest mqtt` end to end with Sparkplug B: NBIRTH/DBIRTH define metrics with aliases, NDATA/DDATA carry
// only aliases (and, as Sparkplug 3.0 recommends, no datatype), one metric is historical and one is null. Rows land
// with <group>/<edge>[/<device>]/<metric> ids, values and timestamps; an unknown alias is quarantined and the edge
// node asked to rebirth; births survive a restart of the ingest process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { MqttClient } from 'mqtt';
import { get } from 'sparkplug-payload';
import proto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import { tempDir } from '../helpers.js';
import { publisher, readingRows, startBroker, startIngest, tableRows, until, type Broker, type IngestProcess, type Row } from './mqtt-helpers.js';

const sp = get('spBv1.0')!;
const RawPayload = proto.org.eclipse.tahu.protobuf.Payload;

const scratch = tempDir('sensorlake-mqtt-sparkplug-');
const lake = path.join(scratch.dir, 'lake');
const CLIENT = 'test-mqtt-sparkplug';
let broker: Broker;
let ingest: IngestProcess;
let pub: MqttClient;
const commands: { topic: string; metrics: { name?: string | null; value: unknown }[] }[] = [];

const T0 = Date.UTC(2024, 5, 1, 8, 0, 0);
const isoUs = (ms: number): string => new Date(ms).toISOString().replace('Z', '000Z');
const BAD = 0x80000000;

const args = ['--lake', '', '--client-id', CLIENT, '--topic', 'spBv1.0/#', '--commit-ms', '100'];

before(async () => {
  broker = startBroker();
  args[1] = lake;
  ingest = await startIngest(['--url', broker.url, ...args]);
  pub = await publisher(broker.url, 'test-sparkplug-edge');
  // Listens where rebirth requests go.
  pub.on('message', (topic, payload) => commands.push({ topic, metrics: (sp.decodePayload(payload).metrics ?? []) as { name?: string | null; value: unknown }[] }));
  await pub.subscribeAsync('spBv1.0/G1/NCMD/#', { qos: 1 });
});

after(async () => {
  await pub?.endAsync();
  ingest?.kill('SIGKILL');
  broker?.stop();
  scratch.cleanup();
});

/** A DATA payload as Sparkplug 3.0 edge nodes send it: aliases only, no names, no datatypes. */
function aliasOnly(timestamp: number, metrics: Record<string, unknown>[]): Buffer {
  return Buffer.from(RawPayload.encode(RawPayload.create({ timestamp, seq: 1, metrics })).finish());
}

test('BIRTH and alias-only DATA land as readings with the right sensor ids, values and timestamps', async () => {
  const send = (topic: string, payload: Uint8Array | string) => pub.publishAsync(topic, Buffer.from(payload), { qos: 1 });
  await send('spBv1.0/STATE/host-1', '{"online":true,"timestamp":1}');
  await send('spBv1.0/G1/NBIRTH/E1', sp.encodePayload({
    timestamp: T0,
    seq: 0,
    metrics: [
      { name: 'bdSeq', type: 'UInt64', value: 0 },
      { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
      { name: 'Temp', alias: 1, type: 'Double', value: 20.5 },
      { name: 'Running', alias: 2, type: 'Boolean', value: true },
    ],
  }));
  await send('spBv1.0/G1/DBIRTH/E1/D1', sp.encodePayload({
    timestamp: T0 + 1000,
    seq: 1,
    metrics: [
      { name: 'Speed', alias: 10, type: 'Int32', value: 1500 },
      { name: 'Mode', alias: 11, type: 'String', value: 'AUTO' },
      { name: 'Count', alias: 12, type: 'UInt32', value: 7 },
      { name: 'Motor', alias: 13, type: 'Template', value: { templateRef: 'MotorType', isDefinition: false, metrics: [
        { name: 'rpm', type: 'Int32', value: 1400 },
        { name: 'amps', type: 'Float', value: 3.5 },
      ] } },
    ],
  }));
  await send('spBv1.0/G1/NDATA/E1', aliasOnly(T0 + 2000, [{ alias: 1, doubleValue: 21.25, timestamp: T0 + 2500 }, { alias: 2, booleanValue: false }]));
  await send('spBv1.0/G1/DDATA/E1/D1', aliasOnly(T0 + 3000, [
    { alias: 10, intValue: 1600 },
    { alias: 12, intValue: 4_000_000_000 }, // UInt32 in int_value, as the specification says
    { alias: 11, stringValue: 'MANUAL', timestamp: T0 + 3100 },
    { alias: 10, intValue: 1200, timestamp: T0 - 60_000, isHistorical: true }, // store-and-forward backfill
    { alias: 11, isNull: true, timestamp: T0 + 3200 },
  ]));
  await send('spBv1.0/G1/DDATA/E1/D1', aliasOnly(T0 + 4000, [{ alias: 99, doubleValue: 1 }, { alias: 10, intValue: 1650 }]));
  await send('spBv1.0/G1/DDATA/E1/D1', Buffer.from('{"not":"protobuf"}'));

  const r = (sensor: string, ms: number, value: number | null, text: string | null = null, quality = 0): Row => ({
    ts: isoUs(ms), sensor_id: sensor, value, value_text: text, quality,
    source: `mqtt:spBv1.0/G1/${sensor.split('/').length > 3 ? 'DBIRTH/E1/D1' : 'NBIRTH/E1'}`,
  });
  const data = (row: Row, topic: string): Row => ({ ...row, source: `mqtt:${topic}` });
  const expected: Row[] = [
    r('G1/E1/Temp', T0, 20.5),
    r('G1/E1/Running', T0, 1, 'true'),
    r('G1/E1/D1/Speed', T0 + 1000, 1500),
    r('G1/E1/D1/Mode', T0 + 1000, null, 'AUTO'),
    r('G1/E1/D1/Count', T0 + 1000, 7),
    r('G1/E1/D1/Motor/rpm', T0 + 1000, 1400),
    r('G1/E1/D1/Motor/amps', T0 + 1000, 3.5),
    data(r('G1/E1/Temp', T0 + 2500, 21.25), 'spBv1.0/G1/NDATA/E1'),
    data(r('G1/E1/Running', T0 + 2000, 0, 'false'), 'spBv1.0/G1/NDATA/E1'),
    data(r('G1/E1/D1/Speed', T0 + 3000, 1600), 'spBv1.0/G1/DDATA/E1/D1'),
    data(r('G1/E1/D1/Count', T0 + 3000, 4_000_000_000), 'spBv1.0/G1/DDATA/E1/D1'),
    data(r('G1/E1/D1/Mode', T0 + 3100, null, 'MANUAL'), 'spBv1.0/G1/DDATA/E1/D1'),
    data(r('G1/E1/D1/Speed', T0 - 60_000, 1200), 'spBv1.0/G1/DDATA/E1/D1'),
    data(r('G1/E1/D1/Mode', T0 + 3200, null, null, BAD), 'spBv1.0/G1/DDATA/E1/D1'),
    data(r('G1/E1/D1/Speed', T0 + 4000, 1650), 'spBv1.0/G1/DDATA/E1/D1'),
  ].sort((a, b) => (a.sensor_id < b.sensor_id ? -1 : a.sensor_id > b.sensor_id ? 1 : a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));

  const rows = await until(() => readingRows(lake), (x) => x.length >= expected.length, 'the Sparkplug readings');
  assert.deepEqual(rows, expected);

  const q = await until(() => tableRows(path.join(lake, 'quarantine')), (x) => x.length >= 2, 'the quarantined records');
  const unknown = q.find((x) => x.reason === 'missing_sensor_id');
  assert.ok(unknown, `an unknown alias is quarantined as missing_sensor_id: ${q.map((x) => `${x.reason}: ${x.message}`).join('; ')}`);
  assert.match(String(unknown.message), /alias 99/);
  assert.match(String(unknown.message), /DBIRTH of G1\/E1\/D1 does not define it/);
  assert.equal(unknown.source_file, 'mqtt:spBv1.0/G1/DDATA/E1/D1');
  assert.equal(JSON.parse(String(unknown.raw)).metric.alias, '99');
  const broken = q.find((x) => x.reason === 'malformed_record');
  assert.ok(broken, 'a payload that is not protobuf is quarantined');
  assert.equal(broken.raw, '{"not":"protobuf"}');
  assert.equal(q.length, 2);

  // The edge node was asked to rebirth.
  await until(async () => commands.length, (n) => n >= 1, 'the rebirth request');
  assert.equal(commands[0].topic, 'spBv1.0/G1/NCMD/E1');
  assert.deepEqual(commands[0].metrics.map((m) => [m.name, m.value]), [['Node Control/Rebirth', true]]);
});

test('stopping reports the historical readings, and the births survive a restart: alias-only DATA still resolves', async () => {
  const first = await ingest.stop();
  assert.equal(first.code, 3, `exit code 3 for the quarantined records; stderr:\n${ingest.stderrText}`);
  assert.equal(first.summary.historical, 1);
  assert.equal(first.summary.readings, 15);
  assert.equal(first.summary.quarantined, 2);
  assert.equal(first.summary.ignored, 1, 'the STATE message');

  ingest = await startIngest(['--url', broker.url, ...args]);
  await pub.publishAsync('spBv1.0/G1/DDATA/E1/D1', aliasOnly(T0 + 10_000, [{ alias: 10, intValue: 1700 }]), { qos: 1 });
  const rows = await until(() => readingRows(lake), (x) => x.length >= 16, 'the reading after the restart').catch((e: Error) => {
    throw new Error(`${e.message}\nstderr of the restarted ingest:\n${ingest.stderrText}`);
  });
  assert.deepEqual(rows.find((x) => x.ts === isoUs(T0 + 10_000)), {
    ts: isoUs(T0 + 10_000), sensor_id: 'G1/E1/D1/Speed', value: 1700, value_text: null, quality: 0, source: 'mqtt:spBv1.0/G1/DDATA/E1/D1',
  });
  const second = await ingest.stop();
  assert.equal(second.code, 0, `exit code; stderr:\n${ingest.stderrText}`);
  assert.equal(second.summary.quarantined, 0);
});
