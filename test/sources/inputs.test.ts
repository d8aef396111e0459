// resolveInputs (files, directories, globs, gzip by content, progress in raw bytes, missing inputs) and detectFormat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { NotFoundError, InvalidRecordError } from '../../src/errors.js';
import type { SourceInput } from '../../src/sources/batch.js';
import { detectFormat, resolveInputs } from '../../src/sources/inputs.js';
import { tempDir } from '../helpers.js';

async function text(input: SourceInput): Promise<string> {
  const parts: Buffer[] = [];
  for await (const b of input.open()) parts.push(b);
  return Buffer.concat(parts).toString('utf8');
}

function tree(): { dir: string; cleanup: () => void } {
  const t = tempDir('sources-inputs-');
  mkdirSync(path.join(t.dir, 'b', 'deep'), { recursive: true });
  mkdirSync(path.join(t.dir, '.hidden'));
  writeFileSync(path.join(t.dir, 'b', 'deep', 'z.csv'), 'z\n');
  writeFileSync(path.join(t.dir, 'a.csv'), 'a\n');
  writeFileSync(path.join(t.dir, 'b', 'c.jsonl'), 'c\n');
  writeFileSync(path.join(t.dir, '.secret.csv'), 'hidden\n');
  writeFileSync(path.join(t.dir, '.hidden', 'x.csv'), 'hidden\n');
  writeFileSync(path.join(t.dir, 'b', 'g.csv.gz'), gzipSync('gz\n'));
  for (const sidecar of ['sensors.csv', 'truth.json', '_SUCCESS']) writeFileSync(path.join(t.dir, sidecar), 'not data\n');
  return t;
}

test('a directory is read recursively, hidden, _-prefixed and sidecar files (sensors.csv, truth.json) skipped, sorted by path', async () => {
  const t = tree();
  try {
    const inputs = await resolveInputs(t.dir);
    const rel = inputs.map((i) => path.relative(t.dir, i.file));
    assert.deepEqual(rel, ['a.csv', 'b/c.jsonl', 'b/deep/z.csv', 'b/g.csv.gz']);
    assert.deepEqual(await Promise.all(inputs.map(text)), ['a\n', 'c\n', 'z\n', 'gz\n']);
    assert.deepEqual((await resolveInputs(path.join(t.dir, 'sensors.csv'))).length, 1, 'named explicitly, a sidecar is read');
  } finally {
    t.cleanup();
  }
});

test('globs, several specs in order, and a file named twice is read once', async () => {
  const t = tree();
  try {
    const inputs = await resolveInputs([path.join(t.dir, 'b', '**', '*.csv'), path.join(t.dir, 'a.csv'), path.join(t.dir, 'b', 'deep', 'z.csv')]);
    assert.deepEqual(
      inputs.map((i) => path.relative(t.dir, i.file)),
      ['b/deep/z.csv', 'a.csv'],
    );
  } finally {
    t.cleanup();
  }
});

test('relative globs give paths relative to the working directory, as the user wrote them', async () => {
  const t = tree();
  const cwd = process.cwd();
  try {
    process.chdir(t.dir);
    const inputs = await resolveInputs('b/*.jsonl');
    assert.deepEqual(inputs.map((i) => i.file), ['b/c.jsonl']);
  } finally {
    process.chdir(cwd);
    t.cleanup();
  }
});

test('gzip is detected by its magic bytes, whatever the name says, and progress counts compressed bytes', async () => {
  const t = tempDir('sources-inputs-');
  try {
    const body = 'ts,sensor_id,value\n' + Array.from({ length: 20_000 }, (_, i) => `2024-01-01T00:00:00Z,s${i % 7},${i}`).join('\n');
    const gz = gzipSync(body);
    writeFileSync(path.join(t.dir, 'disguised.csv'), gz); // gzip without .gz
    writeFileSync(path.join(t.dir, 'plain.csv.gz'), body); // .gz that is not gzip
    writeFileSync(path.join(t.dir, 'two-members.gz'), Buffer.concat([gzipSync('first,'), gzipSync('second')]));
    const [disguised, plain, two] = await resolveInputs([path.join(t.dir, 'disguised.csv'), path.join(t.dir, 'plain.csv.gz'), path.join(t.dir, 'two-members.gz')]);
    assert.equal(disguised.gzip, true);
    assert.equal(disguised.size, gz.length);
    assert.equal(await text(disguised), body);
    assert.equal(disguised.bytesRead(), gz.length, 'all compressed bytes consumed');
    assert.equal(plain.gzip, false);
    assert.equal(await text(plain), body);
    assert.equal(plain.bytesRead(), Buffer.byteLength(body));
    assert.equal(await text(two), 'first,second');
  } finally {
    t.cleanup();
  }
});

