// The sensorlake CLI: parses the command line, runs one command, maps errors to exit codes
// (0 ok, 1 failed, 2 bad usage, 3 finished with quarantined records).

import { Command, CommanderError } from 'commander';
import { tableCommand } from './table.js';
import { demoCommand } from './demo.js';
import { simulateCommand } from './simulate.js';
import { backfillCommand } from './backfill.js';
import { qualityCommand } from './quality.js';
import { ingestCommand } from './ingest.js';
import { serveCommand } from './serve.js';
import { tokenCommand } from './token.js';
import { sparkJobCommand, sparkStreamCommand } from './spark.js';
import { shutdownWorkers } from '../delta/table.js';
import { SensorlakeError, InvalidArgumentError } from '../errors.js';
import { EXIT, takeExitCode } from './exit.js';

export { EXIT };

export function program(): Command {
  const p = new Command('sensorlake')
    .description('Backfill and stream factory sensor history into Delta Lake tables')
    .version('0.1.0')
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError();
  p.addCommand(demoCommand());
  p.addCommand(tableCommand());
  p.addCommand(simulateCommand());
  p.addCommand(backfillCommand());
  p.addCommand(qualityCommand());
  p.addCommand(ingestCommand());
  p.addCommand(serveCommand());
  p.addCommand(tokenCommand());
  p.addCommand(sparkJobCommand());
  p.addCommand(sparkStreamCommand());
  for (const c of p.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return p;
}

export async function main(argv: string[]): Promise<number> {
  try {
    takeExitCode();
    await program().parseAsync(argv);
    return takeExitCode();
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? EXIT.ok : EXIT.usage;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`sensorlake: ${e instanceof SensorlakeError ? `${e.name}: ` : ''}${msg}\n`);
    return e instanceof InvalidArgumentError ? EXIT.usage : EXIT.failed;
  } finally {
    await shutdownWorkers();
  }
}
