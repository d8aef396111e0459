// Naive local wall times in an IANA zone -> UTC, with the DST rules (ambiguous, nonexistent). Used by timestamps.ts;
// offsets come from Intl (full ICU) and are cached per UTC hour, so the per-row cost is a couple of Map lookups.

import { InvalidArgumentError } from '../errors.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const CACHE_LIMIT = 200_000; // hours (~23 years of sorted data) before a cache is dropped, to bound memory

/** What resolving one wall time did: 0 unique, 1 ambiguous, 2 nonexistent (a gap). */
export const UNIQUE = 0;
export const AMBIGUOUS = 1;
export const NONEXISTENT = 2;

export interface Resolution {
  /** The UTC instant in ms chosen by the rules (for AMBIGUOUS: earlier; `laterMs` holds the other one). */
  utcMs: number;
  laterMs: number;
  kind: typeof UNIQUE | typeof AMBIGUOUS | typeof NONEXISTENT;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil); valid for any year. */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

export class ZoneClock {
  private readonly fmt: Intl.DateTimeFormat;
  /** UTC hour -> [offset at its start, offset at its end, first ms at the end offset] (offsets in ms). */
  private utcHours = new Map<number, [number, number, number]>();
  /** Local hour -> its single offset, or NaN when a transition is near (then rows are resolved one by one). */
  private localHours = new Map<number, number>();
  private lastLocalHour = NaN;
  private lastLocalOffset = 0;
  /** Reused: resolve() allocates nothing on the hot path. */
  readonly result: Resolution = { utcMs: 0, laterMs: 0, kind: UNIQUE };

  constructor(readonly zone: string) {
    try {
      this.fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (e) {
      throw new InvalidArgumentError(`time.zone '${zone}' is not an IANA time zone this Node knows (e.g. Europe/Berlin)`, { cause: e });
    }
  }

  /** True when the zone is UTC under another name: naive times then need no lookup at all. */
  get isUtc(): boolean {
    const z = this.fmt.resolvedOptions().timeZone;
    return z === 'UTC' || z === 'Etc/UTC' || z === 'Etc/GMT' || z === 'GMT';
  }

  /** Offset (local - UTC) in ms at a UTC instant. */
  offsetAt(utcMs: number): number {
    const h = Math.floor(utcMs / HOUR);
    let e = this.utcHours.get(h);
    if (e === undefined) {
      if (this.utcHours.size >= CACHE_LIMIT) this.utcHours.clear();
      e = this.hourEntry(h * HOUR);
      this.utcHours.set(h, e);
    }
    return utcMs < e[2] ? e[0] : e[1];
  }

  /**
   * Resolves wall time `wallMs` (local time written as if it were UTC) into `this.result`. Only the offsets a day
   * before and after can apply (zones change at most once within two days), so each is tried as a candidate.
   */
  resolve(wallMs: number): Resolution {
    const r = this.result;
    const lh = Math.floor(wallMs / HOUR);
    let off = lh === this.lastLocalHour ? this.lastLocalOffset : this.localHours.get(lh);
    if (off === undefined) {
      if (this.localHours.size >= CACHE_LIMIT) this.localHours.clear();
      off = this.simpleOffset(lh * HOUR);
      this.localHours.set(lh, off);
    }
    if (off === off) {
      this.lastLocalHour = lh;
      this.lastLocalOffset = off;
      r.utcMs = wallMs - off;
      r.kind = UNIQUE;
      return r;
    }
    const oA = this.offsetAt(wallMs - DAY);
    const oB = this.offsetAt(wallMs + DAY);
    const uA = wallMs - oA;
    const uB = wallMs - oB;
    const okA = this.offsetAt(uA) === oA;
    const okB = oB !== oA && this.offsetAt(uB) === oB;
    if (okA && okB) {
      r.kind = AMBIGUOUS;
      r.utcMs = Math.min(uA, uB);
      r.laterMs = Math.max(uA, uB);
    } else if (okA || okB) {
      r.kind = UNIQUE;
      r.utcMs = okA ? uA : uB;
    } else {
      // In a gap: keep the offset in force before it, which moves the wall time forward by the gap's length.
      r.kind = NONEXISTENT;
      r.utcMs = uA;
    }
    return r;
  }

  /** The one offset valid for a whole local hour, or NaN when a transition may touch it. */
  private simpleOffset(startMs: number): number {
    const o = this.offsetAt(startMs - DAY);
    if (this.offsetAt(startMs + HOUR + DAY) !== o) return NaN;
    if (this.offsetAt(startMs - o) !== o || this.offsetAt(startMs + HOUR - 1 - o) !== o) return NaN;
    return o;
  }

  private hourEntry(startMs: number): [number, number, number] {
    const a = this.rawOffset(startMs);
    const b = this.rawOffset(startMs + HOUR - 1000);
    if (a === b) return [a, a, Infinity];
    // Zones change on whole seconds: binary search the first second showing the new offset.
    let lo = 0;
    let hi = 3599;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.rawOffset(startMs + mid * 1000) === b) hi = mid;
      else lo = mid + 1;
    }
    return [a, b, startMs + lo * 1000];
  }

  private rawOffset(utcMs: number): number {
    const p = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
    for (const part of this.fmt.formatToParts(utcMs)) {
      if (part.type in p) p[part.type as keyof typeof p] = Number(part.value);
    }
    const wall = (daysFromCivil(p.year, p.month, p.day) * 86_400 + p.hour * 3600 + p.minute * 60 + p.second) * 1000;
    return wall - Math.floor(utcMs / 1000) * 1000;
  }
}
