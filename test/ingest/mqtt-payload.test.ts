// MQTT payload decoding without a broker: JSON in its forms (object, array, NDJSON, bare value) through the JSON Lines
// source, and Sparkplug B messages through BIRTH alias tables (kept in a file across restarts), datatypes, nulls,
// templates, transient and historical metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { get } from 'sparkplug-payload';
import proto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import type { SourceChunk } from '../../src/sources/batch.js';
import { JsonPayloadDecoder } from '../../src/ingest/mqtt/json-payload.js';
import { BirthStore } from '../../src/ingest/mqtt/sparkplug-births.js';
import { SparkplugDecoder } from '../../src/ingest/mqtt/sparkplug.js';
import { parseSparkplugTopic } from '../../src/ingest/mqtt/sparkplug-topic.js';
import { chunkRows, type Row } from '../sources/chunk-rows.js';
import { tempDir } from '../helpers.js';

const sp = get('spBv1.0')!;
const RawPayload = proto.org.eclipse.tahu.protobuf.Payload;
const ARRIVAL = Date.UTC(2024, 6, 1, 10, 0, 0);
const T = Date.UTC(2024, 0, 1);
const us = (ms: number): number => ms * 1000;
const BAD = 0x80000000 | 0;

function rows(chunks: SourceChunk[]): Row[] {
  return chunks.flatMap(chunkRows);
}
const rejects = (chunks: SourceChunk[]) => chunks.flatMap((c) => c.rejects);

const json = new JsonPayloadDecoder();
const decodeJson = (payload: string | Uint8Array, dec = json) =>
  dec.decode({ name: 'mqtt:plant/a/temp', payload: typeof payload === 'string' ? Buffer.from(payload) : payload, sensorId: 'a.temp', arrivalMs: ARRIVAL });

test('JSON: an object, an array and NDJSON; the topic names the sensor and arrival stamps the time when they are missing', async () => {
  const one = await decodeJson(`{"ts":"${new Date(T).toISOString()}","value":1.5,"quality":"uncertain"}`);
  assert.deepEqual(rows(one).map((r) => [r.sensor_id, r.ts, r.value, r.quality]), [['a.temp', us(T), 1.5, 0x40000000]]);

  const array = await decodeJson(JSON.stringify([{ value: 2 }, { ts: T, sensor_id: 'other', value: '3' }, 5]));
  assert.deepEqual(rows(array).map((r) => [r.sensor_id, r.ts, r.value, r.location]), [['a.temp', us(ARRIVAL), 2, 1], ['other', us(T), 3, 2]]);
  assert.deepEqual(rejects(array).map((r) => [r.reason, r.location]), [['malformed_record', 3]]);

  const nd = await decodeJson(`{"ts":${T},"value":1}\n{"ts":${T},"value":\n{"ts":${T + 1000},"value_text":"OPEN"}\r\n`);
  assert.deepEqual(rows(nd).map((r) => [r.ts, r.value, r.value_text, r.location]), [[us(T), 1, null, 1], [us(T + 1000), null, 'OPEN', 3]]);
  assert.deepEqual(rejects(nd).map((r) => [r.reason, r.location, r.raw]), [['malformed_record', 2, `{"ts":${T},"value":`]]);
});

test('JSON: bare values are readings of the topic at arrival; anything that is not JSON is one malformed_record', async () => {
  assert.deepEqual(rows(await decodeJson(' 21.5 ')).map((r) => [r.sensor_id, r.ts, r.value, r.value_text]), [['a.temp', us(ARRIVAL), 21.5, null]]);
  assert.deepEqual(rows(await decodeJson('"CLOSED"')).map((r) => [r.value, r.value_text]), [[null, 'CLOSED']]);
  assert.deepEqual(rows(await decodeJson('true')).map((r) => [r.value, r.value_text]), [[1, 'true']]);
  for (const [payload, raw, message] of [
    ['OPEN', 'OPEN', /not a JSON object, array, NDJSON or bare JSON value/],
    ['[1,', '[1,', /not valid JSON/],
    ['  ', '  ', /empty payload/],
    [new Uint8Array([0xc3, 0x28]), 'base64:wyg=', /not UTF-8/],
  ] as const) {
    const c = await decodeJson(payload);
    assert.equal(rows(c).length, 0);
    assert.deepEqual(rejects(c).map((r) => [r.reason, r.raw, r.file, r.locationKind]), [['malformed_record', raw, 'mqtt:plant/a/temp', 'offset']]);
    assert.match(rejects(c)[0].message, message);
  }
});

