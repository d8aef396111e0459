// POST /v1/readings end to end: a real server over a real ingestor on a temp lake. Each body format lands its rows in
// `readings` (read back with DeltaTable) and its per-record errors in the response and in `quarantine`; a retry with
// the same Idempotency-Key counts once; malformed bodies, oversize bodies, wrong content types and a full buffer get
// clear 4xx answers and the server keeps serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../helpers.js';
import { call, post, quarantineRows, readingRows, startServer, us, type Running } from './http-helpers.js';

const scratch = tempDir('sensorlake-http-ingest-');
let run: Running;

before(async () => {
  // Bodies are decoded on a worker thread here (the other servers decode on the event loop): both paths are tested.
  run = await startServer(path.join(scratch.dir, 'main'), { decodeWorkers: 1 });
});
after(async () => {
  await run?.close();
  scratch.cleanup();
});

interface Ack {
  accepted: number;
  rejected: number;
  errors: { reason: string; message: string; index?: number; line?: number }[];
  position: number;
  duplicate: boolean;
}

async function rowsOf(sensorPrefix: string) {
  await run.ingest.flush();
  return (await readingRows(run.lake)).filter((r) => r.sensor_id.startsWith(sensorPrefix)).sort((a, b) => (a.ts < b.ts ? -1 : 1));
}

async function rejectsOf(marker: string) {
  await run.ingest.flush();
  return (await quarantineRows(run.lake)).filter((r) => String(r.raw).includes(marker)).sort((a, b) => Number(a.location) - Number(b.location));
}

test('a JSON array: good items land in readings, bad ones are listed by index and quarantined', async () => {
  const body = JSON.stringify([
    { ts: '2024-03-01T00:00:00Z', sensor_id: 'json-1', value: 1.5 },
    { ts: '2024-03-01T00:00:01Z', sensor_id: 'json-1', value: 'oops' },
    { ts: '2024-03-01T00:00:02Z', sensor_id: 'json-1', value: 2.5, quality: 'bad' },
    { ts: '2024-03-01T00:00:03Z', value: 3 },
    { ts: '2024-03-01T00:00:04Z', sensor_id: 'json-2', value: null, value_text: 'OPEN' },
  ]);
  const r = await post(run, body, 'application/json');
  assert.equal(r.status, 200, r.text);
  const ack = r.json<Ack>();
  assert.equal(ack.accepted, 3);
  assert.equal(ack.rejected, 2);
  assert.equal(ack.duplicate, false);
  // 'oops' is read as a text reading; the core's validation refuses text for a sensor that reports numbers.
  assert.deepEqual(ack.errors.map((e) => [e.index, e.reason]), [[1, 'type_mismatch'], [3, 'missing_sensor_id']]);

  const rows = await rowsOf('json-');
  assert.deepEqual(
    rows.map((x) => [x.sensor_id, x.ts, x.value, x.value_text, x.quality, x.source]),
    [
      ['json-1', us('2024-03-01T00:00:00Z'), 1.5, null, 0n, 'http:all'],
      ['json-1', us('2024-03-01T00:00:02Z'), 2.5, null, 0x80000000n, 'http:all'],
      ['json-2', us('2024-03-01T00:00:04Z'), null, 'OPEN', 0n, 'http:all'],
    ],
  );
  const q = await rejectsOf('2024-03-01T00:00:0');
  assert.deepEqual(q.map((x) => [x.reason, Number(x.location), x.location_kind, x.source_file]), [
    ['type_mismatch', 1, 'record', 'http:all'],
    ['missing_sensor_id', 3, 'record', 'http:all'],
  ]);
});

