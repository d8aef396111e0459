// The Spark engine on the command line: `sensorlake spark-job --print` (the job file, its package and submit commands
// for EMR, Dataproc and Databricks), `sensorlake spark-stream` (the Structured Streaming mode under spark-submit), and
// the flags `backfill --engine spark` adds (--master, --spark-conf k=v).

import { Command, Option } from 'commander';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { sparkStream, type StreamBatch } from '../spark/launcher.js';
import { SPARK_FORMATS } from '../spark/plan.js';
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

interface StreamFlags {
  landing: string;
  lake: string;
  checkpoint: string;
  format: (typeof SPARK_FORMATS)[number];
  sensors?: string;
  config?: string;
  queryName?: string;
  trigger: string;
  maxFilesPerTrigger?: string;
  partition?: 'date' | 'month';
  master?: string;
  sparkConf?: Record<string, string>;
  json?: boolean;
}

const batchLine = (b: StreamBatch): string =>
  `batch ${b.batch_id}: ${b.files} files, read ${b.read}, written ${b.written}, quarantined ${b.quarantined}${b.committed ? '' : ' (already committed: skipped)'}, readings v${b.readings_version}`;

export function sparkStreamCommand(): Command {
  return new Command('spark-stream')
    .description('Spark Structured Streaming: files landing in a folder are backfilled micro-batch by micro-batch, each committed exactly once')
    .requiredOption('--landing <dir>', 'the folder new files land in (move them in whole)')
    .requiredOption('--lake <dir>', 'lake directory or URI')
    .requiredOption('--checkpoint <dir>', 'Spark checkpoint location (keep it, and the query name, across restarts)')
    .addOption(new Option('--format <format>', 'format of the landed files').choices([...SPARK_FORMATS]).makeOptionMandatory())
    .option('--sensors <file>', 'sensor list (CSV or JSON)')
    .option('--config <file>', 'mapping config (JSON)')
    .option('--query-name <name>', 'the txn appId of its commits (default stream-<landing folder name>)')
    .option('--trigger <when>', "available-now (take what has landed, then stop) or an interval such as '30 seconds'", 'available-now')
    .option('--max-files-per-trigger <n>', 'files per micro-batch at most')
    .addOption(new Option('--partition <by>', 'readings partitioning of a new lake').choices(['date', 'month']))
    .option('--master <url>', 'local[2], spark://host:7077, yarn, ... (default local[*])')
    .option('--spark-conf <key=value>', 'a Spark setting (repeat for more)', sparkConf)
    .option('--json', 'one JSON line per micro-batch')
    .addHelpText('after', '\nExit codes: 0 the query stopped (available-now: every landed file is in), 1 failed, 2 bad usage.')
    .action(async (o: StreamFlags) => {
      const maxFiles = o.maxFilesPerTrigger === undefined ? undefined : Number(o.maxFilesPerTrigger);
      if (maxFiles !== undefined && !(Number.isInteger(maxFiles) && maxFiles > 0)) throw new InvalidArgumentError(`--max-files-per-trigger '${o.maxFilesPerTrigger}': expected a whole number above 0`);
      await sparkStream(
        {
          landing: o.landing,
          lake: o.lake,
          checkpoint: o.checkpoint,
          format: o.format,
          sensors: o.sensors,
          config: o.config,
          queryName: o.queryName,
          trigger: o.trigger,
          maxFilesPerTrigger: maxFiles,
          partition: o.partition,
          onBatch: (b) => out(o.json ? JSON.stringify(b) : batchLine(b)),
        },
        { master: o.master, conf: o.sparkConf },
      );
    });
}
