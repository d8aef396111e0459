// `sensorlake demo`: the README's first command. Simulates a small plant with faults, backfills it into ./lake,
// prints the backfill summary and answers to a few example queries. The work is runDemo() in src/demo.ts.

import { Command } from 'commander';
import { runDemo } from '../demo.js';
import { summaryLines } from '../backfill/report.js';
import { out } from './output.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description('simulate a plant with faults, backfill it into a lake, and answer a few example queries')
    .option('--lake <dir>', 'the lake directory', 'lake')
    .option('--sensors <n>', 'number of sensors', '100')
    .option('--hours <h>', 'hours of history', '24')
    .option('--interval <duration>', 'base interval between readings', '10s')
    .option('--json', 'machine-readable result')
    .action(async (o: { lake: string; sensors: string; hours: string; interval: string; json?: boolean }) => {
      const r = await runDemo({ lake: o.lake, sensors: Number(o.sensors), hours: Number(o.hours), interval: o.interval });
      if (o.json) return out(JSON.stringify(r));
      const mb = (r.simulated.bytes / 1e6).toFixed(1);
      out(`simulated ${r.simulated.sensors} sensors on ${r.simulated.assets} assets: ${r.simulated.expected.records.toLocaleString('en')} records (${mb} MB CSV, with injected faults) in ${r.sourceDir}`);
      for (const line of summaryLines(r.report)) out(line);
      for (const a of r.answers) {
        out('');
        out(`? ${a.question}`);
        for (const line of a.answer) out(`  ${line}`);
      }
      out('');
      out(`lake: ${r.report.lake}/{readings,quarantine,sensors}, Delta tables that Spark, delta-rs and DuckDB read`);
      out(`next: sensorlake table describe ${r.report.lake}/readings`);
    });
}
