// readSources: a directory of mixed binary exports read file after file with formats detected (or forced by config),
// and a file whose format cannot be told failing before any chunk is yielded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, InvalidRecordError } from '../../src/errors.js';
import type { SourceChunk } from '../../src/sources/batch.js';
import { readSources } from '../../src/sources/index.js';
import { REPO_ROOT, tempDir } from '../helpers.js';
import { chunkRows } from './chunk-rows.js';

const T0 = 1_704_067_200_000_000;

function parquetFile(file: string, sensor: string): void {
  const code = `import sys, pyarrow as pa, pyarrow.parquet as pq
pq.write_table(pa.table({'ts': pa.array([${T0}, ${T0 + 1}], pa.timestamp('us', tz='UTC')), 'sensor_id': ['${sensor}'] * 2, 'value': [1.0, 2.0]}), sys.argv[1])`;
  const r = spawnSync(path.join(REPO_ROOT, '.venv', 'bin', 'python'), ['-c', code, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

async function avroFile(file: string, sensor: string): Promise<void> {
  const schema = { type: 'record', name: 'R', fields: [{ name: 'ts', type: { type: 'long', logicalType: 'timestamp-micros' } }, { name: 'sensor_id', type: 'string' }, { name: 'value', type: 'double' }] };
  const enc = avro.createFileEncoder(file, schema as avro.Schema);
  const done = new Promise<void>((resolve) => enc.on('finish', resolve));
  enc.write({ ts: T0 + 2, sensor_id: sensor, value: 3 });
  enc.end();
  await done;
  await new Promise((r) => setTimeout(r, 50)); // the file stream closes just after the encoder finishes
}

async function collect(gen: AsyncGenerator<SourceChunk>): Promise<SourceChunk[]> {
  const out: SourceChunk[] = [];
  for await (const c of gen) out.push(c);
  return out;
}

test('a directory of Parquet and Avro files (one without an extension) is read in path order', async () => {
  const t = tempDir('sources-read-');
  try {
    mkdirSync(path.join(t.dir, 'b'));
    parquetFile(path.join(t.dir, 'a.parquet'), 'pa');
    await avroFile(path.join(t.dir, 'b', 'c.avro'), 'av');
    parquetFile(path.join(t.dir, 'b', 'export-7'), 'magic'); // recognised by its PAR1 magic
    const chunks = await collect(readSources(t.dir));
    assert.deepEqual(chunks.map((c) => path.relative(t.dir, c.file)), ['a.parquet', 'b/c.avro', 'b/export-7']);
    assert.deepEqual(chunks.flatMap(chunkRows).map((r) => [r.sensor_id, r.ts, r.value]), [['pa', T0, 1], ['pa', T0 + 1, 2], ['av', T0 + 2, 3], ['magic', T0, 1], ['magic', T0 + 1, 2]]);
  } finally {
    t.cleanup();
  }
});

test('text formats are told apart: long and wide CSV by header, JSON lines and line protocol by extension', async () => {
  const t = tempDir('sources-read-');
  try {
    writeFileSync(path.join(t.dir, 'a.csv'), 'ts,sensor_id,value\n2024-01-01T00:00:00Z,s1,1.5\n');
    writeFileSync(path.join(t.dir, 'b.csv'), 'ts,line1/temp,line1/flow\n2024-01-01T00:00:00Z,20.5,3\n');
    writeFileSync(path.join(t.dir, 'c.jsonl'), '{"ts":"2024-01-01T00:00:00Z","sensor_id":"j","value":7}\n');
    writeFileSync(path.join(t.dir, 'd.lp'), 'temp,site=a v=1.5 1704067200000000000\n');
    const rows = (await collect(readSources(t.dir))).flatMap((c) => chunkRows(c).map((r) => [path.basename(c.file), r.sensor_id, r.value, r.ts]));
    assert.deepEqual(rows, [
      ['a.csv', 's1', 1.5, T0],
      ['b.csv', 'line1/temp', 20.5, T0],
      ['b.csv', 'line1/flow', 3, T0],
      ['c.jsonl', 'j', 7, T0],
      ['d.lp', 'temp/v', 1.5, T0],
    ]);
  } finally {
    t.cleanup();
  }
});

test('config.format overrides detection; an unknown format fails before the first chunk', async () => {
  const t = tempDir('sources-read-');
  try {
    await avroFile(path.join(t.dir, 'a.avro'), 'av');
    writeFileSync(path.join(t.dir, 'notes.txt'), 'hello');
    const gen = readSources(t.dir);
    await assert.rejects(gen.next(), (e: Error) => e instanceof InvalidArgumentError && e.message.includes('notes.txt'));
    // Forced to Avro, the text file is read as Avro, and fails as one.
    await assert.rejects(collect(readSources(t.dir, { format: 'avro' })), (e: Error) => e instanceof InvalidRecordError && e.message.includes('notes.txt'));
  } finally {
    t.cleanup();
  }
});
