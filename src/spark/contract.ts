// The backfill contract both engines share, built from the TypeScript engine's own definitions (schemas, reject
// reasons, quality codes, txn conventions, report keys): `contract.json` beside this file is this object written
// out, and the PySpark job reads only that file. test/spark/contract.test.ts fails when the two drift.

import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StructType } from '../delta/table.js';
import { QUALITY, QUARANTINE_SCHEMA, readingsSchema, SENSORS_SCHEMA } from '../backfill/lake.js';
import { US_PER_DAY } from '../backfill/plan.js';
import type { BackfillReport, FileReport } from '../backfill/report.js';
import { SENSOR_COLUMNS } from '../backfill/sensor-list.js';
import { REJECT_REASONS } from '../sources/batch.js';
import { SIDECAR_FILES } from '../sources/inputs.js';
import { EPOCH_THRESHOLDS } from '../sources/timestamps.js';
import { EXIT } from '../cli/exit.js';

/** Versions the job is written against: the test venv's (scripts/peers-requirements.txt) and their Maven twins. */
export const SPARK_VERSIONS = { pyspark: '3.5.6', delta_spark: '3.3.2', scala: '2.12', spark_avro: '3.5.6' } as const;

// Every key of the report, in the order the TypeScript engine writes them; the `satisfies` and the Missing checks
// below make the compiler fail when BackfillReport gains or loses a key that this list does not follow.
const REPORT_KEYS = [
  'job_id', 'lake', 'mode', 'on_conflict', 'window', 'partition', 'read', 'written', 'duplicates', 'conflicts',
  'conflicts_in_input', 'conflicts_with_table', 'rows_replaced', 'quarantined', 'quarantined_by_reason', 'out_of_range',
  'already_committed', 'windows', 'windows_committed', 'windows_skipped', 'windows_bucketed', 'dst_ambiguous',
  'dst_nonexistent', 'quarantine_commits', 'sensors_upserted', 'readings_version', 'files', 'bytes', 'seconds',
  'rows_per_second', 'mb_per_second', 'balanced',
] as const satisfies readonly (keyof BackfillReport)[];
const FILE_KEYS = ['file', 'source', 'read', 'written', 'duplicates', 'quarantined', 'already_committed'] as const satisfies readonly (keyof FileReport)[];
type MissingReportKey = Exclude<keyof BackfillReport, (typeof REPORT_KEYS)[number]>;
type MissingFileKey = Exclude<keyof FileReport, (typeof FILE_KEYS)[number]>;
const allReportKeys: [MissingReportKey] extends [never] ? true : MissingReportKey = true;
const allFileKeys: [MissingFileKey] extends [never] ? true : MissingFileKey = true;
void allReportKeys;
void allFileKeys;

/**
 * Quality words the sources understand (sources/quality.ts keeps them private): the contract test parses each with
 * makeQualityParser and checks the code, so this list cannot drift from the parser either.
 */
export const QUALITY_WORDS: Record<string, keyof typeof QUALITY> = { good: 'good', ok: 'good', uncertain: 'uncertain', questionable: 'uncertain', bad: 'bad' };

export interface ContractField {
  name: string;
  type: string;
  nullable: boolean;
}

function fields(s: StructType): ContractField[] {
  return s.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable }));
}

export function buildContract(): Record<string, unknown> {
  const dateFields = fields(readingsSchema('date'));
  const monthFields = fields(readingsSchema('month'));
  return {
    comment: 'Generated from the TypeScript engine by src/spark/contract.ts (node dist/src/spark/contract.js --write); do not edit by hand.',
    version: 1,
    engines: SPARK_VERSIONS,
    tables: {
      readings: {
        dir: 'readings',
        description: 'sensor readings written by sensorlake backfill',
        fields: { date: dateFields, month: monthFields },
        partition_columns: { date: ['date'], month: ['month'] },
        sort_within_files: ['sensor_id', 'ts'],
        key: ['sensor_id', 'ts'],
      },
      sensors: { dir: 'sensors', description: 'sensor metadata: listed or inferred by sensorlake backfill', fields: fields(SENSORS_SCHEMA), partition_columns: [], sort_within_files: ['sensor_id'] },
      quarantine: { dir: 'quarantine', description: 'records sensorlake backfill could not accept', fields: fields(QUARANTINE_SCHEMA), partition_columns: [] },
    },
    sensor_columns: [...SENSOR_COLUMNS],
    staging_dir: '_sensorlake/staging',
    reject_reasons: [...REJECT_REASONS],
    location_kinds: { csv: 'line', 'wide-csv': 'line', jsonl: 'line', parquet: 'record', avro: 'record' },
    quality: { codes: { ...QUALITY }, words: Object.fromEntries(Object.entries(QUALITY_WORDS).map(([w, c]) => [w, QUALITY[c]])) },
    time: { epoch_thresholds: { ...EPOCH_THRESHOLDS }, max_us: Number.MAX_SAFE_INTEGER, us_per_day: US_PER_DAY, window_units_us: { m: 60e6, h: 3600e6, d: 86_400e6, w: 7 * 86_400e6 } },
    defaults: { window: '1d', mode: 'merge', on_conflict: 'keep-existing', partition: 'date', quarantine_chunk_rows: 100_000, raw_limit: 4096 },
    // Which Delta txn (appId, version) guards each commit, so a rerun (or the other engine, given the same job id)
    // skips exactly what is already in.
    txn: {
      readings: { app_id: 'job_id', version: 'window_index', window_index: 'floor(start_us / window_us)' },
      quarantine: { app_id: 'job_id', version: 'chunk_index', chunk_index: 'floor(reject_ordinal / quarantine_chunk_rows), rejects in input order' },
      sensors: { app_id: 'job_id', version: 0 },
      stream: { app_id: 'stream query name', version: 'micro-batch id' },
    },
    job_id: {
      prefix: 'backfill-',
      hash: 'sha256',
      hex_chars: 20,
      canonical: 'JSON with object keys sorted, undefined keys left out',
      identity: ['v', 'inputs', 'sourceConfig', 'sensorList', 'mode', 'onConflict', 'windowUs', 'fromUs', 'toUs', 'partition'],
      input_identity: ['path', 'size', 'mtime', 'format'],
      pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$',
    },
    sidecar_files: [...SIDECAR_FILES].sort(),
    report: { keys: [...REPORT_KEYS], file_keys: [...FILE_KEYS], balance: ['written', 'duplicates', 'quarantined', 'already_committed'] },
    exit_codes: { ...EXIT },
  };
}

/** Where contract.json lives in the source tree (this module runs from dist/src/spark or src/spark). */
export function contractPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const parts = here.split(path.sep);
  const dist = parts.lastIndexOf('dist');
  const root = dist >= 0 ? parts.slice(0, dist).join(path.sep) : path.resolve(here, '..', '..');
  return path.join(root, 'src', 'spark', 'contract.json');
}

export function contractText(): string {
  return JSON.stringify(buildContract(), null, 2) + '\n';
}

export function readContractFile(file = contractPath()): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

// `node dist/src/spark/contract.js --write` regenerates contract.json after a change to the TypeScript engine.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  writeFileSync(contractPath(), contractText());
  process.stdout.write(`wrote ${contractPath()}\n`);
}
