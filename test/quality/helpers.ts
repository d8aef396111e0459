// Small simulated lakes for the quality tests: the simulator's plant backfilled into a temp lake, and the CLI run
// as a child process without blocking this process's event loop (a test server may have to answer it).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { simulate, type SimulateSummary } from '../../src/sim/simulate.js';
import { backfill, type BackfillReport } from '../../src/backfill/run.js';
import type { Truth } from '../../src/sim/truth.js';
import { REPO_ROOT } from '../helpers.js';

/** Simulates [from, to) of a 12-sensor plant at 10 s (slow sensors every 100 s) and backfills it into `lake`. */
export async function simulatedLake(dir: string, lake: string, from: string, to: string, seed = 3): Promise<{ sim: SimulateSummary; truth: Truth; report: BackfillReport }> {
  const out = path.join(dir, `sim-${from.replace(/\W/g, '')}`);
  const sim = await simulate({ out, format: 'csv', sensors: 12, from, to, interval: '10s', seed, faults: 'default' });
  const report = await backfill({ source: out, lake, sensors: sim.sensorsFile, window: '6h' });
  return { sim, truth: JSON.parse(readFileSync(sim.truthFile, 'utf8')) as Truth, report };
}

export function cliAsync(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'sensorlake.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
