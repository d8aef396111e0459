// The job plan `sensorlake backfill --engine spark` hands the PySpark job: inputs resolved, options settled, sensor list
// parsed and the job id computed by the TypeScript engine's own code, so both engines read one command line the same
// way and name the same job by the same txn appId (a rerun by either engine resumes the other's job).

import * as path from 'node:path';
import { jobIdOf } from '../backfill/job-id.js';
import { settleOptions, type BackfillOptions } from '../backfill/options.js';
import { resolveBackfillInputs } from '../backfill/read.js';
import { loadSensorList, type SensorInfo } from '../backfill/sensor-list.js';
import { InvalidArgumentError } from '../errors.js';
import type { SourceConfig } from '../sources/options.js';

/** Formats the Spark job reads (influx line protocol and PI Web API JSON stay with the TypeScript engine). */
export const SPARK_FORMATS = ['csv', 'wide-csv', 'jsonl', 'parquet', 'avro'] as const;

export interface SparkPlanInput {
  /** As the TypeScript engine names it (the report's `file`). */
  file: string;
  /** Absolute, for Spark to open. */
  path: string;
  source: string;
  size: number;
  mtime: number;
  format: string;
}

export interface SparkPlan {
  job_id: string;
  lake: string;
  inputs: SparkPlanInput[];
  source_config: SourceConfig;
  sensors: SensorInfo[];
  window: string;
  window_us: number;
  from_us: number | null;
  to_us: number | null;
  mode: 'merge' | 'replace';
  on_conflict: 'keep-existing' | 'keep-incoming';
  partition: 'date' | 'month';
  quarantine_chunk_rows: number;
}

export async function buildSparkPlan(options: BackfillOptions): Promise<SparkPlan> {
  const o = await settleOptions(options);
  const inputs = await resolveBackfillInputs(o.specs, o.sourceConfig);
  for (const i of inputs) {
    if (!(SPARK_FORMATS as readonly string[]).includes(i.format)) {
      throw new InvalidArgumentError(`${i.file}: the Spark engine reads ${SPARK_FORMATS.join(', ')}; ${i.format} input needs the TypeScript engine (--engine ts)`);
    }
  }
  if (o.sourceConfig.time?.zone && !['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT'].includes(o.sourceConfig.time.zone)) {
    throw new InvalidArgumentError(`time.zone '${o.sourceConfig.time.zone}': naive local times are read by the TypeScript engine only (--engine ts)`);
  }
  if (o.sourceConfig.csv?.header === false) {
    throw new InvalidArgumentError('csv.header false: CSV without a header is read by the TypeScript engine only (--engine ts)');
  }
  const listed = o.sensors ? await loadSensorList(o.sensors) : new Map<string, SensorInfo>();
  const jobId = await jobIdOf(o, inputs);
  return {
    job_id: jobId,
    lake: path.resolve(o.lake),
    inputs: inputs.map((i) => ({ file: i.file, path: path.resolve(i.file), source: i.source, size: i.size, mtime: i.mtimeMs, format: i.format })),
    source_config: o.sourceConfig,
    sensors: [...listed.values()],
    window: o.window,
    window_us: o.windowUs,
    from_us: o.fromUs ?? null,
    to_us: o.toUs ?? null,
    mode: o.mode,
    on_conflict: o.onConflict,
    partition: o.partition,
    quarantine_chunk_rows: o.quarantineChunkRows,
  };
}
