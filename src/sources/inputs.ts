// Turns what the user named (files, directories, globs) into SourceInputs: decompressed byte streams with progress in
// on-disk bytes. First step of the flow; format detection by extension and a header sniff lives here too.

import { createReadStream, type ReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { glob, isDynamicPattern } from 'tinyglobby';
import { InvalidRecordError, NotFoundError } from '../errors.js';
import type { SourceInput } from './batch.js';
import { DEFAULT_FIELDS, type FieldMap, type SourceFormat } from './options.js';

/** Resolves each spec in order (a file, a directory read recursively, or a glob); duplicates are kept once. */
export async function resolveInputs(spec: string | string[]): Promise<SourceInput[]> {
  const specs = typeof spec === 'string' ? [spec] : spec;
  const seen = new Set<string>();
  const out: SourceInput[] = [];
  for (const s of specs) {
    for (const file of await expand(s)) {
      const key = path.resolve(file);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(await makeInput(file));
    }
  }
  return out;
}

async function expand(spec: string): Promise<string[]> {
  const st = await stat(spec).catch(() => null);
  if (st?.isFile()) return [spec];
  if (st?.isDirectory()) {
    const files = await walk(spec);
    if (files.length === 0) throw new NotFoundError(`input directory ${spec} holds no data files (hidden, _-prefixed and sidecar files such as sensors.csv and truth.json are skipped)`);
    return files;
  }
  if (st) throw new NotFoundError(`input ${spec} is neither a file nor a directory`);
  if (!isDynamicPattern(spec)) throw new NotFoundError(`input ${spec} does not exist`);
  // Keep results in the form the user wrote: relative patterns give relative paths, absolute ones absolute.
  const files = await glob(spec, { absolute: path.isAbsolute(spec), onlyFiles: true, dot: false, expandDirectories: false });
  if (files.length === 0) throw new NotFoundError(`input pattern ${spec} matches no files`);
  return files.sort(byPath);
}

/**
 * Files a directory of exports carries beside its data, never read as data when a whole directory is given: the
 * sensor list (pass it with --sensors) and the simulator's ground truth. Hidden and `_` files (Hadoop's markers such
 * as _SUCCESS) are skipped too. Named explicitly, as a file or a glob, any of them is read.
 */
export const SIDECAR_FILES: ReadonlySet<string> = new Set(['sensors.csv', 'sensors.json', 'truth.json']);

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name.startsWith('_') || SIDECAR_FILES.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile() || (e.isSymbolicLink() && (await stat(p).catch(() => null))?.isFile())) out.push(p);
  }
  return out.sort(byPath);
}

// Plain code-unit order: the same on every machine and locale.
function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function makeInput(file: string): Promise<SourceInput> {
  const fh = await open(file, 'r');
  let size: number;
  let gzip: boolean;
  try {
    size = (await fh.stat()).size;
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    gzip = bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b; // by content: '.gz' names lie both ways
  } finally {
    await fh.close();
  }
  let current: ReadStream | null = null;
  return {
    file,
    gzip,
    size,
    open() {
      const raw = createReadStream(file, { highWaterMark: 1 << 20 });
      current = raw;
      return gzip ? gunzip(file, raw) : raw;
    },
    // The fs stream's count runs at most one read (1 MiB) ahead of the consumer: close enough for progress.
    bytesRead: () => current?.bytesRead ?? 0,
  };
}

/** Decompresses (concatenated members too) and names the file and offset when the gzip data is broken. */
function gunzip(file: string, raw: ReadStream): Readable {
  const z = createGunzip({ chunkSize: 1 << 18 });
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const fail = (e: Error): void => {
    const err = (e as NodeJS.ErrnoException).code?.startsWith('Z_')
      ? new InvalidRecordError(`${file}: broken gzip data near byte ${raw.bytesRead}: ${e.message}`, { cause: e })
      : e;
    out.destroy(err);
  };
  raw.on('error', fail);
  z.on('error', fail);
  out.on('close', () => {
    raw.destroy();
    z.destroy();
  });
  raw.pipe(z).pipe(out);
  return out;
}