test('JSON: field paths and timestamp rules as for the JSON Lines source; arrival follows the epoch unit', async () => {
  const dec = new JsonPayloadDecoder({ fields: { ts: 't', value: 'reading.v', sensor_id: 'meta.tag' }, time: { format: 'epoch', epochUnit: 's' } });
  const c = await decodeJson(JSON.stringify([{ t: T / 1000, reading: { v: 4 }, meta: { tag: 'x' } }, { reading: { v: 5 } }, 6]), dec);
  assert.deepEqual(rows(c).map((r) => [r.sensor_id, r.ts, r.value]), [['x', us(T), 4], ['a.temp', us(ARRIVAL), 5]]);
  assert.equal(rejects(c).length, 1, 'a bare value inside an array is not an object');
});

async function sparkplug(file: string | null = null) {
  const births = await BirthStore.open(file);
  return { births, dec: new SparkplugDecoder(births) };
}

test('Sparkplug topics: node and device messages, host STATE, and what is not Sparkplug', () => {
  assert.deepEqual(parseSparkplugTopic('spBv1.0/G/DDATA/E/D'), { kind: 'device', type: 'DDATA', group: 'G', edge: 'E', device: 'D' });
  assert.deepEqual(parseSparkplugTopic('spBv1.0/G/NBIRTH/E'), { kind: 'node', type: 'NBIRTH', group: 'G', edge: 'E', device: null });
  assert.deepEqual(parseSparkplugTopic('spBv1.0/STATE/host'), { kind: 'state', host: 'host' });
  assert.deepEqual(parseSparkplugTopic('STATE/host'), { kind: 'state', host: 'host' });
  assert.match(String(parseSparkplugTopic('spBv1.0/G/NDATA/E/D')), /a NDATA topic has group and edge node, no device/);
  assert.match(String(parseSparkplugTopic('spBv1.0/G/XDATA/E')), /is not spBv1.0\/<group>/);
});

