// `sensorlake table describe|history|scan|checkpoint|vacuum <table-dir>`: thin wrappers over DeltaTable.

import { Command, Option } from 'commander';
import { DeltaTable, type VersionSelector } from '../delta/table.js';
import { plainRows, csvCell } from './rows.js';
import { out, printTable } from './output.js';

function selector(o: { version?: string; timestamp?: string }): VersionSelector {
  return { version: o.version === undefined ? undefined : Number(o.version), timestamp: o.timestamp };
}

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