test('broken gzip data fails naming the file', async () => {
  const t = tempDir('sources-inputs-');
  try {
    const gz = gzipSync('x'.repeat(100_000));
    const file = path.join(t.dir, 'broken.csv.gz');
    writeFileSync(file, gz.subarray(0, 40)); // truncated
    const [input] = await resolveInputs(file);
    await assert.rejects(text(input), (e: Error) => e instanceof InvalidRecordError || /unexpected end/.test(e.message));
    writeFileSync(file, Buffer.concat([gz.subarray(0, 10), Buffer.alloc(50, 0xff)]));
    await assert.rejects(text((await resolveInputs(file))[0]), (e: Error) => e instanceof InvalidRecordError && e.message.includes(file));
  } finally {
    t.cleanup();
  }
});

test('a missing path, a glob matching nothing and an empty directory throw NotFoundError naming them', async () => {
  const t = tempDir('sources-inputs-');
  try {
    const missing = path.join(t.dir, 'nope.csv');
    await assert.rejects(resolveInputs(missing), (e: Error) => e instanceof NotFoundError && e.message.includes(missing));
    const pattern = path.join(t.dir, '*.parquet');
    await assert.rejects(resolveInputs(pattern), (e: Error) => e instanceof NotFoundError && e.message.includes(pattern));
    mkdirSync(path.join(t.dir, 'empty'));
    writeFileSync(path.join(t.dir, 'empty', '.only-hidden'), '');
    await assert.rejects(resolveInputs(path.join(t.dir, 'empty')), NotFoundError);
    // One missing spec among good ones still fails the whole call.
    writeFileSync(path.join(t.dir, 'ok.csv'), '');
    await assert.rejects(resolveInputs([path.join(t.dir, 'ok.csv'), missing]), NotFoundError);
  } finally {
    t.cleanup();
  }
});

test('detectFormat: by extension (after .gz), the CSV header decides long or wide, magic bytes for unknown names', () => {
  const b = (s: string) => Buffer.from(s);
  assert.equal(detectFormat('x.csv', b('ts,sensor_id,value,quality\n1,a,2,0\n')), 'csv');
  assert.equal(detectFormat('x.csv', b('\ufeff"Timestamp";"Tag";"Value"\n')), 'csv');
  assert.equal(detectFormat('x.csv', b('ts,line1/temp,line1/pressure\n')), 'wide-csv');
  assert.equal(detectFormat('x.csv', b('timestamp,value\n')), 'wide-csv');
  assert.equal(detectFormat('x.csv', b('when,what,howmuch\n'), { ts: 'when', sensor_id: 'what', value: 'howmuch' }), 'csv');
  assert.equal(detectFormat('x.csv', b('onlyonecolumn\n')), null);
  assert.equal(detectFormat('X.CSV.GZ', b('ts\tsensor_id\tvalue\n')), 'csv');
  assert.equal(detectFormat('a.jsonl', b('')), 'jsonl');
  assert.equal(detectFormat('a.ndjson.gz', b('')), 'jsonl');
  assert.equal(detectFormat('a.json', b('')), 'pi-json');
  assert.equal(detectFormat('a.parquet', b('')), 'parquet');
  assert.equal(detectFormat('a.avro', b('')), 'avro');
  for (const ext of ['lp', 'line', 'influx']) assert.equal(detectFormat(`a.${ext}`, b('')), 'influx');
  assert.equal(detectFormat('a.bin', b('PAR1....')), 'parquet');
  assert.equal(detectFormat('a.dat', b('Obj\x01....')), 'avro');
  assert.equal(detectFormat('a.txt', b('hello')), null);
  assert.equal(detectFormat('noext', b('')), null);
});
