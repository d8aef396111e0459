// Runs test/sim/columnar_recount.py in the project venv: pyarrow for Parquet, a stdlib decoder for Avro.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import type { Counts } from './tally.js';

const PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');
const SCRIPT = path.join(REPO_ROOT, 'test', 'sim', 'columnar_recount.py');

export interface PyRecount {
  counts: Counts;
  rejects: Record<string, string>;
  info: { rows: number; digest: string; tsArrowType?: string; tsLogicalType?: string; tsAvroType?: unknown };
}

export function pyRecount(dir: string): PyRecount {
  return JSON.parse(execFileSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8', maxBuffer: 1 << 28 })) as PyRecount;
}