/** The first `n` decompressed bytes of an input (fewer if it is shorter): for detectFormat. */
export async function peek(input: SourceInput, n = 65_536): Promise<Buffer> {
  const stream = input.open() as Readable;
  const parts: Buffer[] = [];
  let have = 0;
  try {
    for await (const chunk of stream) {
      parts.push(chunk as Buffer);
      have += (chunk as Buffer).length;
      if (have >= n) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, n);
}

const BY_EXTENSION: Record<string, SourceFormat | 'csv?'> = {
  '.csv': 'csv?',
  '.tsv': 'csv?',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'pi-json',
  '.parquet': 'parquet',
  '.avro': 'avro',
  '.lp': 'influx',
  '.line': 'influx',
  '.influx': 'influx',
};

/**
 * The format a file is in, from its extension (a trailing .gz ignored), or null when that does not tell. A .csv
 * whose header names a timestamp, a sensor and a value column is long ('csv'); one with other columns is 'wide-csv'.
 * Files with an unknown extension are recognised by the Parquet and Avro magic bytes only.
 */
export function detectFormat(file: string, firstBytes: Uint8Array, fields?: FieldMap): SourceFormat | null {
  const name = path.basename(file).toLowerCase().replace(/\.gz$/, '');
  const byExt = BY_EXTENSION[path.extname(name)];
  if (byExt === 'csv?') return sniffCsv(firstBytes, fields);
  if (byExt) return byExt;
  const magic = Buffer.from(firstBytes.subarray(0, 4)).toString('latin1');
  if (magic === 'PAR1') return 'parquet';
  if (magic === 'Obj\x01') return 'avro';
  return null;
}

const TS_NAMES = new Set(['ts', 'timestamp', 'time', 'datetime', 'date_time', '_time', 'time_stamp', 'event_time']);
const SENSOR_NAMES = new Set(['sensor_id', 'sensor', 'sensorid', 'tag', 'tag_name', 'tagname', 'tag_id', 'point', 'signal', 'series', 'name']);
const VALUE_NAMES = new Set(['value', 'val', 'reading', 'v', '_value', 'measurement_value']);

function sniffCsv(bytes: Uint8Array, fields: FieldMap = {}): SourceFormat | null {
  let text = Buffer.from(bytes.subarray(0, 16_384)).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const header = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = [',', ';', '\t', '|'].reduce((best, d) => (header.split(d).length > header.split(best).length ? d : best), ',');
  const cols = header.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, '$1').trim().toLowerCase());
  if (cols.length < 2) return null;
  const has = (names: Set<string>, configured: string | number | undefined, dflt: string | number): boolean =>
    cols.some((c) => names.has(c) || c === dflt || (typeof configured === 'string' && c === configured.toLowerCase()));
  const long =
    has(TS_NAMES, fields.ts, DEFAULT_FIELDS.ts) &&
    has(SENSOR_NAMES, fields.sensor_id, DEFAULT_FIELDS.sensor_id) &&
    has(VALUE_NAMES, fields.value, DEFAULT_FIELDS.value);
  return long ? 'csv' : 'wide-csv';
}

/**
 * Bytes already in memory (an HTTP body, an MQTT payload) as an input, so live ingest reads them with the same
 * source code as backfill. `name` stands in for the file name in messages and the quarantine table.
 */
export function bufferInput(name: string, bytes: Uint8Array): SourceInput {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let consumed = 0;
  return {
    file: name,
    gzip: false,
    size: buf.length,
    open() {
      consumed = buf.length;
      return Readable.from([buf], { objectMode: false }) as NodeJS.ReadableStream & AsyncIterable<Buffer>;
    },
    bytesRead: () => consumed,
  };
}
