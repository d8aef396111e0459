// What every format writer offers the simulation loop (run.ts): hot-path calls per reading, rare calls for
// malformed records, and bounded buffering with an explicit drain so a year of data streams in constant memory.

import type { LocationKind } from '../../sources/batch.js';
import type { SimSensor } from '../catalog.js';
import type { MalformedReason } from '../faults.js';

/** Quality codes the simulator emits, indexes into QUALITY_WORDS. */
export const QUALITY_WORDS = ['good', 'uncertain', 'bad'] as const;
export const GOOD = 0;
export const UNCERTAIN = 1;
export const BAD = 2;

export interface RecordLocation {
  /** Path relative to the output directory. */
  file: string;
  location: number;
  locationKind: LocationKind;
}

export interface WrittenFile {
  /** Path relative to the output directory. */
  path: string;
  bytes: number;
  records: number;
}

export interface WriterContext {
  dir: string;
  sensors: readonly SimSensor[];
  /** Text values of the state sensors, by code. */
  states: readonly string[];
  gzip: boolean;
  split: 'none' | 'day';
  /** Base interval in ms (wide CSV groups columns by each sensor's interval). */
  intervalMs: number;
  /** For anything a format needs to be random but reproducible (the Avro sync marker). */
  seed: number;
}

/** What a format can express: run.ts plans only those malformed records. */
export interface WriterCapabilities {
  reasons: readonly MalformedReason[];
  /** A record that cannot be parsed at all (garbage line, broken item): reason malformed_record. */
  garbage: boolean;
  /** Whether the format carries the quality of a reading. */
  quality: boolean;
}

export interface SimWriter {
  readonly capabilities: WriterCapabilities;
  /** How records, malformed ones included, are written in this format: copied into truth.json. */
  readonly conventions: readonly string[];
  /** Called before the first reading of each UTC day (yyyy-mm-dd): writers splitting by day open new files here. */
  startDay(day: string): Promise<void>;
  reading(sensor: number, t: number, value: number, quality: number): void;
  text(sensor: number, t: number, state: number, quality: number): void;
  /** A record standing in for the reading of `sensor` at `t`, broken as `reason` says. */
  malformed(sensor: number, t: number, reason: MalformedReason, variant: number, value: number): RecordLocation;
  /** An extra record that cannot be parsed at all, written next to the readings of `sensor` at `t`. */
  garbage(sensor: number, t: number, variant: number): RecordLocation;
  /** True when buffered output should be drained before generating more. */
  readonly backlog: boolean;
  drain(): Promise<void>;
  close(): Promise<WrittenFile[]>;
}
