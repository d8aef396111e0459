// Entry points of the delta-write benchmark, one per child process the `run` script starts:
//   gen <ipc> [--sensors N] [--readings N] [--interval S] [--order time|sensor] [--batch-rows N]
//   ours <ipc> <table-dir> [--codec zstd|snappy]   writes the IPC file's rows with DeltaTable.write, prints one JSON line
//   report <work-dir> <repeats>  folds ours.N.json, peer.N.json, verify.json and gen.json into the table and JSON line

import * as arrow from 'apache-arrow';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DeltaTable, shutdownWorkers } from '../../src/delta/table.js';
import { generate, type GenOptions } from './gen.js';

function flag(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}

/** Bytes of the Parquet data files under `dir` (the log excluded) and their count. */
export function dataFiles(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === '_delta_log') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const sub = dataFiles(p);
      bytes += sub.bytes;
      files += sub.files;
    } else if (e.name.endsWith('.parquet')) {
      bytes += statSync(p).size;
      files++;
    }
  }
  return { bytes, files };
}

async function ours(ipcPath: string, dir: string, codec: 'zstd' | 'snappy'): Promise<void> {
  const input = arrow.tableFromIPC(readFileSync(ipcPath));
  const rssLoaded = process.memoryUsage().rss;
  const table = await DeltaTable.create(dir, { schema: input.schema, partitionColumns: ['date'] });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await table.write(input, { parquet: { compression: codec } });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0); // every thread of the process: the encoder workers too
  await shutdownWorkers();
  const out = dataFiles(dir);
  const result = {
    engine: 'sensorlake',
    rows: res.rowsWritten,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    outputBytes: out.bytes,
    files: out.files,
    codec: codec === 'zstd' ? 'zstd(1)' : codec,
    rssLoadedBytes: rssLoaded,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

interface Side {
  engine: string;
  rows: number;
  seconds: number;
  /** CPU time of the whole process (all threads) during the write. */
  cpuSeconds: number;
  outputBytes: number;
  files: number;
  codec: string;
  rssLoadedBytes: number;
  /** From the process itself; the run script replaces it with /usr/bin/time's figure. */
  maxRssBytes: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** One writer's runs folded into one row: median wall and CPU time, the largest peak RSS. */
function fold(runs: Side[]): Side & { samples: number[] } {
  const mid = runs.find((r) => r.seconds === median(runs.map((x) => x.seconds))) ?? runs[0];
  return {
    ...mid,
    seconds: median(runs.map((r) => r.seconds)),
    cpuSeconds: median(runs.map((r) => r.cpuSeconds)),
    maxRssBytes: Math.max(...runs.map((r) => r.maxRssBytes)),
    rssLoadedBytes: Math.max(...runs.map((r) => r.rssLoadedBytes)),
    samples: runs.map((r) => +r.seconds.toFixed(3)),
  };
}

function report(dir: string, repeats: number): void {
  const load = <T>(name: string): T => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;
  const a = fold(Array.from({ length: repeats }, (_, i) => load<Side>(`ours.${i + 1}.json`)));
  const b = fold(Array.from({ length: repeats }, (_, i) => load<Side>(`peer.${i + 1}.json`)));
  const verify = load<{ ok: boolean; rows: number; detail: string }>('verify.json');
  const gen = load<{ sensors: number; readingsPerSensor: number; order: string; batchRows: number; bytes: number }>('gen.json');
  const mb = (x: number): number => x / 1e6;
  const row = (s: Side): string[] => [
    s.engine,
    s.rows.toLocaleString('en-US'),
    s.seconds.toFixed(2),
    s.cpuSeconds.toFixed(2),
    Math.round(s.rows / s.seconds).toLocaleString('en-US'),
    (mb(s.outputBytes) / s.seconds).toFixed(1),
    mb(s.outputBytes).toFixed(1),
    String(s.files),
    s.codec,
    (s.maxRssBytes / 2 ** 20).toFixed(0),
    (s.rssLoadedBytes / 2 ** 20).toFixed(0),
  ];
  const head = ['writer', 'rows', 'wall s', 'CPU s', 'rows/s', 'out MB/s', 'out MB', 'files', 'codec', 'peak RSS MiB', 'RSS after load MiB'];
  const rows = [head, row(a), row(b)];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const ratio = a.rows / a.seconds / (b.rows / b.seconds);
  console.log(`${a.rows.toLocaleString('en-US')} rows (${gen.sensors} sensors x ${gen.readingsPerSensor} readings, ${gen.order} order), write from memory, median of ${repeats} run(s)`);
  console.log(line(rows[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  console.log(line(rows[1]));
  console.log(line(rows[2]));
  console.log(`throughput ratio sensorlake / delta-rs: ${ratio.toFixed(2)}x (wall s per run: ours ${a.samples.join(', ')}; delta-rs ${b.samples.join(', ')})`);
  console.log(`check: delta-rs reads the sensorlake table: ${verify.ok ? 'OK' : 'MISMATCH'} (${verify.detail})`);
  const side = (s: Side & { samples: number[] }) => ({
    seconds: +s.seconds.toFixed(3),
    cpuSeconds: +s.cpuSeconds.toFixed(3),
    rowsPerSec: Math.round(s.rows / s.seconds),
    outMBPerSec: +(mb(s.outputBytes) / s.seconds).toFixed(2),
    outputBytes: s.outputBytes,
    files: s.files,
    codec: s.codec,
    peakRssBytes: s.maxRssBytes,
    rssAfterLoadBytes: s.rssLoadedBytes,
    samples: s.samples,
  });
  const json = {
    bench: 'delta-write',
    rows: a.rows,
    input: { sensors: gen.sensors, readingsPerSensor: gen.readingsPerSensor, order: gen.order, batchRows: gen.batchRows, ipcBytes: gen.bytes },
    repeats,
    sensorlake: side(a),
    'delta-rs': side(b),
    ratio: { 'delta-rs': +ratio.toFixed(3) },
    check: { deltaRsReadsOurs: verify.ok, rows: verify.rows },
  };
  console.log(JSON.stringify(json));
}

async function main(): Promise<void> {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === 'gen') {
    const o: GenOptions = {
      sensors: Number(flag(args, 'sensors', '2000')),
      readingsPerSensor: Number(flag(args, 'readings', '5000')),
      intervalSeconds: Number(flag(args, 'interval', '120')),
      order: flag(args, 'order', 'time') === 'sensor' ? 'sensor' : 'time',
      batchRows: Number(flag(args, 'batch-rows', '1000000')),
      seed: 7,
    };
    const r = generate(args[0], o);
    process.stdout.write(JSON.stringify({ ...r, ...o }) + '\n');
  } else if (cmd === 'ours') {
    await ours(args[0], args[1], flag(args, 'codec', 'zstd') === 'snappy' ? 'snappy' : 'zstd');
  } else if (cmd === 'report') {
    report(args[0], Number(args[1]));
  } else {
    console.error('usage: main.js gen|ours|report ...');
    process.exit(2);
  }
}

await main();
