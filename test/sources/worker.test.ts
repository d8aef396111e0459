// readSourceInWorker: the same chunks as readSource (batches through Arrow IPC, rejects cloned), errors as the same
// class and message, at most a few chunks parsed ahead of the consumer, and never holding the process open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { NotFoundError, SchemaMismatchError } from '../../src/errors.js';
import type { SourceChunk } from '../../src/sources/batch.js';
import { readSource } from '../../src/sources/index.js';
import { resolveInputs } from '../../src/sources/inputs.js';
import type { SourceConfig, SourceFormat } from '../../src/sources/options.js';
import { readSourceInWorker } from '../../src/sources/worker.js';
import { REPO_ROOT, tempDir } from '../helpers.js';
import { chunkRows } from './chunk-rows.js';

const T0 = 1_704_067_200_000_000;

async function avroFile(file: string, n: number): Promise<void> {
  const schema = {
    type: 'record',
    name: 'R',
    fields: [
      { name: 'ts', type: 'long' },
      { name: 'sensor_id', type: 'string' },
      { name: 'value', type: ['null', 'double', 'string'] },
    ],
  } as avro.Schema;
  const enc = new avro.streams.BlockEncoder(schema, { codec: 'deflate' });
  const parts: Buffer[] = [];
  const done = new Promise<void>((resolve) => enc.on('end', resolve));
  enc.on('data', (b: Buffer) => parts.push(b));
  for (let i = 0; i < n; i++) enc.write({ ts: T0 + i, sensor_id: `s${i % 5}`, value: i % 97 === 0 ? null : i % 89 === 0 ? 'OFF' : i / 2 });
  enc.end();
  await done;
  writeFileSync(file, Buffer.concat(parts));
}

async function collect(gen: AsyncGenerator<SourceChunk>): Promise<SourceChunk[]> {
  const out: SourceChunk[] = [];
  for await (const c of gen) out.push(c);
  return out;
}

/** Everything a consumer can see of a chunk, batch as rows and schema. */
function view(c: SourceChunk): unknown {
  const { batch, ...meta } = c;
  return { ...meta, rows: chunkRows(c), schema: batch?.schema.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`) ?? null };
}

test('the worker yields exactly the chunks readSource yields (rows, rejects, counts, progress, schema)', async () => {
  const t = tempDir('sources-worker-');
  try {
    const file = path.join(t.dir, 'r.avro');
    await avroFile(file, 5000);
    const gz = path.join(t.dir, 'r.avro.gz');
    const { readFileSync } = await import('node:fs');
    writeFileSync(gz, gzipSync(readFileSync(file)));
    const config: SourceConfig = { batchRows: 700, time: { epochUnit: 'us' } };
    for (const f of [file, gz]) {
      const [input] = await resolveInputs(f);
      const direct = await collect(readSource(input, 'avro', config));
      const viaWorker = await collect(readSourceInWorker(f, 'avro', config));
      assert.equal(viaWorker.length, 8);
      assert.deepEqual(viaWorker.map(view), direct.map(view));
      assert.ok(viaWorker.some((c) => c.rejects.length > 0), 'rejects crossed too');
      assert.equal(viaWorker.flatMap((c) => c.rejects).length, 52);
      assert.ok(viaWorker.every((c) => c.batch === null || c.batch.schema.fields.length === 6));
    }
  } finally {
    t.cleanup();
  }
});

test('errors in the worker surface as the same class and message', async () => {
  const t = tempDir('sources-worker-');
  try {
    const missing = path.join(t.dir, 'missing.avro');
    const expected = await resolveInputs(missing).catch((e: Error) => e);
    await assert.rejects(collect(readSourceInWorker(missing, 'avro', {})), (e: Error) => e instanceof NotFoundError && e.message === (expected as Error).message);
    const file = path.join(t.dir, 'r.avro');
    await avroFile(file, 10);
    await assert.rejects(
      collect(readSourceInWorker(file, 'avro', { avro: { fields: { value: 'reading' } } })),
      (e: Error) => e instanceof SchemaMismatchError && e.message.includes(file) && e.message.includes("'reading'"),
    );
  } finally {
    t.cleanup();
  }
});

test('the worker runs at most a few chunks ahead of a slow consumer, and stops when the consumer does', async () => {
  const t = tempDir('sources-worker-');
  // Count the messages reaching this thread from source workers.
  let messages = 0;
  const emit = Worker.prototype.emit;
  Worker.prototype.emit = function (this: Worker, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'message' && (args[0] as { type?: string })?.type === 'chunk') messages++;
    return emit.call(this, event, ...args);
  } as typeof emit;
  try {
    const file = path.join(t.dir, 'r.avro');
    await avroFile(file, 20_000);
    const gen = readSourceInWorker(file, 'avro', { batchRows: 500 }); // 40 chunks
    const first = await gen.next();
    assert.equal(first.done, false);
    await new Promise((r) => setTimeout(r, 500)); // time enough to parse all 40 were it unbounded
    assert.ok(messages >= 2 && messages <= 6, `${messages} chunks arrived while the consumer held one`);
    await gen.return(undefined);
    const after = messages;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(messages, after, 'nothing arrives after return()');
  } finally {
    Worker.prototype.emit = emit;
    t.cleanup();
  }
});

test('an abandoned reader does not keep the process alive', async () => {
  const t = tempDir('sources-worker-');
  try {
    const file = path.join(t.dir, 'r.avro');
    await avroFile(file, 20_000);
    const script = path.join(t.dir, 'abandon.mjs');
    const worker = path.join(REPO_ROOT, 'dist', 'src', 'sources', 'worker.js');
    writeFileSync(
      script,
      `import { readSourceInWorker } from ${JSON.stringify(worker)};
const gen = readSourceInWorker(${JSON.stringify(file)}, 'avro', { batchRows: 500 });
const c = await gen.next();
console.log('got', c.value.recordsRead);
// neither finished nor returned: the process must still exit`,
    );
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.signal, null, 'exited on its own, not by the timeout');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'got 500');
  } finally {
    t.cleanup();
  }
});

test('every format name the registry knows reaches a reader', async () => {
  const t = tempDir('sources-worker-');
  try {
    const file = path.join(t.dir, 'r.avro');
    await avroFile(file, 3);
    const [input] = await resolveInputs(file);
    assert.throws(() => readSource(input, 'xlsx' as SourceFormat, {}), /unknown source format 'xlsx'/);
  } finally {
    t.cleanup();
  }
});