test('an NDJSON body: readings land, a broken line is reported by line number and quarantined', async () => {
  const body = [
    '{"ts":"2024-03-02T00:00:00Z","sensor_id":"nd-1","value":10}',
    '{"ts":"2024-03-02T00:00:01Z","sensor_id":"nd-1","value":11',
    '',
    '{"ts":1709337602000,"sensor_id":"nd-1","value":"12.5"}',
  ].join('\n');
  const r = await post(run, body, 'application/x-ndjson; charset=utf-8');
  assert.equal(r.status, 200, r.text);
  const ack = r.json<Ack>();
  assert.equal(ack.accepted, 2);
  assert.deepEqual(ack.errors.map((e) => [e.line, e.reason]), [[2, 'malformed_record']]);
  const rows = await rowsOf('nd-');
  assert.deepEqual(rows.map((x) => [x.ts, x.value]), [
    [us('2024-03-02T00:00:00Z'), 10],
    [us('2024-03-02T00:00:02Z'), 12.5],
  ]);
  const q = await rejectsOf('"2024-03-02T00:00:01Z"');
  assert.deepEqual(q.map((x) => [x.reason, Number(x.location), x.location_kind]), [['malformed_record', 2, 'line']]);
});

const READING_SCHEMA = {
  type: 'record',
  name: 'Reading',
  namespace: 'plant',
  fields: [
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'sensor_id', type: 'string' },
    { name: 'value', type: ['null', 'double'] },
  ],
};
const readingType = avro.Type.forSchema(READING_SCHEMA as avro.Schema);

async function ocf(records: unknown[]): Promise<Buffer> {
  const enc = new avro.streams.BlockEncoder(readingType, { codec: 'null' });
  const parts: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => enc.on('end', resolve).on('error', reject));
  enc.on('data', (b: Buffer) => parts.push(b));
  for (const r of records) enc.write(r);
  enc.end();
  await done;
  return Buffer.concat(parts);
}

test('an Avro object container body: readings land with µs timestamps, a null value is reported by record index', async () => {
  const t0 = Number(us('2024-03-03T00:00:00Z'));
  const body = await ocf([
    { ts: t0 + 1, sensor_id: 'ocf-1', value: 0.25 },
    { ts: t0 + 2, sensor_id: 'ocf-1', value: null },
    { ts: t0 + 3, sensor_id: 'ocf-2', value: -4 },
  ]);
  const r = await post(run, body, 'application/avro');
  assert.equal(r.status, 200, r.text);
  const ack = r.json<Ack>();
  assert.equal(ack.accepted, 2);
  assert.deepEqual(ack.errors.map((e) => [e.index, e.reason]), [[1, 'bad_value']]);
  const rows = await rowsOf('ocf-');
  assert.deepEqual(rows.map((x) => [x.sensor_id, x.ts, x.value]), [
    ['ocf-1', BigInt(t0 + 1), 0.25],
    ['ocf-2', BigInt(t0 + 3), -4],
  ]);
  const q = (await quarantineRows(run.lake)).filter((x) => String(x.raw).includes('ocf-1'));
  assert.deepEqual(q.map((x) => [x.reason, Number(x.location), x.location_kind]), [['bad_value', 1, 'record']]);
});

