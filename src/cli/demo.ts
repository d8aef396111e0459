// `sensorlake demo`: the main job on the embedded default. Simulates a plant and writes its readings into a
// Delta table that Spark, delta-rs and DuckDB read, then describes what was written.

import { Command } from 'commander';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { DeltaTable, field, struct } from '../delta/table.js';
import { simulatePlant } from '../sim/plant.js';
import { out } from './output.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description('simulate a plant and write a day of its readings into a Delta table')
    .option('--lake <dir>', 'where to write', 'demo-lake')
    .option('--sensors <n>', 'number of sensors', '200')
    .option('--hours <h>', 'hours of history', '24')
    .option('--interval <s>', 'seconds between readings', '10')
    .option('--json', 'machine-readable summary')
    .action(async (o: { lake: string; sensors: string; hours: string; interval: string; json?: boolean }) => {
      const location = path.resolve(o.lake, 'readings');
      await fs.rm(location, { recursive: true, force: true });
      const table = await DeltaTable.create(location, {
        schema: struct([
          field('ts', 'timestamp', false),
          field('sensor_id', 'string', false),
          field('value', 'double'),
          field('quality', 'integer', false),
          field('date', 'date', false),
        ]),
        partitionColumns: ['date'],
        description: 'simulated plant readings',
      });
      const started = performance.now();
      let rows = 0;
      let files = 0;
      let bytes = 0;
      let index = 0;
      for (const batch of simulatePlant({ sensors: Number(o.sensors), hours: Number(o.hours), intervalSeconds: Number(o.interval) })) {
        const r = await table.write(batch, { sortBy: ['sensor_id', 'ts'], txn: { appId: 'sensorlake-demo', version: index++ } });
        rows += r.rowsWritten;
        files += r.filesAdded;
        bytes += r.bytesWritten;
      }
      const seconds = (performance.now() - started) / 1000;
      const snap = await table.snapshot();
      const summary = { table: location, version: snap.version, rows, files, bytes, seconds: Number(seconds.toFixed(2)), rowsPerSecond: Math.round(rows / seconds) };
      if (o.json) return out(JSON.stringify(summary));
      out(`wrote ${rows.toLocaleString('en')} readings in ${files} files (${(bytes / 1e6).toFixed(1)} MB) to ${location}`);
      out(`version ${snap.version}, ${seconds.toFixed(1)} s, ${summary.rowsPerSecond.toLocaleString('en')} rows/s`);
      out(`next: sensorlake table describe ${location}`);
    });
}
