// What an incremental quality run must look at: the data files the readings table gained since the version the last
// run processed (files compaction rewrote are not new data), bounded by their statistics into one box of time and
// sensor ids.

import type { DeltaTable, Snapshot } from '../delta/table.js';

export interface DirtyBox {
  /** Bounds of the new files' timestamps, µs, from statistics that keep milliseconds: read up to tMax + 999 µs. */
  tMin: number;
  tMax: number;
  /** Inclusive bounds of their sensor ids; null when some file has no such statistics. */
  sMin: string | null;
  sMax: string | null;
  files: number;
}

/** Delta keeps the first 32 characters of a string in its min/max statistics. */
const STATS_PREFIX = 32;
const DAY_US = 86_400e6;

interface FileStats {
  minValues?: Record<string, unknown>;
  maxValues?: Record<string, unknown>;
}

function parseTs(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return null;
  const frac = /\.(\d+)/.exec(v)?.[1] ?? '';
  // Statistics may carry µs digits; Date.parse keeps only ms.
  const extraUs = frac.length > 3 ? Number(frac.slice(3, 6).padEnd(3, '0')) : 0;
  return ms * 1000 + extraUs;
}

/** A file's [min, max] ts from its statistics, else from its date/month partition, else unbounded. */
function timeBounds(add: { stats?: string | null; partitionValues: Record<string, string | null> }): [number, number] {
  let st: FileStats = {};
  try {
    st = add.stats ? (JSON.parse(add.stats) as FileStats) : {};
  } catch {
    st = {};
  }
  const lo = parseTs(st.minValues?.ts);
  const hi = parseTs(st.maxValues?.ts);
  if (lo !== null && hi !== null) return [lo, hi];
  const date = add.partitionValues.date;
  if (date) {
    const d = Date.parse(`${date}T00:00:00Z`) * 1000;
    if (!Number.isNaN(d)) return [d, d + DAY_US - 1];
  }
  const month = add.partitionValues.month;
  if (month) {
    const m0 = Date.parse(`${month}-01T00:00:00Z`);
    if (!Number.isNaN(m0)) {
      const next = new Date(m0);
      next.setUTCMonth(next.getUTCMonth() + 1);
      return [m0 * 1000, next.getTime() * 1000 - 1];
    }
  }
  return [-Infinity, Infinity];
}

function sensorBounds(stats: string | null | undefined): [string, string] | null {
  try {
    const st = stats ? (JSON.parse(stats) as FileStats) : {};
    const lo = st.minValues?.sensor_id;
    const hi = st.maxValues?.sensor_id;
    if (typeof lo !== 'string' || typeof hi !== 'string') return null;
    // A max cut at the prefix length is below the ids it stands for: lift it past every continuation.
    return [lo, hi.length >= STATS_PREFIX ? `${hi}\u{10ffff}` : hi];
  } catch {
    return null;
  }
}

function added(now: Snapshot, before: Snapshot): string[] {
  const old = before.fileMap();
  return [...now.fileMap().keys()].filter((k) => !old.has(k));
}

/**
 * The box around the data files live at `version` but not at `since`, leaving out files that OPTIMIZE commits in
 * between wrote (they hold rows already seen); null when there are none.
 */
export async function dirtyBox(readings: DeltaTable, since: number, version: number): Promise<DirtyBox | null> {
  const now = await readings.snapshot({ version });
  const before = await readings.snapshot({ version: since });
  const rewritten = new Set<string>();
  for (const h of await readings.history(version - since)) {
    if (h.version <= since || h.version > version || h.operation !== 'OPTIMIZE') continue;
    const after = await readings.snapshot({ version: h.version });
    const prior = await readings.snapshot({ version: h.version - 1 });
    for (const k of added(after, prior)) rewritten.add(k);
  }
  const keys = added(now, before).filter((k) => !rewritten.has(k));
  if (keys.length === 0) return null;
  const files = now.fileMap();
  const box: DirtyBox = { tMin: Infinity, tMax: -Infinity, sMin: null, sMax: null, files: keys.length };
  let sensorsKnown = true;
  for (const k of keys) {
    const add = files.get(k)!;
    const [lo, hi] = timeBounds(add);
    box.tMin = Math.min(box.tMin, lo);
    box.tMax = Math.max(box.tMax, hi);
    const s = sensorBounds(add.stats);
    if (!s) sensorsKnown = false;
    else if (sensorsKnown) {
      box.sMin = box.sMin === null || s[0] < box.sMin ? s[0] : box.sMin;
      box.sMax = box.sMax === null || s[1] > box.sMax ? s[1] : box.sMax;
    }
  }
  if (!sensorsKnown) {
    box.sMin = null;
    box.sMax = null;
  }
  return box;
}
