// simulate(): the library face of `sensorlake simulate`. Builds a plant from the seed, streams its history in one
// source format into a directory, and writes sensors.csv and truth.json next to the data.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { FORMATS, type SourceFormat } from '../sources/options.js';
import { ASSET_TYPES, buildPlant, MACHINE_STATES, SENSOR_KINDS, type AssetType, type SensorKind } from './catalog.js';
import { FAULT_PROFILES, planFaults, type FaultProfile } from './faults.js';
import { PlantModel } from './model.js';
import { runSimulation } from './run.js';
import { writeSensorsCsv } from './sensors-csv.js';
import { expectedCounts, sensorRow, truthFaults, type Truth, type TruthExpected } from './truth.js';
import { createWriter } from './writers/index.js';
import type { WrittenFile } from './writers/types.js';

export interface SimulateOptions {
  /** Output directory; created if missing, and must be empty unless `force` (which empties it). */
  out: string;
  format?: SourceFormat;
  /** Number of sensors (default 50); assets are added until there are this many. */
  sensors?: number;
  /** First timestamp, ISO 8601 (default 2024-01-01T00:00:00Z). */
  from?: string | Date;
  /** End, exclusive (default one day after from). */
  to?: string | Date;
  /** Base interval: '1s', '500ms', '1m', '1h', or milliseconds as a number (default 1 s). Slow sensors use 10x. */
  interval?: string | number;
  seed?: number;
  faults?: FaultProfile;
  gzip?: boolean;
  /** 'day': one file per UTC day (per sensor and day for pi-json). */
  split?: 'none' | 'day';
  /** Asset types to build the plant from (default all four). */
  assets?: readonly AssetType[];
  /** Sensor kinds assets carry (default all); leaving out 'state' gives a purely numeric file. */
  kinds?: readonly SensorKind[];
  force?: boolean;
}

export interface SimulateSummary {
  dir: string;
  format: SourceFormat;
  files: WrittenFile[];
  truthFile: string;
  sensorsFile: string;
  sensors: number;
  assets: number;
  bytes: number;
  seconds: number;
  recordsPerSecond: number;
  expected: TruthExpected;
  faults: number;
}

const DEFAULT_FROM = '2024-01-01T00:00:00Z';

export function parseInterval(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`interval '${v}': expected a number with unit ms, s, m or h (e.g. 1s, 500ms)`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
}

function parseTime(v: string | Date, what: string): number {
  const t = v instanceof Date ? v.getTime() : Date.parse(v);
  if (!Number.isFinite(t)) throw new InvalidArgumentError(`${what} '${String(v)}' is not an ISO 8601 time`);
  return t;
}

export async function simulate(opts: SimulateOptions): Promise<SimulateSummary> {
  const format = opts.format ?? 'csv';
  if (!FORMATS.includes(format)) throw new InvalidArgumentError(`format '${format}' is not one of ${FORMATS.join(', ')}`);
  const sensorCount = opts.sensors ?? 50;
  if (!Number.isInteger(sensorCount) || sensorCount < 1) throw new InvalidArgumentError(`sensors ${sensorCount} must be a positive integer`);
  const intervalMs = parseInterval(opts.interval ?? '1s');
  // Below 10 ms the model's lag buffers (tens of seconds of history per asset) would grow large.
  if (!Number.isInteger(intervalMs) || intervalMs < 10) throw new InvalidArgumentError(`interval ${intervalMs} ms must be a whole number of milliseconds, at least 10`);
  const startMs = parseTime(opts.from ?? DEFAULT_FROM, 'from');
  const endMs = opts.to === undefined ? startMs + 86_400_000 : parseTime(opts.to, 'to');
  if (endMs <= startMs) throw new InvalidArgumentError(`to (${new Date(endMs).toISOString()}) must be after from (${new Date(startMs).toISOString()})`);
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(seed)) throw new InvalidArgumentError(`seed ${seed} must be an integer`);
  const profile = opts.faults ?? 'default';
  if (!FAULT_PROFILES.includes(profile)) throw new InvalidArgumentError(`faults '${profile}' is not one of ${FAULT_PROFILES.join(', ')}`);
  const mix = opts.assets ?? ASSET_TYPES;
  const unknown = mix.filter((a) => !ASSET_TYPES.includes(a));
  if (mix.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`assets: expected some of ${ASSET_TYPES.join(', ')}, got '${mix.join(',')}'`);
  const kinds = opts.kinds ?? SENSOR_KINDS;
  const badKinds = kinds.filter((k) => !SENSOR_KINDS.includes(k));
  if (kinds.length === 0 || badKinds.length > 0) throw new InvalidArgumentError(`kinds: expected some of ${SENSOR_KINDS.join(', ')}, got '${kinds.join(',')}'`);
  const split = opts.split ?? 'none';
  if (split !== 'none' && split !== 'day') throw new InvalidArgumentError(`split '${String(split)}' is not one of none, day`);
  const dir = path.resolve(opts.out);
  await prepareDir(dir, opts.force === true);

  const started = performance.now();
  const steps = Math.ceil((endMs - startMs) / intervalMs);
  const plant = buildPlant(sensorCount, intervalMs, mix, kinds);
  const model = new PlantModel(plant, seed, startMs);
  const writer = createWriter(format, { dir, sensors: plant.sensors, states: MACHINE_STATES, gzip: opts.gzip === true, split, intervalMs, seed });
  const faults = planFaults({ plant, steps, startMs, seed, profile, reasons: writer.capabilities.reasons, garbage: writer.capabilities.garbage });
  const { counts, outcomes } = await runSimulation({ plant, model, faults, writer, startMs, steps, seed });
  const files = await writer.close();
  const rows = plant.sensors.map(sensorRow);
  const truth: Truth = {
    version: 1,
    generator: 'sensorlake simulate',
    format,
    seed,
    from: new Date(startMs).toISOString(),
    to: new Date(endMs).toISOString(),
    intervalSeconds: intervalMs / 1000,
    faultProfile: profile,
    gzip: opts.gzip === true,
    split,
    sensorsFile: 'sensors.csv',
    files,
    conventions: [...writer.conventions],
    expected: expectedCounts(counts, writer.capabilities.quality),
    sensors: rows,
    assets: plant.assets.map((a) => ({ path: a.path, type: a.type, sensors: a.sensors.map((i) => plant.sensors[i].id) })),
    couplings: model.couplings(),
    faults: truthFaults(outcomes, plant, startMs),
  };
  await writeSensorsCsv(path.join(dir, 'sensors.csv'), rows);
  await fs.writeFile(path.join(dir, 'truth.json'), JSON.stringify(truth, null, 1) + '\n');
  const seconds = (performance.now() - started) / 1000;
  return {
    dir,
    format,
    files,
    truthFile: path.join(dir, 'truth.json'),
    sensorsFile: path.join(dir, 'sensors.csv'),
    sensors: plant.sensors.length,
    assets: plant.assets.length,
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    seconds,
    recordsPerSecond: Math.round(counts.records / seconds),
    expected: truth.expected,
    faults: truth.faults.length,
  };
}

async function prepareDir(dir: string, force: boolean): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const entries = await fs.readdir(dir);
  if (entries.length === 0) return;
  // A stale file of another run or format would be read by the backfill as data, and break the truth counts.
  if (!force) throw new InvalidArgumentError(`output directory ${dir} is not empty (${entries.length} entries); empty it or pass force`);
  for (const e of entries) await fs.rm(path.join(dir, e), { recursive: true, force: true });
}
