// `sensorlake simulate`: writes a simulated plant's history in one source format, plus truth.json and sensors.csv,
// by calling simulate() from src/sim. Exit codes as main.ts: 0 ok, 1 failed, 2 bad usage.

import { Command, Option } from 'commander';
import { FORMATS, type SourceFormat } from '../sources/options.js';
import { ASSET_TYPES, SENSOR_KINDS, type AssetType, type SensorKind } from '../sim/catalog.js';
import { FAULT_PROFILES, type FaultProfile } from '../sim/faults.js';
import { simulate } from '../sim/simulate.js';
import { InvalidArgumentError } from '../errors.js';
import { out, printTable } from './output.js';

function num(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`--${flag} '${v}' is not a number`);
  return n;
}

interface Flags {
  out: string;
  format: SourceFormat;
  sensors: string;
  from: string;
  to?: string;
  interval: string;
  seed: string;
  faults: FaultProfile;
  gzip?: boolean;
  split: 'none' | 'day';
  assets?: string;
  kinds?: string;
  force?: boolean;
  json?: boolean;
}

export function simulateCommand(): Command {
  return new Command('simulate')
    .description('generate a realistic plant history (deterministic by seed) in a source format, with truth.json of every injected fault')
    .requiredOption('--out <dir>', 'output directory (created; must be empty unless --force)')
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('csv'))
    .option('--sensors <n>', 'number of sensors', '50')
    .option('--from <iso>', 'first timestamp (UTC)', '2024-01-01T00:00:00Z')
    .option('--to <iso>', 'end, exclusive (default: one day after --from)')
    .option('--interval <duration>', 'base interval, e.g. 1s, 500ms, 1m; temperature and state sensors report every 10th', '1s')
    .option('--seed <n>', 'random seed: the same seed gives byte-identical output', '1')
    .addOption(new Option('--faults <profile>', 'injected faults').choices(FAULT_PROFILES).default('default'))
    .option('--gzip', 'gzip the data files')
    .addOption(new Option('--split <by>', 'one file per UTC day').choices(['none', 'day']).default('none'))
    .option('--assets <types>', `comma-separated asset types to build the plant from (${ASSET_TYPES.join(', ')})`)
    .option('--kinds <kinds>', `comma-separated sensor kinds assets carry (${SENSOR_KINDS.join(', ')}); without state the values are all numeric`)
    .option('--force', 'empty the output directory first')
    .option('--json', 'machine-readable summary')
    .action(async (o: Flags) => {
      const s = await simulate({
        out: o.out,
        format: o.format,
        sensors: num('sensors', o.sensors),
        from: o.from,
        to: o.to,
        interval: o.interval,
        seed: num('seed', o.seed),
        faults: o.faults,
        gzip: o.gzip === true,
        split: o.split,
        assets: o.assets === undefined ? undefined : (o.assets.split(',').map((a) => a.trim()) as AssetType[]),
        kinds: o.kinds === undefined ? undefined : (o.kinds.split(',').map((k) => k.trim()) as SensorKind[]),
        force: o.force === true,
      });
      if (o.json) return out(JSON.stringify(s));
      const e = s.expected;
      out(`wrote ${e.records.toLocaleString('en')} records of ${s.sensors} sensors on ${s.assets} asset${s.assets === 1 ? '' : 's'} to ${s.dir} (${o.format})`);
      out(`  ${e.readings.toLocaleString('en')} readings: ${e.distinctKeys.toLocaleString('en')} distinct keys, ${e.exactDuplicates} exact and ${e.conflictingDuplicates} conflicting duplicates, ${e.outOfRange} out of range, ${e.late} late`);
      const bad = Object.entries(e.malformed).map(([r, n]) => `${r} ${n}`).join(', ');
      out(`  ${e.malformedTotal} malformed${bad ? `: ${bad}` : ''}; ${e.missing.toLocaleString('en')} readings left out by gaps`);
      const shown = s.files.slice(0, 10).map((f) => ({ file: f.path, records: f.records.toLocaleString('en'), MB: (f.bytes / 1e6).toFixed(1) }));
      printTable(shown, '  ');
      if (s.files.length > shown.length) out(`  ... and ${s.files.length - shown.length} more files`);
      out(`${s.seconds.toFixed(1)} s, ${s.recordsPerSecond.toLocaleString('en')} records/s, ${(s.bytes / 1e6).toFixed(1)} MB`);
      out(`truth: ${s.truthFile} (${s.faults} faults); sensors: ${s.sensorsFile}`);
    });
}
