// The README's shell examples as the tests run them: a block found by its `<!-- readme-test: NAME -->` marker, run as
// pasted with bash -e in a scratch directory that looks like the repository (bin, dist, scripts, node_modules,
// package.json linked). Shared by test/cli/readme-live.test.ts and test/spark/readme.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, tempDir } from '../helpers.js';

/** The bash block right after `<!-- readme-test: name -->` in README.md. */
export function readmeBlock(name: string): string {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- readme-test: ${name} -->\\n\`\`\`bash\\n([\\s\\S]*?)\`\`\``).exec(readme);
  assert.ok(m, `README has the ${name} example`);
  return m[1];
}

export interface PasteOptions {
  /** Default 120 s. */
  timeoutMs?: number;
  /** Added to the environment (e.g. settings that make a run faster without changing the commands). */
  env?: Record<string, string>;
}

/** Runs `script` with bash -e in a fresh scratch copy of the repository's shape; returns its stdout. */
export function runPasted(script: string, opts: PasteOptions = {}): string {
  const { dir, cleanup } = tempDir('sensorlake-readme-');
  try {
    for (const name of ['bin', 'dist', 'scripts', 'node_modules', 'package.json']) symlinkSync(path.join(REPO_ROOT, name), path.join(dir, name));
    return execFileSync('bash', ['-e', '-c', script], {
      cwd: dir,
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
  } finally {
    cleanup();
  }
}
