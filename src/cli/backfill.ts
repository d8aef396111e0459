// `sensorlake backfill --source <path|glob> --lake DIR`: parses flags, calls backfill(), prints the report. Exit codes:
// 0 ok, 3 finished with quarantined records, 1 an input could not be read (nothing committed), 2 bad usage.

import { Command, Option } from 'commander';
import { backfill, type BackfillReport } from '../backfill/run.js';
import { fileRows, summaryLines } from '../backfill/report.js';
import { createProgressReporter, type ProgressFormat } from '../backfill/progress.js';
import { FORMATS, type SourceFormat } from '../sources/options.js';
import { InvalidArgumentError } from '../errors.js';
import { out, printTable } from './output.js';
import { finishWith } from './exit.js';
import { collect, wholeNumber } from './flags.js';
import { sparkConf } from './spark.js';
import { sparkBackfill } from '../spark/launcher.js';

interface Flags {
  source: string[];
  lake: string;
  format?: SourceFormat;
  from?: string;
  to?: string;
  window?: string;
  mode?: 'merge' | 'replace';
  onConflict?: 'keep-existing' | 'keep-incoming';
  jobId?: string;
  config?: string;
  sensors?: string;
  partition?: 'date' | 'month';
  json?: boolean;
  logFormat: 'json' | 'text';
  progress: boolean;
  rowBudget?: string;
  worker: boolean;
  engine: 'ts' | 'spark';
  master?: string;
  sparkConf?: Record<string, string>;
}

/** The process exit code for a finished backfill: 3 when some records went to quarantine. */
export function exitCodeOf(report: BackfillReport): number {
  return report.quarantined > 0 ? 3 : 0;
}

export function backfillCommand(): Command {
  return new Command('backfill')
    .description('backfill sensor history from files into the lake\'s Delta tables, exactly once and resumable')
    .requiredOption('--source <path>', 'input file, directory or glob (repeat for more)', collect)
    .requiredOption('--lake <dir>', 'lake directory (tables readings, sensors, quarantine)')
    .addOption(new Option('--format <format>', 'input format (default: detected per file)').choices(FORMATS))
    .option('--from <time>', 'readings before this ISO date/date-time go to quarantine (out_of_range_time); UTC unless an offset is given')
    .option('--to <time>', 'readings at or after this ISO date/date-time go to quarantine')
    .option('--window <span>', 'commit window: 1h, 6h, 1d, 7d, ... (default 1d)')
    .addOption(new Option('--mode <mode>', 'merge new keys, or replace what the window holds for the sensors present (default merge)').choices(['merge', 'replace']))
    .addOption(new Option('--on-conflict <policy>', 'same key, other value in the table (default keep-existing)').choices(['keep-existing', 'keep-incoming']))
    .option('--job-id <id>', 'job id (default: a hash of the inputs and options, so a rerun resumes)')
    .option('--config <file>', 'mapping config (.json/.yaml): source options and backfill keys')
    .option('--sensors <file>', 'sensor list (CSV or JSON): kinds, valid ranges, metadata')
    .addOption(new Option('--partition <scheme>', 'partition readings by UTC date or by month (sparse plants)').choices(['date', 'month']))
    .option('--json', 'print the report as one JSON object on stdout')
    .addOption(new Option('--log-format <format>', 'progress and logs on stderr').choices(['text', 'json']).default('text'))
    .option('--no-progress', 'no progress output')
    .addOption(new Option('--row-budget <rows>', 'rows of a window held in memory at once (bigger windows go in sensor buckets)').hideHelp())
    .addOption(new Option('--no-worker', 'parse on the main thread').hideHelp())
    .addOption(new Option('--engine <engine>', 'ts: this process; spark: the PySpark job under spark-submit (same tables, rules and report)').choices(['ts', 'spark']).default('ts'))
    .option('--master <url>', 'with --engine spark: local[2], spark://host:7077, yarn, ... (default local[*])')
    .option('--spark-conf <key=value>', 'with --engine spark: a Spark setting (repeat for more)', sparkConf)
    .addHelpText('after', '\nExit codes: 0 ok, 3 finished with quarantined records, 1 an input could not be read (nothing committed), 2 bad usage.')
    .action(async (o: Flags) => {
      const format: ProgressFormat = o.logFormat === 'json' ? 'json' : process.stderr.isTTY ? 'bar' : 'text';
      const progress = o.progress ? createProgressReporter(format) : null;
      if (o.engine !== 'spark' && (o.master !== undefined || o.sparkConf !== undefined)) throw new InvalidArgumentError('--master and --spark-conf go with --engine spark');
      const run = o.engine === 'spark' ? (opts: Parameters<typeof backfill>[0]) => sparkBackfill(opts, { master: o.master, conf: o.sparkConf }) : backfill;
      let report: BackfillReport;
      try {
        report = await run({
          source: o.source,
          lake: o.lake,
          format: o.format,
          from: o.from,
          to: o.to,
          window: o.window,
          mode: o.mode,
          onConflict: o.onConflict,
          jobId: o.jobId,
          config: o.config,
          sensors: o.sensors,
          partition: o.partition,
          rowBudget: wholeNumber(o.rowBudget, '--row-budget'),
          worker: o.worker,
          onProgress: progress ? (p) => progress.update(p) : undefined,
        });
      } finally {
        progress?.stop();
      }
      if (o.json) out(JSON.stringify(report));
      else {
        for (const line of summaryLines(report)) out(line);
        if (report.files.length > 1 || report.quarantined > 0) {
          out('');
          printTable(fileRows(report));
          if (report.files.length > 20) out(`... and ${report.files.length - 20} more files (--json lists all)`);
        }
      }
      const code = exitCodeOf(report);
      finishWith(code);
    });
}
