// The Spark engine on the command line: `sensorlake spark-job --print` (the job file, its package and submit commands
// for EMR, Dataproc and Databricks), and the flags `backfill --engine spark` adds (--master, --spark-conf k=v).

import { Command } from 'commander';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { submitCommands, writeJobFiles } from '../spark/submit-commands.js';
import { out } from './output.js';

/** --spark-conf k=v, repeatable, into a map (a value may itself hold '='). */
export function sparkConf(v: string, prev: Record<string, string> = {}): Record<string, string> {
  const i = v.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`--spark-conf '${v}': expected key=value, e.g. spark.executor.memory=8g`);
  return { ...prev, [v.slice(0, i).trim()]: v.slice(i + 1) };
}

export function sparkJobCommand(): Command {
  return new Command('spark-job')
    .description('write the PySpark backfill job and ready submit commands for EMR, Dataproc and Databricks')
    .option('--print', 'print the submit commands (the files are written to --out)')
    .option('--out <dir>', 'directory for backfill_job.py and sensorlake_spark.zip', 'sensorlake-spark-job')
    .option('--job-uri <uri>', 'where you will upload the two files (s3://..., gs://..., dbfs:/...)', 's3://BUCKET/sensorlake/')
    .option('--source <uri>', 'input files, directory or glob the cluster reads', 's3://BUCKET/exports/')
    .option('--lake <uri>', 'lake location the cluster writes', 's3://BUCKET/lake')
    .option('--sensors <uri>', 'sensor list the cluster reads')
    .option('--json', 'print files and commands as one JSON object')
    .addHelpText('after', '\nExit codes: 0 ok, 1 failed, 2 bad usage.')
    .action((o: { print?: boolean; out: string; jobUri: string; source: string; lake: string; sensors?: string; json?: boolean }) => {
      const files = writeJobFiles(path.resolve(o.out));
      const commands = submitCommands({ jobUri: o.jobUri, source: o.source, lake: o.lake, sensors: o.sensors });
      if (o.json) {
        out(JSON.stringify({ files, commands }));
        return;
      }
      out(`wrote ${files.job}`);
      out(`wrote ${files.zip}`);
      if (!o.print) return;
      out(`\nUpload both to ${o.jobUri}, then submit with one of:\n`);
      for (const [where, cmd] of Object.entries(commands)) {
        out(`# ${where}`);
        out(cmd);
        out('');
      }
    });
}