test('Sparkplug: DATA aliases resolve through the last BIRTH; NBIRTH voids the device births; unknown aliases are rejected', async () => {
  const { dec } = await sparkplug();
  const birth = dec.decode('spBv1.0/G/NBIRTH/E', 'n', sp.encodePayload({ timestamp: T, metrics: [
    { name: 'bdSeq', type: 'UInt64', value: 3 },
    { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
    { name: 'Temp', alias: 1, type: 'Float', value: 1.5 },
  ] }), ARRIVAL);
  assert.deepEqual(rows(birth.chunks).map((r) => [r.sensor_id, r.ts, r.value]), [['G/E/Temp', us(T), 1.5]]);
  dec.decode('spBv1.0/G/DBIRTH/E/D', 'd', sp.encodePayload({ timestamp: T, metrics: [{ name: 'Level', alias: 2, type: 'Int16', value: -3 }] }), ARRIVAL);

  const data = dec.decode('spBv1.0/G/DDATA/E/D', 'dd', Buffer.from(RawPayload.encode(RawPayload.create({ metrics: [{ alias: 2, intValue: -4 & 0xffff }] })).finish()), ARRIVAL);
  assert.deepEqual(rows(data.chunks).map((r) => [r.sensor_id, r.ts, r.value]), [['G/E/D/Level', us(ARRIVAL), -4]], 'no timestamp anywhere: arrival');

  // A new NBIRTH starts a new session: the device must be born again before its aliases mean anything.
  dec.decode('spBv1.0/G/NBIRTH/E', 'n', sp.encodePayload({ timestamp: T + 1, metrics: [{ name: 'Temp', alias: 1, type: 'Float', value: 1 }] }), ARRIVAL);
  const stale = dec.decode('spBv1.0/G/DDATA/E/D', 'dd', Buffer.from(RawPayload.encode(RawPayload.create({ timestamp: T + 2, metrics: [{ alias: 2, intValue: 5 }] })).finish()), ARRIVAL);
  assert.equal(rows(stale.chunks).length, 0);
  assert.deepEqual(rejects(stale.chunks).map((r) => r.reason), ['missing_sensor_id']);
  assert.match(rejects(stale.chunks)[0].message, /alias 2 and no name, and no DBIRTH of G\/E\/D has been seen/);
  assert.deepEqual(stale.rebirth, { group: 'G', edge: 'E' });
});

test('Sparkplug values: every scalar type, null, templates, transient and historical metrics, Quality', async () => {
  const { dec } = await sparkplug();
  const r = dec.decode('spBv1.0/G/NBIRTH/E', 'n', sp.encodePayload({ timestamp: T, metrics: [
    { name: 'i64', type: 'Int64', value: -5 },
    { name: 'u64', type: 'UInt64', value: 2 ** 40 },
    { name: 'd', type: 'Double', value: 0.25, timestamp: T + 7 },
    { name: 'b', type: 'Boolean', value: false },
    { name: 's', type: 'String', value: 'RUN', properties: { Quality: { type: 'Int32', value: 192 } } },
    { name: 'bad', type: 'Float', value: 1, properties: { Quality: { type: 'Int32', value: 0 } } },
    { name: 'when', type: 'DateTime', value: T },
    { name: 'gone', type: 'Float', value: null },
    { name: 'tr', type: 'Float', value: 9, isTransient: true },
    { name: 'old', type: 'Float', value: 8, timestamp: T - 1000, isHistorical: true },
    { name: 'm', type: 'Template', value: { templateRef: 'Motor', isDefinition: false, metrics: [{ name: 'rpm', type: 'Int32', value: 10 }] } },
    { name: '_types_/Motor', type: 'Template', value: { isDefinition: true, metrics: [{ name: 'rpm', type: 'Int32', value: 0 }] } },
    { name: 'blob', type: 'Bytes', value: new Uint8Array([1, 2]) },
    { name: 'nan', type: 'Double', value: NaN },
  ] }), ARRIVAL);
  assert.deepEqual(rows(r.chunks).map((x) => [x.sensor_id, x.ts, x.value, x.value_text, x.quality]), [
    ['G/E/i64', us(T), -5, null, null],
    ['G/E/u64', us(T), 2 ** 40, null, null],
    ['G/E/d', us(T + 7), 0.25, null, null],
    ['G/E/b', us(T), 0, 'false', null],
    ['G/E/s', us(T), null, 'RUN', 0],
    ['G/E/bad', us(T), 1, null, BAD],
    ['G/E/when', us(T), null, new Date(T).toISOString(), null],
    ['G/E/gone', us(T), null, null, BAD],
    ['G/E/old', us(T - 1000), 8, null, null],
    ['G/E/m/rpm', us(T), 10, null, null],
  ]);
  assert.deepEqual(rejects(r.chunks).map((x) => [x.reason, x.location]), [['type_mismatch', 12], ['non_finite', 13]]);
  assert.equal(r.historical, 1);
  assert.equal(r.transient, 1);
  assert.match(rejects(r.chunks)[0].message, /'blob' is a Sparkplug Bytes/);
  assert.equal(JSON.parse(rejects(r.chunks)[0].raw).metric.value, 'base64:AQI=');
});

test('Sparkplug births are kept in a file: a new decoder resolves aliases; NDEATH of the current session clears them', async () => {
  const scratch = tempDir('sensorlake-births-');
  try {
    const file = path.join(scratch.dir, 'state', 'sparkplug-births.json');
    const a = await sparkplug(file);
    a.dec.decode('spBv1.0/G/NBIRTH/E', 'n', sp.encodePayload({ timestamp: T, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 7 }, { name: 'P', alias: 4, type: 'UInt32', value: 1 }] }), ARRIVAL);
    await a.births.persist();

    const b = await sparkplug(file);
    const alias4 = Buffer.from(RawPayload.encode(RawPayload.create({ timestamp: T + 1, metrics: [{ alias: 4, intValue: 3_000_000_000 }] })).finish());
    assert.deepEqual(rows(b.dec.decode('spBv1.0/G/NDATA/E', 'x', alias4, ARRIVAL).chunks).map((x) => [x.sensor_id, x.value]), [['G/E/P', 3_000_000_000]]);

    // The will of an earlier session (bdSeq 6) leaves the births alone; the current one's (7) clears them.
    const death = (bd: number) => sp.encodePayload({ timestamp: T + 2, metrics: [{ name: 'bdSeq', type: 'UInt64', value: bd }] });
    assert.equal(rows(b.dec.decode('spBv1.0/G/NDEATH/E', 'x', death(6), ARRIVAL).chunks).length, 0);
    assert.ok(b.births.birthOf('G', 'E', null));
    b.dec.decode('spBv1.0/G/NDEATH/E', 'x', death(7), ARRIVAL);
    assert.equal(b.births.birthOf('G', 'E', null), undefined);
    await b.births.persist();
    const c = await sparkplug(file);
    assert.equal(c.births.birthOf('G', 'E', null), undefined);
  } finally {
    scratch.cleanup();
  }
});
