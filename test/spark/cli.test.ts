// `sensorlake spark-job --print` writes a job that runs on its own (contract embedded, package zipped for --py-files)
// and submit commands for EMR, Dataproc and Databricks pinned to the job's versions; `backfill` refuses Spark flags
// without --engine spark. No Spark is started here.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildContract, SPARK_VERSIONS } from '../../src/spark/contract.js';
import { REPO_ROOT, tempDir } from '../helpers.js';

const BIN = path.join(REPO_ROOT, 'bin', 'sensorlake.js');
const PYTHON = [path.join(REPO_ROOT, '.venv', 'bin', 'python'), 'python3'].find((p) => spawnSync(p, ['-c', 'pass']).status === 0)!;
const scratch = tempDir('sensorlake-spark-cli-');
after(() => scratch.cleanup());

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('spark-job --print writes a self-contained job and submit commands for EMR, Dataproc and Databricks', () => {
  const out = path.join(scratch.dir, 'job');
  const r = cli(['spark-job', '--print', '--out', out, '--job-uri', 's3://bucket/sl/', '--source', 's3://bucket/exports/', '--lake', 's3://bucket/lake', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const { files, commands } = JSON.parse(r.stdout) as { files: { job: string; zip: string }; commands: Record<string, string> };
  assert.ok(existsSync(files.job) && existsSync(files.zip));
  assert.deepEqual(Object.keys(commands).sort(), ['databricks', 'dataproc', 'emr', 'spark-submit']);
  for (const c of [commands.emr, commands.dataproc, commands['spark-submit']]) {
    assert.ok(c.includes(`io.delta:delta-spark_${SPARK_VERSIONS.scala}:${SPARK_VERSIONS.delta_spark}`), c);
    assert.ok(c.includes(`spark-avro_${SPARK_VERSIONS.scala}:${SPARK_VERSIONS.spark_avro}`), c);
  }
  for (const c of Object.values(commands)) {
    assert.ok(c.includes('s3://bucket/exports/') && c.includes('s3://bucket/lake'), c);
    assert.ok(c.includes('sensorlake_spark.zip'), c);
  }
  assert.doesNotThrow(() => JSON.parse(/--steps '(.*)'$/.exec(commands.emr)![1]), 'the EMR steps are JSON');
  // gcloud splits --properties at commas unless told another delimiter: the package list must stay one value.
  const props = /'--properties=\^#\^([^']*)'/.exec(commands.dataproc);
  assert.ok(props, commands.dataproc);
  assert.deepEqual(Object.fromEntries(props[1].split('#').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])), {
    'spark.jars.packages': `io.delta:delta-spark_${SPARK_VERSIONS.scala}:${SPARK_VERSIONS.delta_spark},org.apache.spark:spark-avro_${SPARK_VERSIONS.scala}:${SPARK_VERSIONS.spark_avro}`,
    'spark.sql.extensions': 'io.delta.sql.DeltaSparkSessionExtension',
    'spark.sql.catalog.spark_catalog': 'org.apache.spark.sql.delta.catalog.DeltaCatalog',
  });
  // The written job finds its contract in itself and its package in the zip, with no source tree beside it.
  const probe = spawnSync(PYTHON, ['-c', `import runpy; m = runpy.run_path(${JSON.stringify(files.job)}, run_name='probe'); import json; print(json.dumps(m['load_contract'](m['EMBEDDED_CONTRACT'])))`], {
    encoding: 'utf8',
    cwd: scratch.dir,
    env: { ...process.env, PYTHONPATH: files.zip },
  });
  assert.equal(probe.status, 0, probe.stderr);
  assert.deepEqual(JSON.parse(probe.stdout), JSON.parse(JSON.stringify(buildContract())));
  assert.match(readFileSync(files.job, 'utf8'), /^EMBEDDED_CONTRACT = "/m);
  // And finds the zip beside it on its own: `python3 backfill_job.py --help` works in the written folder as it is.
  const help = spawnSync(PYTHON, [files.job, '--help'], { encoding: 'utf8', cwd: scratch.dir, env: { ...process.env, PYTHONPATH: '' } });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /--stream/);
});

test('the job file refuses bad arguments with exit 2 before starting Spark', () => {
  const r = spawnSync(PYTHON, [path.join(REPO_ROOT, 'src', 'spark', 'backfill_job.py'), '--mode', 'sideways'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /invalid choice: 'sideways'/);
});

test('backfill refuses --master and --spark-conf without --engine spark (exit 2), and a malformed --spark-conf', () => {
  const a = cli(['backfill', '--source', 'x.csv', '--lake', path.join(scratch.dir, 'lake'), '--master', 'local[2]']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--master and --spark-conf go with --engine spark/);
  const b = cli(['backfill', '--source', 'x.csv', '--lake', path.join(scratch.dir, 'lake'), '--engine', 'spark', '--spark-conf', 'novalue']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--spark-conf 'novalue': expected key=value/);
});

test('backfill --engine spark refuses formats only the TypeScript engine reads (exit 2), before starting Spark', () => {
  const r = cli(['backfill', '--engine', 'spark', '--source', path.join(REPO_ROOT, 'package.json'), '--format', 'pi-json', '--lake', path.join(scratch.dir, 'lake')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /the Spark engine reads csv, wide-csv, jsonl, parquet, avro; pi-json input needs the TypeScript engine/);
});
