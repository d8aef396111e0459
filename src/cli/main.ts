// The sensorlake CLI: parses the command line, runs one command, maps errors to exit codes
// (0 ok, 1 failed, 2 bad usage, 3 finished with quarantined records).

import { Command, CommanderError } from 'commander';
import { tableCommand } from './table.js';
import { demoCommand } from './demo.js';
import { shutdownWorkers } from '../delta/table.js';
import { SensorlakeError, InvalidArgumentError } from '../errors.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, quarantined: 3 } as const;

export function program(): Command {
  const p = new Command('sensorlake')
    .description('Backfill and stream factory sensor history into Delta Lake tables')
    .version('0.1.0')
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError();
  p.addCommand(demoCommand());
  p.addCommand(tableCommand());
  for (const c of p.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return p;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return EXIT.ok;
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
