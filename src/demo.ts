// The embedded default (`sensorlake demo`): simulate a small plant with faults, backfill it into a lake, then answer
// a few questions a plant engineer would ask, with the lake checked against the simulator's ground truth.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { simulate, type SimulateSummary } from './sim/simulate.js';
import { backfill, type BackfillReport } from './backfill/run.js';
import { DeltaTable } from './delta/table.js';
import { InvalidArgumentError } from './errors.js';

export interface DemoOptions {
  /** The lake directory (default ./lake). */
  lake?: string;
  sensors?: number;
  /** Hours of history (from 2024-01-01T00:00Z). */
  hours?: number;
  /** Base interval between readings, e.g. '10s'. */
  interval?: string;
  seed?: number;
}

export interface DemoAnswer {
  question: string;
  answer: string[];
}

export interface DemoResult {
  sourceDir: string;
  simulated: Pick<SimulateSummary, 'files' | 'bytes' | 'sensors' | 'assets' | 'expected'>;
  report: BackfillReport;
  /** Whether the lake holds exactly what the simulator's truth.json says it should. */
  matchesTruth: boolean;
  answers: DemoAnswer[];
}

const BAD = 0x80000000;

function fmt(n: number, digits = 2): string {
  return n.toLocaleString('en', { maximumFractionDigits: digits });
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const lake = path.resolve(opts.lake ?? 'lake');
  const sourceDir = path.join(lake, '_sensorlake', 'demo-source');
  await resetDemoLake(lake, sourceDir);
  const hours = opts.hours ?? 24;
  const from = new Date(Date.UTC(2024, 0, 1));
  const sim = await simulate({
    out: sourceDir,
    format: 'csv',
    sensors: opts.sensors ?? 100,
    from: from.toISOString(),
    to: new Date(from.getTime() + hours * 3_600_000).toISOString(),
    interval: opts.interval ?? '10s',
    seed: opts.seed ?? 1,
    faults: 'default',
    force: true,
  });
  const report = await backfill({ source: sourceDir, lake, sensors: sim.sensorsFile, window: '6h' });
  const readings = await DeltaTable.open(path.join(lake, 'readings'));
  const quarantine = await DeltaTable.open(path.join(lake, 'quarantine'));
  const e = sim.expected;
  const rows = (await readings.snapshot()).files().reduce((n, f) => n + (f.stats ? (JSON.parse(f.stats) as { numRecords: number }).numRecords : 0), 0);
  const matchesTruth = rows === e.distinctKeys && report.quarantined === e.malformedTotal && report.balanced;

  const answers: DemoAnswer[] = [];
  answers.push({
    question: 'Does the lake hold exactly what the plant produced?',
    answer: [
      `${fmt(rows)} readings in the lake; truth.json expects ${fmt(e.distinctKeys)} distinct valid (sensor_id, ts): ${rows === e.distinctKeys ? 'equal' : 'DIFFERENT'}`,
      `${fmt(report.duplicates)} duplicate records skipped (truth: ${fmt(e.exactDuplicates)} exact + ${fmt(e.conflictingDuplicates)} conflicting), ${fmt(report.quarantined)} quarantined (truth: ${fmt(e.malformedTotal)} malformed)`,
    ],
  });

  const sensor = await firstSensor(lake, 'pressure');
  if (sensor) {
    const lastHour = new Date(from.getTime() + (hours - 1) * 3_600_000).toISOString();
    const where = `sensor_id = '${sensor}' AND ts >= '${lastHour}'`;
    const t = await readings.read({ where, columns: ['ts', 'value'] });
    const values = (t.getChild('value')?.toArray() as Float64Array | undefined) ?? new Float64Array();
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let n = 0;
    for (const v of values) {
      if (Number.isNaN(v)) continue;
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
      n++;
    }
    const filesRead = (await readings.files({ where })).length;
    const filesAll = (await readings.snapshot()).files().length;
    answers.push({
      question: `What did ${sensor} do in the last hour?`,
      answer: [
        n === 0 ? 'no readings' : `${n} readings, min ${fmt(min)}, mean ${fmt(sum / n)}, max ${fmt(max)}`,
        `read ${filesRead} of ${filesAll} data files: the rest were skipped by date partition and sensor_id/ts statistics`,
      ],
    });
  }

  const q = await readings.read({ where: `quality >= ${BAD}`, columns: ['sensor_id'] });
  const bad = new Map<string, number>();
  for (const id of q.getChild('sensor_id')?.toArray() ?? []) bad.set(String(id), (bad.get(String(id)) ?? 0) + 1);
  const worst = [...bad.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
  answers.push({
    question: 'Which sensors report the most bad-quality readings?',
    answer: worst.length === 0 ? ['none'] : worst.map(([id, c]) => `${id}: ${fmt(c)}`),
  });

  const reasons = new Map<string, number>();
  for (const r of (await quarantine.read({ columns: ['reason'] })).getChild('reason')?.toArray() ?? []) reasons.set(String(r), (reasons.get(String(r)) ?? 0) + 1);
  answers.push({
    question: 'Why were records quarantined?',
    answer: [...reasons.entries()].sort((a, b) => b[1] - a[1]).map(([r, c]) => `${r}: ${fmt(c)}`),
  });

  return {
    sourceDir,
    simulated: { files: sim.files, bytes: sim.bytes, sensors: sim.sensors, assets: sim.assets, expected: sim.expected },
    report,
    matchesTruth,
    answers,
  };
}

/** The demo starts from an empty lake each time; it clears only a lake it made itself (marked by its source dir). */
async function resetDemoLake(lake: string, sourceDir: string): Promise<void> {
  const entries = await fs.readdir(lake).catch(() => [] as string[]);
  const ours = await fs.stat(sourceDir).then(() => true, () => false);
  if (entries.length > 0 && !ours) {
    throw new InvalidArgumentError(`${lake} exists and is not a demo lake; the demo writes only to a new or earlier demo lake (choose one with --lake)`);
  }
  for (const e of entries) await fs.rm(path.join(lake, e), { recursive: true, force: true });
  await fs.mkdir(sourceDir, { recursive: true });
}

/** The first sensor (in id order) measuring `quantity` (the last part of its id), from the lake's sensors table. */
async function firstSensor(lake: string, quantity: string): Promise<string | null> {
  const sensors = await DeltaTable.open(path.join(lake, 'sensors'));
  const ids: string[] = Array.from((await sensors.read({ columns: ['sensor_id'] })).getChild('sensor_id')?.toArray() ?? [], String);
  return ids.filter((id) => id.endsWith(`/${quantity}`)).sort()[0] ?? null;
}
