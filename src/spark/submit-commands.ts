// What `sensorlake spark-job --print` hands users of managed Spark: the job file with contract.json embedded, its
// Python package as a zip for --py-files, and ready submit commands for EMR, Dataproc and Databricks.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { JOB_FILE, packageZip, sparkHome, sparkPackages } from './launcher.js';

export interface JobFiles {
  job: string;
  zip: string;
}

/** Writes backfill_job.py (contract embedded, so it needs no contract.json beside it) and sensorlake_spark.zip. */
export function writeJobFiles(dir: string): JobFiles {
  mkdirSync(dir, { recursive: true });
  const contract = readFileSync(path.join(sparkHome(), 'src', 'spark', 'contract.json'), 'utf8');
  const source = readFileSync(JOB_FILE(), 'utf8');
  const marker = 'EMBEDDED_CONTRACT = None';
  if (!source.includes(marker)) throw new Error(`${JOB_FILE()}: no '${marker}' line to embed the contract at`);
  const job = path.join(dir, 'backfill_job.py');
  writeFileSync(job, source.replace(marker, `EMBEDDED_CONTRACT = ${JSON.stringify(JSON.stringify(JSON.parse(contract)))}`));
  return { job, zip: packageZip(dir) };
}

export interface SubmitTarget {
  /** Where the two files will be uploaded, e.g. s3://bucket/sensorlake/ or gs://bucket/sensorlake/. */
  jobUri: string;
  source: string;
  lake: string;
  sensors?: string;
}

/** The job's own arguments. */
function jobArgs(t: SubmitTarget): string[] {
  return ['--source', t.source, '--lake', t.lake, ...(t.sensors ? ['--sensors', t.sensors] : [])];
}

const q = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Submit commands, one block per platform, with the versions the job is pinned to. */
export function submitCommands(t: SubmitTarget): Record<'spark-submit' | 'emr' | 'dataproc' | 'databricks', string> {
  const base = t.jobUri.replace(/\/?$/, '/');
  const pkgs = sparkPackages().join(',');
  const delta = ['--conf', 'spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension', '--conf', 'spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog'];
  const args = jobArgs(t);
  const step = ['spark-submit', '--deploy-mode', 'cluster', '--packages', pkgs, ...delta, '--py-files', `${base}sensorlake_spark.zip`, `${base}backfill_job.py`, ...args];
  return {
    'spark-submit': ['spark-submit', '--master', 'spark://HOST:7077', '--packages', pkgs, ...delta, '--py-files', 'sensorlake_spark.zip', 'backfill_job.py', ...args].map(q).join(' '),
    emr: `aws emr add-steps --cluster-id j-XXXXXXXXXXXXX --steps '${JSON.stringify([{ Type: 'Spark', Name: 'sensorlake backfill', ActionOnFailure: 'CONTINUE', Args: step.slice(1) }])}'`,
    dataproc: [
      'gcloud', 'dataproc', 'jobs', 'submit', 'pyspark', `${base}backfill_job.py`, '--cluster=CLUSTER', '--region=REGION',
      // The package list holds a comma, gcloud's separator between properties: ^#^ makes '#' the separator instead.
      `--py-files=${base}sensorlake_spark.zip`, `--properties=^#^spark.jars.packages=${pkgs}#spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension#spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog`,
      '--', ...args,
    ].map(q).join(' '),
    // Databricks Runtime 15.4 LTS is Spark 3.5 and ships Delta Lake and spark-avro: only the job's own files go along.
    databricks: `databricks jobs submit --json '${JSON.stringify({
      run_name: 'sensorlake backfill',
      tasks: [{
        task_key: 'backfill',
        new_cluster: { spark_version: '15.4.x-scala2.12', node_type_id: 'NODE_TYPE', num_workers: 4 },
        spark_submit_task: { parameters: ['--py-files', `${base}sensorlake_spark.zip`, `${base}backfill_job.py`, ...args] },
      }],
    })}'`,
  };
}