test('Avro single-object messages: register the schema (admin), then post messages back to back; unknown fingerprints get a 400', async () => {
  const reg = await call(`${run.url}/v1/schemas`, { token: run.secrets.admin, body: JSON.stringify(READING_SCHEMA), headers: { 'content-type': 'application/json' } });
  assert.equal(reg.status, 201, reg.text);
  const { fingerprint, header } = reg.json<{ fingerprint: string; header: string }>();
  assert.match(fingerprint, /^[0-9a-f]{16}$/);
  assert.equal(header, `c301${fingerprint}`);
  const again = await call(`${run.url}/v1/schemas`, { token: run.secrets.admin, body: JSON.stringify(READING_SCHEMA), headers: { 'content-type': 'application/json' } });
  assert.equal(again.status, 200, 'registering the same schema again changes nothing');
  const listed = await call(`${run.url}/v1/schemas`, { token: run.secrets.read });
  assert.deepEqual(listed.json<{ schemas: { fingerprint: string }[] }>().schemas.map((s) => s.fingerprint), [fingerprint]);

  const t0 = Number(us('2024-03-04T00:00:00Z'));
  const msg = (rec: unknown) => Buffer.concat([Buffer.from(header, 'hex'), readingType.toBuffer(rec)]);
  const body = Buffer.concat([
    msg({ ts: t0, sensor_id: 'so-1', value: 7 }),
    msg({ ts: t0 + 1000, sensor_id: 'so-1', value: 8 }),
    msg({ ts: t0 + 2000, sensor_id: 'so-1', value: Number.NaN }),
    msg({ ts: t0 + 3000, sensor_id: 'so-2', value: 9 }),
  ]);
  const r = await post(run, body, 'application/avro');
  assert.equal(r.status, 200, r.text);
  const ack = r.json<Ack>();
  assert.equal(ack.accepted, 3);
  assert.deepEqual(ack.errors.map((e) => [e.index, e.reason]), [[2, 'non_finite']]);
  const rows = await rowsOf('so-');
  assert.deepEqual(rows.map((x) => [x.sensor_id, x.ts, x.value]), [
    ['so-1', BigInt(t0), 7],
    ['so-1', BigInt(t0 + 1000), 8],
    ['so-2', BigInt(t0 + 3000), 9],
  ]);

  const unknown = Buffer.concat([Buffer.from('c3010102030405060708', 'hex'), readingType.toBuffer({ ts: t0, sensor_id: 'so-x', value: 1 })]);
  const bad = await post(run, unknown, 'application/avro');
  assert.equal(bad.status, 400);
  assert.equal(bad.json().error, 'unknown_schema');
  assert.match(bad.json<{ message: string }>().message, /0102030405060708.*not registered/);
  const cut = await post(run, body.subarray(0, body.length - 3), 'application/avro');
  assert.equal(cut.status, 400);
  assert.match(cut.json<{ message: string }>().message, /message 3 at byte \d+ is cut short/);
});

