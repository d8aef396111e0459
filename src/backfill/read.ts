// The backfill's view of its inputs: resolves what the user named into files (with the identity the job id hashes
// and the `source` name rows carry), and reads them through the sources module, parsing on a worker thread.

import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { isDynamicPattern } from 'tinyglobby';
import { InvalidArgumentError, InvalidRecordError, SensorlakeError } from '../errors.js';
import type { SourceChunk } from '../sources/batch.js';
import { detectFormat, readSource, readSourceInWorker, resolveInputs } from '../sources/index.js';
import { peek } from '../sources/inputs.js';
import type { SourceConfig, SourceFormat } from '../sources/options.js';

export interface BackfillInput {
  /** The path as resolved from the spec (what sources name in chunks and rejects). */
  file: string;
  /** Relative to the spec's root (a directory, or a glob's fixed prefix), or the file as given. */
  source: string;
  size: number;
  mtimeMs: number;
  format: SourceFormat;
  /** The spec the file came from. */
  spec: string;
  /** Whether the spec resolves to exactly its files here, all of one format (then one worker reads it whole). */
  wholeSpec: boolean;
}

const toPosix = (p: string): string => p.split(path.sep).join('/');

/** The directory a glob starts from: its leading segments without pattern characters. */
function globBase(spec: string): string {
  const parts = spec.split(/[\\/]/);
  const fixed: string[] = [];
  for (const p of parts) {
    if (isDynamicPattern(p)) break;
    fixed.push(p);
  }
  return fixed.join('/') || '.';
}

async function rootOf(spec: string): Promise<string | null> {
  const st = await stat(spec).catch(() => null);
  if (st?.isDirectory()) return spec;
  if (st?.isFile()) return null;
  return globBase(spec);
}

/** Every input file in order (duplicates across specs kept once), with its format settled before any data moves. */
export async function resolveBackfillInputs(spec: string | string[], config: SourceConfig): Promise<BackfillInput[]> {
  const specs = typeof spec === 'string' ? [spec] : spec;
  if (specs.length === 0) throw new InvalidArgumentError('no --source given');
  const seen = new Set<string>();
  const out: BackfillInput[] = [];
  for (const s of specs) {
    const root = await rootOf(s);
    const first = out.length;
    let whole = true;
    for (const input of await resolveInputs(s)) {
      const abs = path.resolve(input.file);
      if (seen.has(abs)) {
        whole = false;
        continue;
      }
      seen.add(abs);
      const st = await stat(input.file);
      let format = config.format;
      if (!format) {
        const detected = detectFormat(input.file, await peek(input), config.csv?.fields);
        if (!detected) throw new InvalidArgumentError(`cannot tell the format of ${input.file} from its name or content; give it (--format)`);
        format = detected;
      }
      out.push({ file: input.file, source: root === null ? toPosix(input.file) : toPosix(path.relative(root, input.file)), size: st.size, mtimeMs: st.mtimeMs, format, spec: s, wholeSpec: false });
    }
    const mine = out.slice(first);
    whole &&= mine.every((i) => i.format === mine[0].format);
    for (const i of mine) i.wholeSpec = whole;
  }
  return out;
}

/** A read failure as an error naming the file (sources name it already; anything else is wrapped). */
function named(e: unknown, label: string, inputs: BackfillInput[]): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  if (err instanceof InvalidArgumentError) return err; // a usage problem (config, format), not the file
  if (err instanceof SensorlakeError && inputs.some((i) => err.message.includes(i.file))) return err;
  return new InvalidRecordError(`${label}: cannot be read: ${err.message}`, { cause: e });
}

/**
 * Chunks of every input in order. With `worker`, each spec whose files share one format is parsed by one worker
 * thread (one per file otherwise); without, on this thread.
 */
export async function* readInputs(inputs: BackfillInput[], config: SourceConfig, worker: boolean): AsyncGenerator<SourceChunk> {
  const units: { spec: string; files: BackfillInput[] }[] = [];
  for (const input of inputs) {
    const last = units[units.length - 1];
    if (worker && input.wholeSpec && last && last.spec === input.spec) last.files.push(input);
    else units.push({ spec: worker && input.wholeSpec ? input.spec : input.file, files: [input] });
  }
  for (const u of units) {
    const label = u.files.length === 1 ? u.files[0].file : u.spec;
    try {
      if (worker) yield* readSourceInWorker(u.spec, u.files[0].format, config);
      else for (const f of u.files) yield* readSource((await resolveInputs(f.file))[0], f.format, config);
    } catch (e) {
      throw named(e, label, u.files);
    }
  }
}
