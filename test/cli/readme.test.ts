// The README's TypeScript example, run as pasted: proves the documented API works and prints what it says.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers.js';

const script = path.join(REPO_ROOT, 'dist', 'readme-example.mjs');
after(() => rmSync(script, { force: true }));

test('the README example runs and prints the documented result', () => {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README has a ts example');
  const promised = /it prints `([^`]+)`/.exec(readme);
  assert.ok(promised, 'README says what the example prints');
  // Inside the package, `import ... from 'sensorlake'` resolves to this package itself (self-reference).
  writeFileSync(script, block[1]);
  const output = execFileSync(process.execPath, [script], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(output.trim(), promised[1]);
});