test('a retried POST with the same Idempotency-Key is acknowledged as a duplicate and counted once, in rows and metrics', async () => {
  const metric = async (name: string): Promise<number> => {
    const text = (await call(`${run.url}/metrics`, { token: run.secrets.read })).text;
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  const body = JSON.stringify([1, 2, 3, 4].map((i) => ({ ts: `2024-03-05T00:00:0${i}Z`, sensor_id: 'idem-1', value: i })));
  const before = await metric('sensorlake_ingest_rows_total');
  const first = await post(run, body, 'application/json', { 'idempotency-key': 'batch-0001' });
  const second = await post(run, body, 'application/json', { 'idempotency-key': 'batch-0001' });
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  const a = first.json<Ack>();
  const b = second.json<Ack>();
  assert.deepEqual([a.accepted, a.duplicate], [4, false]);
  assert.deepEqual([b.accepted, b.duplicate, b.position], [4, true, a.position]);
  assert.equal((await rowsOf('idem-')).length, 4);
  assert.equal((await metric('sensorlake_ingest_rows_total')) - before, 4);
  assert.equal(await metric('sensorlake_ingest_duplicate_requests_total'), 1);
  const other = await post(run, body, 'application/json', { 'idempotency-key': 'batch-0002' });
  assert.equal(other.json<Ack>().duplicate, false, 'another key is another request');
});

test('malformed JSON and Avro bodies get a 400 naming what and where, and the next request succeeds', async () => {
  const good = JSON.stringify([{ ts: '2024-03-06T00:00:00Z', sensor_id: 'after-bad', value: 1 }]);
  const cases: [Buffer | string, string, RegExp][] = [
    ['[{"ts":"2024-03-06T00:00:00Z",\n "sensor_id": x}]', 'application/json', /not valid JSON at byte 45 \(line 2, column 15\): Unexpected token 'x'$/],
    ['[{"ts":"2024-03-06T00:00:00Z"', 'application/json', /not valid JSON at byte 29 \(line 1, column 30\)/],
    ['{"ts":"2024-03-06T00:00:00Z","sensor_id":"a","value":1}', 'application/json', /expected a JSON array.*got an object/],
    ['', 'application/json', /not valid JSON.*empty/],
    [Buffer.from('Obj\x01garbage that is no avro header at all', 'latin1'), 'application/avro', /Avro/],
    [Buffer.from([1, 2, 3, 4, 5]), 'application/avro', /not Avro: expected an object container file.*at byte 0, found 01020304/],
  ];
  for (const [body, type, message] of cases) {
    const r = await post(run, body, type);
    assert.equal(r.status, 400, `${type} ${String(body).slice(0, 40)}: ${r.text}`);
    assert.equal(r.json().error, 'malformed_body');
    assert.match(r.json<{ message: string }>().message, message);
    const ok = await post(run, good, 'application/json');
    assert.equal(ok.status, 200, 'the server keeps serving after a bad body');
  }
});

test('a gzip body is decompressed; an unknown Content-Encoding gets 415, broken gzip 400', async () => {
  const body = gzipSync(JSON.stringify([{ ts: '2024-03-08T00:00:00Z', sensor_id: 'gz-1', value: 42 }]));
  const r = await post(run, body, 'application/json', { 'content-encoding': 'gzip' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual((await rowsOf('gz-')).map((x) => x.value), [42]);
  const br = await post(run, body, 'application/json', { 'content-encoding': 'br' });
  assert.equal(br.status, 415);
  assert.match(br.json<{ message: string }>().message, /Content-Encoding br is not supported/);
  const broken = await post(run, body.subarray(0, 20), 'application/json', { 'content-encoding': 'gzip' });
  assert.equal(broken.status, 400);
  assert.match(broken.json<{ message: string }>().message, /not valid gzip data/);
});

test('an unsupported content type gets 415 and a missing one too', async () => {
  const r = await post(run, 'ts,sensor_id,value\n', 'text/csv');
  assert.equal(r.status, 415);
  assert.equal(r.json().error, 'unsupported_media_type');
  assert.match(r.json<{ message: string }>().message, /application\/json, application\/x-ndjson, application\/avro/);
  const none = await call(`${run.url}/v1/readings`, { token: run.secrets.all, body: '[]' });
  assert.equal(none.status, 415);
});

test('a body over the limit gets 413, a full buffer 429 with Retry-After; both servers keep serving', async () => {
  // This one decodes on the event loop, the main one on a worker: the limits hold on both paths.
  const small = await startServer(path.join(scratch.dir, 'small'), { bodyLimit: 1024, bufferRows: 5, commitMs: 600_000 });
  try {
    const rows = (n: number, from: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ ts: from + i * 1000, sensor_id: 'lim-1', value: i })));
    const t0 = Date.parse('2024-03-07T00:00:00Z');
    const big = await post(small, JSON.stringify(Array.from({ length: 40 }, (_, i) => ({ ts: t0 + i, sensor_id: 'lim-big', value: i }))), 'application/json');
    assert.equal(big.status, 413);
    assert.equal(big.json().error, 'body_too_large');
    assert.match(big.json<{ message: string }>().message, /1024 bytes/);
    const bomb = await post(small, gzipSync(Buffer.alloc(100_000, 32)), 'application/json', { 'content-encoding': 'gzip' });
    assert.equal(bomb.status, 413, 'the limit holds for the decompressed body too');

    assert.equal((await post(small, rows(3, t0), 'application/json')).status, 200);
    const full = await post(small, rows(3, t0 + 10_000), 'application/json');
    assert.equal(full.status, 429, full.text);
    assert.equal(full.json().error, 'buffer_full');
    assert.match(String(full.headers['retry-after']), /^[1-9]\d*$/);
    const br = await post(small, rows(1, t0), 'application/json', { 'content-encoding': 'br' });
    assert.equal(br.status, 415, 'an unknown encoding is refused inline too');
    await small.ingest.flush(); // what the commit timer would do: the buffer drains
    assert.equal((await post(small, rows(3, t0 + 10_000), 'application/json')).status, 200);
    await small.ingest.flush();
    assert.equal((await readingRows(small.lake)).length, 6);
  } finally {
    await small.close();
  }
});
