// sensors.csv, the sensor list a backfill loads next to the data: one row per sensor with its asset, unit, interval,
// valid range (empty for text sensors), description, kind and value type.

import { promises as fs } from 'node:fs';
import type { SensorRow } from './truth.js';

export const SENSOR_COLUMNS = ['sensor_id', 'asset', 'unit', 'interval_s', 'valid_min', 'valid_max', 'description', 'kind', 'value_type'] as const;

function cell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function sensorsCsv(rows: readonly SensorRow[]): string {
  const lines = [SENSOR_COLUMNS.join(',')];
  for (const r of rows) lines.push(SENSOR_COLUMNS.map((c) => cell(r[c])).join(','));
  return lines.join('\n') + '\n';
}

export async function writeSensorsCsv(file: string, rows: readonly SensorRow[]): Promise<void> {
  await fs.writeFile(file, sensorsCsv(rows));
}
