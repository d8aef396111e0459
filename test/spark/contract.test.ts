// The shared contract cannot drift: contract.json must be what the TypeScript engine's definitions build today, its
// quality words must parse to their codes, the pinned Spark versions must be the test venv's, and the Python job must
// name a job by the same id as job-id.ts does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { defaultJobId } from '../../src/backfill/job-id.js';
import { buildContract, contractPath, QUALITY_WORDS, readContractFile, SPARK_VERSIONS } from '../../src/spark/contract.js';
import { QUALITY } from '../../src/backfill/lake.js';
import { makeQualityParser } from '../../src/sources/quality.js';
import { REPO_ROOT, tempDir } from '../helpers.js';

const PYTHON = ['.venv/bin/python', 'python3'].map((p) => (p.includes('/') ? path.join(REPO_ROOT, p) : p)).find((p) => spawnSync(p, ['-c', 'pass']).status === 0)!;

/** Runs Python with src/spark on its path; `code` reads JSON from stdin and prints JSON. */
function python(code: string, input: unknown): unknown {
  const r = spawnSync(PYTHON, ['-c', code], { input: JSON.stringify(input), encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(REPO_ROOT, 'src', 'spark') } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as unknown;
}

test('contract.json is what src/spark/contract.ts builds (regenerate: node dist/src/spark/contract.js --write)', () => {
  assert.equal(contractPath(), path.join(REPO_ROOT, 'src', 'spark', 'contract.json'));
  assert.deepEqual(readContractFile(), JSON.parse(JSON.stringify(buildContract())));
});

test('the contract holds the reject reasons, quality codes and every report key', () => {
  const c = buildContract() as { reject_reasons: string[]; quality: { codes: Record<string, number>; words: Record<string, number> }; report: { keys: string[] } };
  assert.equal(c.reject_reasons.length, 10);
  assert.ok(c.reject_reasons.includes('out_of_range_time') && c.reject_reasons.includes('malformed_record'));
  assert.deepEqual(c.quality.codes, { good: 0, uncertain: 0x40000000, bad: 0x80000000 });
  assert.equal(c.report.keys[0], 'job_id');
  assert.equal(c.report.keys.at(-1), 'balanced');
});

test('every quality word of the contract parses to its code in the TypeScript sources', () => {
  const parse = makeQualityParser();
  for (const [word, cls] of Object.entries(QUALITY_WORDS)) {
    assert.equal(parse(word), QUALITY[cls], word);
    assert.equal(parse(word.toUpperCase()), QUALITY[cls], word.toUpperCase());
  }
  assert.equal(parse('nonsense'), null);
});

test('the pinned Spark versions are the test venv\'s and setup-peers.sh\'s', () => {
  const req = readFileSync(path.join(REPO_ROOT, 'scripts', 'peers-requirements.txt'), 'utf8');
  assert.match(req, new RegExp(`^pyspark==${SPARK_VERSIONS.pyspark.replace(/\./g, '\\.')}$`, 'm'));
  assert.match(req, new RegExp(`^delta-spark==${SPARK_VERSIONS.delta_spark.replace(/\./g, '\\.')}$`, 'm'));
  const setup = readFileSync(path.join(REPO_ROOT, 'scripts', 'setup-peers.sh'), 'utf8');
  assert.match(setup, new RegExp(`spark_avro_version="${SPARK_VERSIONS.spark_avro}"`));
  assert.match(setup, new RegExp(`delta_version="${SPARK_VERSIONS.delta_spark}"`));
  assert.equal(SPARK_VERSIONS.spark_avro, SPARK_VERSIONS.pyspark, 'spark-avro is released with Spark itself');
});

test('the Python job computes the same default job id as job-id.ts', () => {
  const t = tempDir('sensorlake-contract-');
  try {
    const file = path.join(t.dir, 'readings ünïcode.csv');
    writeFileSync(file, 'ts,sensor_id,value\n');
    const cases = [
      { sourceConfig: {}, sensorList: null, mode: 'merge', onConflict: 'keep-existing', windowUs: 86_400e6, fromUs: null, toUs: null, partition: 'date' },
      { sourceConfig: { format: 'csv', csv: { delimiter: ';', decimal: ',' }, quality: { map: { '192': 'good' } } }, sensorList: 'sensor_id,kind\na/b,state\n', mode: 'replace', onConflict: 'keep-incoming', windowUs: 3600e6, fromUs: 1_709_251_200_000_000, toUs: 1_709_337_600_123_456, partition: 'month' },
    ];
    for (const c of cases) {
      const inputs = [{ file, source: 'readings ünïcode.csv', size: 19, mtimeMs: 1_709_251_200_123.4, format: 'csv' as const, spec: file, wholeSpec: true }];
      const ours = defaultJobId({ inputs, ...c });
      const theirs = python(
        'import json,sys; from sensorlake_spark.inputs import default_job_id; a=json.load(sys.stdin); print(json.dumps(default_job_id(*a)))',
        [[{ file, size: 19, mtime: 1_709_251_200_123.4, format: 'csv' }], c.sourceConfig, c.sensorList, c.mode, c.onConflict, c.windowUs, c.fromUs, c.toUs, c.partition],
      );
      assert.equal(theirs, ours);
    }
  } finally {
    t.cleanup();
  }
});
