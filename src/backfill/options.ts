// The options of a backfill and how they settle: explicit options win over the mapping config's keys, which win
// over defaults; everything is checked here, before any input is read, and fails as a usage error naming the key.

import { InvalidArgumentError } from '../errors.js';
import type { SourceChunk } from '../sources/batch.js';
import { loadMappingConfig, type MappingConfig } from '../sources/config.js';
import { FORMATS, type SourceConfig, type SourceFormat } from '../sources/options.js';
import type { PartitionScheme } from './lake.js';
import { parseTimeBound, parseWindow } from './plan.js';
import type { BackfillProgress } from './progress.js';
import type { BackfillInput } from './read.js';

export interface BackfillOptions {
  /** Files, directories (read recursively) or globs. */
  source: string | string[];
  /** The lake directory: readings, sensors and quarantine tables live under it. */
  lake: string;
  format?: SourceFormat;
  /** A mapping config file (.json/.yaml) or its parsed content: source options plus backfill keys. */
  config?: string | MappingConfig;
  /** Sensor list (CSV or JSON) with kinds, valid ranges and metadata. */
  sensors?: string;
  /** Inclusive lower bound on ts: ISO date or date-time (UTC unless it has an offset). */
  from?: string | Date;
  /** Exclusive upper bound on ts. */
  to?: string | Date;
  /** Commit window: 1h, 6h, 1d (default), 7d, ... */
  window?: string;
  mode?: 'merge' | 'replace';
  onConflict?: 'keep-existing' | 'keep-incoming';
  /** Overrides the default job id (a hash of the inputs and options); it names the txn appId and staging dir. */
  jobId?: string;
  partition?: PartitionScheme;
  /** Rows of a window processed in memory at once; bigger windows go in sensor buckets. Default 2,000,000 (peak RSS stays under 1 GiB). */
  rowBudget?: number;
  /** Rows buffered in memory during the read before they spill to staging files. Default 1,000,000. */
  stagingFlushRows?: number;
  /** Rejects per quarantine commit. Default 100,000. */
  quarantineChunkRows?: number;
  /** Parse sources on a worker thread (default true). */
  worker?: boolean;
  onProgress?: (p: BackfillProgress) => void;
  /** Reads the inputs instead of the sources module (custom sources, tests): chunks of `inputs`, in order. */
  reader?: (inputs: BackfillInput[], config: SourceConfig) => AsyncIterable<SourceChunk>;
}

export interface Settled {
  specs: string[];
  lake: string;
  sourceConfig: SourceConfig;
  sensors: string | undefined;
  fromUs: number | undefined;
  toUs: number | undefined;
  window: string;
  windowUs: number;
  mode: 'merge' | 'replace';
  onConflict: 'keep-existing' | 'keep-incoming';
  jobId: string | undefined;
  partition: PartitionScheme;
  rowBudget: number;
  flushRows: number;
  quarantineChunkRows: number;
  worker: boolean;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], name: string): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new InvalidArgumentError(`${name} '${String(v)}': expected one of ${allowed.join(', ')}`);
  }
  return v as T;
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0) throw new InvalidArgumentError(`${name} ${v}: expected a positive whole number`);
  return v;
}

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export async function settleOptions(o: BackfillOptions): Promise<Settled> {
  const specs = typeof o.source === 'string' ? [o.source] : [...(o.source ?? [])];
  if (specs.length === 0 || specs.some((s) => typeof s !== 'string' || s === '')) throw new InvalidArgumentError('source: give at least one file, directory or glob');
  if (typeof o.lake !== 'string' || o.lake === '') throw new InvalidArgumentError('lake: give the lake directory');
  const config: MappingConfig = typeof o.config === 'string' ? await loadMappingConfig(o.config) : { ...(o.config ?? {}) };
  const { sensors, partition, window, mode, onConflict, from, to, jobId, ...sourceConfig } = config;
  const format = oneOf(o.format ?? sourceConfig.format, FORMATS, 'format');
  if (format) sourceConfig.format = format;
  const w = o.window ?? window ?? '1d';
  const fromUs = parseTimeBound(o.from ?? from, 'from');
  const toUs = parseTimeBound(o.to ?? to, 'to');
  if (fromUs !== undefined && toUs !== undefined && fromUs >= toUs) throw new InvalidArgumentError('to: must be after from');
  const id = o.jobId ?? jobId;
  if (id !== undefined && !JOB_ID.test(id)) {
    throw new InvalidArgumentError(`job id '${id}': use up to 128 letters, digits, '.', '_', ':' or '-' (it names a directory and a txn appId)`);
  }
  return {
    specs,
    lake: o.lake,
    sourceConfig,
    sensors: o.sensors ?? sensors,
    fromUs,
    toUs,
    window: w,
    windowUs: parseWindow(w),
    mode: oneOf(o.mode ?? mode, ['merge', 'replace'] as const, 'mode') ?? 'merge',
    onConflict: oneOf(o.onConflict ?? onConflict, ['keep-existing', 'keep-incoming'] as const, 'on-conflict') ?? 'keep-existing',
    jobId: id,
    partition: oneOf(o.partition ?? partition, ['date', 'month'] as const, 'partition') ?? 'date',
    rowBudget: positive(o.rowBudget, 2_000_000, 'rowBudget'),
    flushRows: positive(o.stagingFlushRows, 1_000_000, 'stagingFlushRows'),
    quarantineChunkRows: positive(o.quarantineChunkRows, 100_000, 'quarantineChunkRows'),
    worker: o.worker ?? true,
  };
}
