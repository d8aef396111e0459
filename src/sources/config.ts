// The mapping config file (JSON or YAML): how to read the sources plus the backfill's own keys. Validated strictly
// against a small declarative shape, so a typo fails before any data is read, naming the file and the key path.

import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import YAML from 'yaml';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { FORMATS, type SourceConfig } from './options.js';

/** Everything a mapping file may hold: the SourceConfig keys at top level, and the backfill's. */
export interface MappingConfig extends SourceConfig {
  /** Path to the sensor list; loadMappingConfig resolves it against the config file's directory. */
  sensors?: string;
  partition?: 'date' | 'month';
  window?: string;
  mode?: 'merge' | 'replace';
  onConflict?: 'keep-existing' | 'keep-incoming';
  /** ISO 8601 date or date-time. */
  from?: string;
  to?: string;
  jobId?: string;
}

// ---- A tiny validator language: each check returns what was expected when the value does not fit ---------------

type Check = (v: unknown, at: string, fail: Fail) => void;
type Fail = (at: string, problem: string) => never;

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : JSON.stringify(v);

const expect =
  (what: string, ok: (v: unknown) => boolean): Check =>
  (v, at, fail) => {
    if (!ok(v)) fail(at, `expected ${what}, got ${describe(v)}`);
  };

const isString = (v: unknown): v is string => typeof v === 'string';
const str = expect('a non-empty string', (v) => isString(v) && v.length > 0);
const bool = expect('true or false', (v) => typeof v === 'boolean');
const char = expect('a single character', (v) => isString(v) && [...v].length === 1);
const positiveInt = expect('a positive integer', (v) => Number.isSafeInteger(v) && (v as number) > 0);
const oneOf = (values: readonly string[]): Check => expect(`one of ${values.map((x) => `'${x}'`).join(', ')}`, (v) => isString(v) && values.includes(v));
const columnRef = expect('a string or a column index', (v) => (isString(v) && v.length > 0) || (Number.isSafeInteger(v) && (v as number) >= 0));
const zone = expect('an IANA time zone such as Europe/Berlin', (v) => isString(v) && isZone(v));
const isoDate = expect('an ISO 8601 date or date-time', (v) => isString(v) && ISO_DATE.test(v) && !Number.isNaN(Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v)));
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function isZone(z: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: z });
    return true;
  } catch {
    return false;
  }
}

const listOf =
  (item: Check): Check =>
  (v, at, fail) => {
    if (!Array.isArray(v)) return fail(at, `expected a list, got ${describe(v)}`);
    v.forEach((x, i) => item(x, `${at}[${i}]`, fail));
  };

const mapOf =
  (item: Check): Check =>
  (v, at, fail) => {
    if (!isPlainObject(v)) return fail(at, `expected a mapping, got ${describe(v)}`);
    for (const [k, x] of Object.entries(v)) item(x, join(at, k), fail);
  };

/** A mapping with known keys; `rules` then check combinations of keys, once each key is right on its own. */
const shape =
  (keys: Record<string, Check>, ...rules: ((o: Record<string, unknown>, at: string, fail: Fail) => void)[]): Check =>
  (v, at, fail) => {
    if (!isPlainObject(v)) return fail(at, `expected a mapping, got ${describe(v)}`);
    for (const [k, x] of Object.entries(v)) {
      const check = keys[k];
      if (!check) return fail(join(at, k), `unknown key${suggest(k, Object.keys(keys))} (expected one of ${Object.keys(keys).join(', ')})`);
      if (x !== undefined) check(x, join(at, k), fail);
    }
    for (const rule of rules) rule(v, at, fail);
  };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function join(at: string, key: string): string {
  return at ? `${at}.${key}` : key;
}

/** ", did you mean 'x'?" for a near miss (edit distance at most 2). */
function suggest(key: string, known: string[]): string {
  const dist = (a: string, b: string): number => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row;
    }
    return prev[b.length];
  };
  const best = known.map((k) => [k, dist(key.toLowerCase(), k.toLowerCase())] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= 2 ? `, did you mean '${best[0]}'?` : '';
}

// ---- Rules that span keys -----------------------------------------------------------------------------------------

/** Delimiter, decimal separator and quote must differ, or values and fields cannot be told apart. */
function distinctSeparators(o: Record<string, unknown>, at: string, fail: Fail): void {
  const delimiter = (o.delimiter as string | undefined) ?? ',';
  const quote = (o.quote as string | undefined) ?? '"';
  if (o.decimal !== undefined && o.decimal === delimiter) {
    fail(join(at, 'decimal'), `decimal separator '${o.decimal}' is also the delimiter${o.delimiter === undefined ? " (the default ',')" : ''}; set another delimiter such as ';'`);
  }
  if (quote === delimiter) fail(join(at, o.quote === undefined ? 'delimiter' : 'quote'), `quote and delimiter are both '${quote}'`);
}

