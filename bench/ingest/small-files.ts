// What a day of 1-s micro-batches costs before compaction: grows one open `date` partition of `readings` by one
// small file per commit (as live ingest does) and, at each live-file count, measures the ingest commit latency (ten
// commits, one of them writing the checkpoint), a snapshot load, a full scan of the partition, and on a copy a
// checkpoint, the OPTIMIZE of the partition, the scan after it and a checkpoint after it (tombstones instead of adds). It chose compaction-policy.ts's openMaxSmallFiles.
//
// Usage: node dist/bench/ingest/small-files.js [--rows-per-file N (1000)] [--counts 100,300,1000,3000] [--dir D]
// Prints one table and one JSON line; asserts nothing.

import * as arrow from 'apache-arrow';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DeltaTable, shutdownWorkers } from '../../src/delta/table.js';
import { readingsSchema } from '../../src/backfill/lake.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const ROWS = Number(flag('rows-per-file', '1000'));
const COUNTS = flag('counts', '100,300,1000,3000').split(',').map(Number);
const DAY_MS = Date.UTC(2024, 0, 1);
const SENSORS = Array.from({ length: ROWS }, (_, i) => `plant1/line${i % 8}/sensor-${i}`);

/** One commit's worth of readings: every sensor once, at second `k` of the day. */
function batch(k: number): arrow.Table {
  const ts = new BigInt64Array(ROWS).fill(BigInt(DAY_MS + k * 1000) * 1000n);
  const value = Float64Array.from({ length: ROWS }, (_, i) => Math.sin(i + k) * 100);
  const quality = new BigInt64Array(ROWS);
  const date = new Int32Array(ROWS).fill(DAY_MS / 86_400_000);
  return new arrow.Table({
    ts: arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: ROWS, nullCount: 0, data: ts })),
    sensor_id: arrow.vectorFromArray(SENSORS, new arrow.Utf8()),
    value: arrow.makeVector(value),
    value_text: arrow.vectorFromArray(new Array<string | null>(ROWS).fill(null), new arrow.Utf8()),
    quality: arrow.makeVector(quality),
    source: arrow.vectorFromArray(new Array<string>(ROWS).fill('http'), new arrow.Utf8()),
    date: arrow.makeVector(arrow.makeData({ type: new arrow.DateDay(), length: ROWS, nullCount: 0, data: date })),
  });
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await fn();
  return [performance.now() - t0, r];
}

interface Row {
  files: number;
  commitMsMean: number;
  commitMsMax: number;
  snapshotMs: number;
  scanMs: number;
  checkpointMs: number;
  optimizeMs: number;
  scanAfterMs: number;
  /** A checkpoint after the OPTIMIZE: one live file, but every compacted file stays as a tombstone for 7 days. */
  checkpointAfterMs: number;
}

async function main(): Promise<void> {
  const dir = flag('dir', mkdtempSync(path.join(os.tmpdir(), 'small-files-')));
  const where = `date = '2024-01-01'`;
  const t = await DeltaTable.create(path.join(dir, 'readings'), { schema: readingsSchema('date'), partitionColumns: ['date'] });
  const out: Row[] = [];
  let k = 0;
  for (const target of COUNTS) {
    const commitMs: number[] = [];
    while (k < target) {
      const [ms] = await time(() => t.write(batch(k)));
      if (k >= target - 10) commitMs.push(ms);
      k++;
    }
    const [snapshotMs] = await time(() => t.snapshot());
    const [scanMs, rows] = await time(() => t.read({ where }));
    if (rows.numRows !== k * ROWS) throw new Error(`read ${rows.numRows} rows, wrote ${k * ROWS}`);
    const copy = path.join(dir, `copy-${target}`);
    cpSync(t.location, copy, { recursive: true });
    const c = await DeltaTable.open(copy);
    const [checkpointMs] = await time(() => c.checkpoint());
    const [optimizeMs] = await time(() => c.optimize({ where }));
    const [scanAfterMs] = await time(() => c.read({ where }));
    const [checkpointAfterMs] = await time(() => c.checkpoint());
    rmSync(copy, { recursive: true, force: true });
    const row: Row = {
      files: target,
      commitMsMean: commitMs.reduce((s, x) => s + x, 0) / commitMs.length,
      commitMsMax: Math.max(...commitMs),
      snapshotMs,
      scanMs,
      checkpointMs,
      optimizeMs,
      scanAfterMs,
      checkpointAfterMs,
    };
    out.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  }
  const f = (x: number): string => x.toFixed(0).padStart(10);
  console.log(`rows per file: ${ROWS}`);
  console.log(' live files  commit ms  commit max  snapshot ms    scan ms  checkpoint  optimize ms  scan after  ckpt after');
  for (const r of out) {
    const cells = [r.commitMsMean, r.commitMsMax, r.snapshotMs, r.scanMs, r.checkpointMs, r.optimizeMs, r.scanAfterMs, r.checkpointAfterMs];
    console.log(`${String(r.files).padStart(11)} ${cells.map((x) => f(x)).join('  ')}`);
  }
  console.log(JSON.stringify({ bench: 'ingest-small-files', rowsPerFile: ROWS, results: out }));
  if (flag('dir', '') === '') rmSync(dir, { recursive: true, force: true });
  await shutdownWorkers();
}

await main();
