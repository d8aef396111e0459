// Lead-lag pairs of one asset straight from the lake (`sensorlake quality causal`): its numeric sensors over a
// window, by default the last day of the readings table.

import { leadLagMembers, type CausalOptions, type CausalResult } from './causal.js';
import { member } from './causal-align.js';
import { observedOf } from './impute.js';
import { expectedIntervalUs } from './interval.js';
import { isNumeric } from './analyze.js';
import { assetFromId, loadSensors, loadWhere, openReadingsTable, partitionOf, readingsWhere } from './series.js';
import { isoMicros } from '../backfill/plan.js';
import { NotFoundError } from '../errors.js';

export interface AssetCausalOptions extends CausalOptions {
  /** Window bounds, µs; default the last `windowS` seconds before the newest reading. */
  from?: number;
  to?: number;
  /** Default 86,400 (one day). */
  windowS?: number;
}

export interface AssetCausal extends CausalResult {
  from: string;
  to: string;
  sensors: string[];
}

/** The newest reading time in the table, from file statistics (to the millisecond), or null for an empty table. */
async function newestTs(lake: string): Promise<number | null> {
  const snap = await (await openReadingsTable(lake)).snapshot();
  let max = -Infinity;
  for (const f of snap.files()) {
    try {
      const ts = (JSON.parse(f.stats ?? '{}') as { maxValues?: { ts?: string } }).maxValues?.ts;
      if (ts) max = Math.max(max, Date.parse(ts) * 1000);
    } catch {
      return null;
    }
  }
  return Number.isFinite(max) ? max : null;
}

export async function assetCausal(lake: string, asset: string, opts: AssetCausalOptions = {}): Promise<AssetCausal> {
  const sensors = await loadSensors(lake);
  const ids = [...sensors.values()].filter((s) => (s.asset ?? assetFromId(s.sensor_id)) === asset).map((s) => s.sensor_id).sort();
  if (ids.length === 0) throw new NotFoundError(`${lake}: the sensors table lists no sensor of asset '${asset}'`);
  const to = opts.to ?? (await newestTs(lake)) ?? 0;
  const from = opts.from ?? to - (opts.windowS ?? 86_400) * 1e6;
  const table = await openReadingsTable(lake);
  const snap = await table.snapshot();
  const loaded = await loadWhere(lake, readingsWhere(partitionOf(snap.partitionColumns), { sensorIds: ids, from, to: to + 1000 }), snap.version);
  const numeric = loaded.series.filter((s) => isNumeric(s, sensors.get(s.sensorId)));
  const members = numeric.map((s) => member(s.sensorId, observedOf(s), expectedIntervalUs(s.ts, sensors.get(s.sensorId)?.interval_s).intervalUs));
  const r = leadLagMembers(asset, members, opts);
  return { ...r, from: isoMicros(from), to: isoMicros(to), sensors: numeric.map((s) => s.sensorId) };
}
