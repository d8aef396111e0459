// The default job id: a hash of the input files' identity (path, size, mtime) and of every option that changes
// what is written, so running the same command again resumes the same job (its txn appId) instead of starting anew.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Settled } from './options.js';
import type { BackfillInput } from './read.js';

/** JSON with object keys sorted, so equal settings hash equally whatever order they were given in. */
function canonical(v: unknown): string {
  if (v === undefined) return 'null';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

export interface JobIdentity {
  inputs: BackfillInput[];
  /** The effective source options (format and mapping config content). */
  sourceConfig: unknown;
  /** Content of the sensor list, when one is given (its kinds and ranges change what is written). */
  sensorList: string | null;
  mode: string;
  onConflict: string;
  windowUs: number;
  fromUs: number | null;
  toUs: number | null;
  partition: string;
}

export function defaultJobId(id: JobIdentity): string {
  const h = createHash('sha256');
  h.update(
    canonical({
      v: 1,
      inputs: id.inputs.map((i) => ({ path: path.resolve(i.file), size: i.size, mtime: Math.round(i.mtimeMs), format: i.format })),
      sourceConfig: id.sourceConfig,
      sensorList: id.sensorList === null ? null : createHash('sha256').update(id.sensorList).digest('hex'),
      mode: id.mode,
      onConflict: id.onConflict,
      windowUs: id.windowUs,
      fromUs: id.fromUs,
      toUs: id.toUs,
      partition: id.partition,
    }),
  );
  return `backfill-${h.digest('hex').slice(0, 20)}`;
}

/** The job id of a settled run: the one given, or the default for its inputs and options. */
export async function jobIdOf(o: Settled, inputs: BackfillInput[]): Promise<string> {
  return (
    o.jobId ??
    defaultJobId({
      inputs,
      sourceConfig: o.sourceConfig,
      sensorList: o.sensors ? await readFile(o.sensors, 'utf8') : null,
      mode: o.mode,
      onConflict: o.onConflict,
      windowUs: o.windowUs,
      fromUs: o.fromUs ?? null,
      toUs: o.toUs ?? null,
      partition: o.partition,
    })
  );
}
