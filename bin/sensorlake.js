#!/usr/bin/env node
// The CLI entry point: runs the compiled CLI (npm run build produces dist/).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv);
