// `sensorlake table describe|history|scan|checkpoint|optimize|vacuum <table-dir>`: thin wrappers over DeltaTable.

import { Command, Option } from 'commander';
import { DeltaTable, type VersionSelector } from '../delta/table.js';
import { plainRows, csvCell } from './rows.js';
import { out, printTable } from './output.js';
import { InvalidArgumentError } from '../errors.js';

function selector(o: { version?: string; timestamp?: string }): VersionSelector {
  return { version: o.version === undefined ? undefined : Number(o.version), timestamp: o.timestamp };
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** A byte size as Spark writes it: 134217728, 128m, 128MB, 128MiB (k, m, g, t are powers of 1024, as in Spark). */
export function parseByteSize(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  const bytes = m ? Math.round(Number(m[1]) * UNITS[m[2].toLowerCase()]) : NaN;
  if (!(bytes > 0)) throw new InvalidArgumentError(`${flag} '${text}' is not a size; write e.g. 134217728, 128MB or 1GB`);
  return bytes;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

export function tableCommand(): Command {
  const cmd = new Command('table').description('inspect and maintain a Delta table');

  cmd
    .command('describe <table-dir>')
    .description('version, files, rows, partitioning, protocol and schema')
    .option('--version <n>', 'describe an older version')
    .option('--timestamp <iso>', 'describe the version current at this time')
    .option('--json', 'machine-readable output')
    .action(async (dir: string, o: { version?: string; timestamp?: string; json?: boolean }) => {
      const snap = await (await DeltaTable.open(dir)).snapshot(selector(o));
      const files = snap.files();
      const info = {
        location: snap.table,
        version: snap.version,
        id: snap.metadata.id,
        numFiles: files.length,
        numRows: snap.numRecords(),
        sizeInBytes: files.reduce((s, f) => s + f.size, 0),
        partitionColumns: snap.partitionColumns,
        protocol: snap.protocol,
        properties: snap.metadata.configuration,
        createdTime: snap.metadata.createdTime ?? null,
        lastCommit: new Date(snap.timestamp).toISOString(),
        schema: snap.schema,
      };
      if (o.json) return out(JSON.stringify(info, null, 2));
      out(`Delta table ${info.location}`);
      out(`  version        ${info.version} (committed ${info.lastCommit})`);
      out(`  files          ${info.numFiles} (${(info.sizeInBytes / 1e6).toFixed(1)} MB)`);
      out(`  rows           ${info.numRows ?? 'unknown (some files lack stats)'}`);
      out(`  partitioned by ${info.partitionColumns.length ? info.partitionColumns.join(', ') : '(none)'}`);
      const p = info.protocol;
      const features = [...(p.readerFeatures ?? []), ...(p.writerFeatures ?? [])];
      out(`  protocol       reader ${p.minReaderVersion}, writer ${p.minWriterVersion}${features.length ? ` [${[...new Set(features)].join(', ')}]` : ''}`);
      for (const [k, v] of Object.entries(info.properties)) out(`  property       ${k}=${v}`);
      out('  schema');
      printTable(info.schema.fields.map((f) => ({ column: f.name, type: typeof f.type === 'string' ? f.type : JSON.stringify(f.type), nullable: String(f.nullable) })), '    ');
    });

  cmd
    .command('history <table-dir>')
    .description('commits, newest first: operation, parameters and metrics')
    .option('--limit <n>', 'at most this many commits')
    .option('--json', 'machine-readable output')
    .action(async (dir: string, o: { limit?: string; json?: boolean }) => {
      const h = await (await DeltaTable.open(dir)).history(o.limit === undefined ? undefined : Number(o.limit));
      if (o.json) return out(JSON.stringify(h.map(({ commitInfo: _c, ...rest }) => ({ ...rest, timestamp: new Date(rest.timestamp).toISOString() })), null, 2));
      printTable(
        h.map((e) => ({
          version: String(e.version),
          timestamp: new Date(e.timestamp).toISOString(),
          operation: e.operation ?? '',
          parameters: JSON.stringify(e.operationParameters),
          metrics: Object.entries(e.operationMetrics).map(([k, v]) => `${k}=${String(v)}`).join(' '),
        })),
      );
    });

  cmd
    .command('scan <table-dir>')
    .description('write the rows to stdout')
    .option('--version <n>', 'read an older version')
    .option('--timestamp <iso>', 'read the version current at this time')
    .option('--where <predicate>', "filter, e.g. \"sensor_id = 'a' AND ts >= '2024-01-01T00:00:00Z'\"")
    .option('--columns <list>', 'comma-separated columns')
    .option('--limit <n>', 'stop after this many rows')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv', 'table']).default('table'))
    .action(async (dir: string, o: { version?: string; timestamp?: string; where?: string; columns?: string; limit?: string; format: string }) => {
      const table = await DeltaTable.open(dir);
      const limit = o.limit === undefined ? Infinity : Number(o.limit);
      let n = 0;
      let header = false;
      const human: Record<string, string>[] = [];
      for await (const batch of table.scan({ ...selector(o), where: o.where, columns: o.columns?.split(',').map((s) => s.trim()) })) {
        for (const row of plainRows(batch)) {
          if (n >= limit) break;
          n++;
          if (o.format === 'jsonl') out(JSON.stringify(row));
          else if (o.format === 'csv') {
            if (!header) out(Object.keys(row).map((k) => csvCell(k)).join(','));
            header = true;
            out(Object.values(row).map(csvCell).join(','));
          } else human.push(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v)])));
        }
        if (n >= limit) break;
      }
      if (o.format === 'table') {
        printTable(human);
        out(`(${n} row${n === 1 ? '' : 's'})`);
      }
    });

  cmd
    .command('checkpoint <table-dir>')
    .description('write a checkpoint of the latest version')
    .option('--json', 'machine-readable output')
    .action(async (dir: string, o: { json?: boolean }) => {
      const r = await (await DeltaTable.open(dir)).checkpoint();
      if (o.json) return out(JSON.stringify(r));
      out(`checkpoint at version ${r.version}: ${r.size} actions, ${r.numOfAddFiles} files, ${r.sizeInBytes} bytes`);
    });

  cmd
    .command('optimize <table-dir>')
    .description('compact small files into sorted files of about the target size (dataChange=false, like Spark OPTIMIZE)')
    .option('--where <predicate>', "only partitions matching this partition predicate, e.g. \"date = '2024-01-01'\"")
    .option('--target-size <size>', 'size of the files to write, e.g. 128MB, 1GB (k/m/g are powers of 1024)', '128MB')
    .option('--min-size <size>', 'leave files at or above this size alone (default: 3/4 of the target size)')
    .option('--max-rows-per-file <n>', 'rows per new file at most; bounds memory (default 2000000)')
    .option('--sort-by <columns>', "comma-separated sort columns for the new files (default: sensor_id,ts when present); '' for none")
    .option('--json', 'machine-readable output')
    .action(async (dir: string, o: { where?: string; targetSize: string; minSize?: string; maxRowsPerFile?: string; sortBy?: string; json?: boolean }) => {
      const table = await DeltaTable.open(dir);
      const before = (await table.snapshot()).files().length;
      const r = await table.optimize({
        where: o.where,
        targetFileBytes: parseByteSize(o.targetSize, '--target-size'),
        minFileBytes: o.minSize === undefined ? undefined : parseByteSize(o.minSize, '--min-size'),
        maxRowsPerFile: o.maxRowsPerFile === undefined ? undefined : Number(o.maxRowsPerFile),
        sortBy: o.sortBy === undefined ? undefined : o.sortBy.split(',').map((s) => s.trim()).filter(Boolean),
      });
      if (o.json) return out(JSON.stringify({ ...r, filesBefore: before, filesAfter: before - r.filesRemoved + r.filesAdded }));
      if (r.version === null) return out(`nothing to compact: ${before} file(s), none small enough with a partner in its partition`);
      out(`optimized at version ${r.version}: ${r.filesRemoved} file(s), ${mb(r.bytesBefore)} -> ${r.filesAdded} file(s), ${mb(r.bytesAfter)}`);
      out(`  ${r.partitionsOptimized} partition(s), ${r.numBatches} bin(s), ${r.rowsRewritten} rows rewritten; table files ${before} -> ${before - r.filesRemoved + r.filesAdded}`);
    });

  cmd
    .command('vacuum <table-dir>')
    .description('delete data files no version within the retention needs')
    .option('--retention-hours <h>', 'keep files younger than this (default: the table retention, 168 h)')
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--force', 'allow a retention shorter than the table retention')
    .option('--json', 'machine-readable output')
    .action(async (dir: string, o: { retentionHours?: string; dryRun?: boolean; force?: boolean; json?: boolean }) => {
      const r = await (await DeltaTable.open(dir)).vacuum({
        retentionHours: o.retentionHours === undefined ? undefined : Number(o.retentionHours),
        dryRun: o.dryRun,
        enforceRetentionDuration: !o.force,
      });
      if (o.json) return out(JSON.stringify(r));
      for (const f of r.files) out(`${r.dryRun ? 'would delete' : 'deleted'} ${f}`);
      out(`${r.dryRun ? 'would delete' : 'deleted'} ${r.files.length} file(s), ${(r.bytes / 1e6).toFixed(1)} MB`);
    });
  return cmd;
}
