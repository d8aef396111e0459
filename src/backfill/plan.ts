// Time windows of a backfill: each is one commit on the readings table, identified by an absolute index
// floor(start_us / window_us) so that every rerun of a job names the same window by the same Delta txn version.

import { InvalidArgumentError } from '../errors.js';

const UNIT_US: Record<string, number> = { m: 60e6, h: 3600e6, d: 86_400e6, w: 7 * 86_400e6 };
export const US_PER_DAY = 86_400e6;

/** Microseconds in a window spec such as '1h', '6h', '1d', '7d' (also 'm' minutes and 'w' weeks). */
export function parseWindow(spec: string): number {
  const m = /^\s*(\d+)\s*([mhdw])\s*$/i.exec(spec);
  const n = m ? Number(m[1]) : 0;
  if (!m || n <= 0) throw new InvalidArgumentError(`window '${spec}': expected a positive whole number and a unit m, h, d or w (e.g. 1h, 6h, 1d, 7d)`);
  const us = n * UNIT_US[m[2].toLowerCase()];
  // Windows tile days or whole days, so a window never splits oddly across date partitions.
  if (us < US_PER_DAY ? US_PER_DAY % us !== 0 : us % US_PER_DAY !== 0) {
    throw new InvalidArgumentError(`window '${spec}': must divide a day evenly (e.g. 1h, 6h, 12h) or be whole days`);
  }
  return us;
}

export function windowIndex(tsUs: number, windowUs: number): number {
  return Math.floor(tsUs / windowUs);
}

export interface WindowRange {
  index: number;
  startUs: number;
  /** Exclusive. */
  endUs: number;
}

export function windowRange(index: number, windowUs: number): WindowRange {
  return { index, startUs: index * windowUs, endUs: (index + 1) * windowUs };
}

/**
 * A --from/--to bound in µs: an ISO 8601 date ('2024-03-01' is midnight UTC) or date-time (without an offset it is
 * UTC), or a Date. `from` is inclusive, `to` exclusive.
 */
export function parseTimeBound(v: string | Date | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new InvalidArgumentError(`${name}: invalid Date`);
    return v.getTime() * 1000;
  }
  const text = v.trim();
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text);
  if (!m) throw new InvalidArgumentError(`${name} '${v}': expected an ISO 8601 date or date-time such as 2024-03-01 or 2024-03-01T06:00:00Z`);
  const iso = `${m[1]}T${m[2] ?? '00:00:00'}${m[4] ?? 'Z'}`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`${name} '${v}': not a valid date-time`);
  const frac = m[3] ? Math.round(Number(`0${m[3]}`) * 1e6) : 0;
  return ms * 1000 + frac;
}

/** 'YYYY-MM-DD' of a UTC day number. */
export function dayText(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** 'YYYY-MM' of the UTC month holding a µs instant. */
export function monthText(tsUs: number): string {
  return new Date(Math.floor(tsUs / 1000)).toISOString().slice(0, 7);
}

/** ISO text of a µs instant (exact to the microsecond). */
export function isoMicros(tsUs: number): string {
  const ms = Math.floor(tsUs / 1000);
  const us = tsUs - ms * 1000;
  const base = new Date(ms).toISOString();
  return us === 0 ? base : `${base.slice(0, -1)}${String(us).padStart(3, '0')}Z`;
}