/** Without a header, columns can only be found by index. */
function headerlessNeedsIndexes(o: Record<string, unknown>, at: string, fail: Fail): void {
  if (o.header !== false) return;
  const fields = (o.fields ?? {}) as Record<string, unknown>;
  for (const k of ['ts', 'sensor_id', 'value']) {
    if (fields[k] === undefined) fail(join(at, `fields.${k}`), 'required when header is false (a 0-based column index)');
  }
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v !== 'number') fail(join(at, `fields.${k}`), `expected a column index because header is false, got ${describe(v)}`);
  }
}

const PLACEHOLDER = /\{([^}]*)\}/g;
const influxSensorId: Check = (v, at, fail) => {
  str(v, at, fail);
  for (const [, p] of (v as string).matchAll(PLACEHOLDER)) {
    if (p !== 'measurement' && p !== 'field' && !/^tag:.+$/.test(p)) fail(at, `unknown placeholder {${p}} (expected {measurement}, {field} or {tag:NAME})`);
  }
};

// ---- The shape of a mapping file -----------------------------------------------------------------------------------

const names = (ref: Check) => shape({ ts: ref, sensor_id: ref, value: ref, quality: ref, value_text: ref });

const MAPPING: Check = shape({
  format: oneOf(FORMATS),
  time: shape({
    format: oneOf(['auto', 'iso', 'epoch']),
    epochUnit: oneOf(['s', 'ms', 'us', 'ns']),
    zone,
    ambiguous: oneOf(['earlier', 'later', 'reject']),
    nonexistent: oneOf(['shift-forward', 'reject']),
  }),
  quality: shape({ map: mapOf(oneOf(['good', 'uncertain', 'bad'])) }),
  csv: shape({ delimiter: char, decimal: oneOf(['.', ',']), header: bool, quote: char, fields: names(columnRef) }, distinctSeparators, headerlessNeedsIndexes),
  wideCsv: shape({ delimiter: char, decimal: oneOf(['.', ',']), quote: char, tsColumn: str, exclude: listOf(str) }, distinctSeparators),
  jsonl: shape({ fields: names(str) }),
  influx: shape({ sensorId: influxSensorId }),
  piWeb: shape({ sensorId: str }),
  parquet: shape({ fields: names(str) }),
  avro: shape({ fields: names(str) }),
  batchRows: positiveInt,
  sensors: str,
  partition: oneOf(['date', 'month']),
  window: str,
  mode: oneOf(['merge', 'replace']),
  onConflict: oneOf(['keep-existing', 'keep-incoming']),
  from: isoDate,
  to: isoDate,
  jobId: str,
}, (o, _at, fail) => {
  if (isString(o.from) && isString(o.to) && Date.parse(o.from) >= Date.parse(o.to)) fail('to', `must be after from (${o.from}), got ${describe(o.to)}`);
});

/** Checks a parsed mapping file; throws InvalidArgumentError naming `file` and the key path of the first problem. */
export function validateMappingConfig(obj: unknown, file: string): MappingConfig {
  const fail: Fail = (at, problem) => {
    throw new InvalidArgumentError(`${file}: ${at ? `${at}: ` : ''}${problem}`);
  };
  MAPPING(obj, '', fail);
  return obj as MappingConfig;
}

/** Reads and validates a mapping file: `.json` as JSON, `.yaml`/`.yml` as YAML (an empty file is an empty mapping). */
export async function loadMappingConfig(file: string): Promise<MappingConfig> {
  const ext = path.extname(file).toLowerCase();
  if (ext !== '.json' && ext !== '.yaml' && ext !== '.yml') {
    throw new InvalidArgumentError(`${file}: a mapping config must be .json, .yaml or .yml`);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`mapping config ${file} does not exist`);
    throw e;
  }
  let obj: unknown;
  try {
    obj = ext === '.json' ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true });
  } catch (e) {
    throw new InvalidArgumentError(`${file}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`, { cause: e });
  }
  const config = validateMappingConfig(obj ?? {}, file);
  // A relative sensor list means "next to this config", wherever the command runs from.
  if (config.sensors !== undefined) config.sensors = path.resolve(path.dirname(file), config.sensors);
  return config;
}
