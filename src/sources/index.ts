// The public face of sources: one registry from format to reader, and readSources, which turns what the user named
// into the chunks of every file in order. The backfill reads through here only.

import { InvalidArgumentError } from '../errors.js';
import type { SourceChunk, SourceInput } from './batch.js';
import { readAvro } from './avro.js';
import { readCsv } from './csv.js';
import { detectFormat, peek, resolveInputs } from './inputs.js';
import { readInflux } from './influx.js';
import { readJsonl } from './jsonl.js';
import type { SourceConfig, SourceFormat } from './options.js';
import { readParquet } from './parquet.js';
import { readPiWeb } from './pi-web.js';
import { readWideCsv } from './wide-csv.js';

export type { MappingConfig } from './config.js';
export { loadMappingConfig, validateMappingConfig } from './config.js';
export { bufferInput, detectFormat, resolveInputs } from './inputs.js';
export { readSourceInWorker } from './worker.js';

type Reader = (input: SourceInput, config: SourceConfig) => AsyncGenerator<SourceChunk>;

// Each reader gets its own section of the config plus the options every source shares.
const common = (c: SourceConfig) => ({ time: c.time, batchRows: c.batchRows, quality: c.quality });

const READERS: Record<SourceFormat, Reader> = {
  csv: (input, c) => readCsv(input, { ...c.csv, ...common(c) }),
  'wide-csv': (input, c) => readWideCsv(input, { ...c.wideCsv, ...common(c) }),
  jsonl: (input, c) => readJsonl(input, { ...c.jsonl, ...common(c) }),
  influx: (input, c) => readInflux(input, { ...c.influx, ...common(c) }),
  'pi-json': (input, c) => readPiWeb(input, { ...c.piWeb, ...common(c) }),
  parquet: (input, c) => readParquet(input, { ...c.parquet, ...common(c) }),
  avro: (input, c) => readAvro(input, { ...c.avro, ...common(c) }),
};

/** The chunks of one input read as `format`. */
export function readSource(input: SourceInput, format: SourceFormat, config: SourceConfig = {}): AsyncGenerator<SourceChunk> {
  const reader = READERS[format];
  if (!reader) throw new InvalidArgumentError(`unknown source format '${String(format)}' for ${input.file} (expected one of ${Object.keys(READERS).join(', ')})`);
  return reader(input, config);
}

/**
 * The chunks of every file `spec` names, file after file in resolveInputs order. The format is config.format when
 * given, else detected per file; every file's format is settled before the first chunk, so a file we cannot read
 * fails the call before any data moves.
 */
export async function* readSources(spec: string | string[], config: SourceConfig = {}): AsyncGenerator<SourceChunk> {
  const inputs = await resolveInputs(spec);
  const formats: SourceFormat[] = [];
  for (const input of inputs) formats.push(config.format ?? (await detect(input, config)));
  for (let i = 0; i < inputs.length; i++) yield* readSource(inputs[i], formats[i], config);
}

async function detect(input: SourceInput, config: SourceConfig): Promise<SourceFormat> {
  const format = detectFormat(input.file, await peek(input), config.csv?.fields);
  if (!format) throw new InvalidArgumentError(`cannot tell the format of ${input.file} from its name or content; give it (format, or --format)`);
  return format;
}
