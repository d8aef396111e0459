// One ingest server per WAL directory: a lock file holding the owner's pid, created exclusively. A lock left by a
// process that died (kill -9) is taken over; one held by a live process is refused, since two writers would
// interleave their positions in one log.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors.js';

/** Directories this process holds: a lock file naming our own pid may also be a dead predecessor's (containers reuse pids). */
const held = new Set<string>();

export interface Lock {
  file: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireLock(dir: string): Promise<Lock> {
  const file = path.join(path.resolve(dir), 'LOCK');
  if (held.has(file)) throw new InvalidArgumentError(`ingest: WAL directory ${dir} is in use by this process (an ingestor is already open on it)`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await fs.open(file, 'wx');
      try {
        await fh.writeFile(String(process.pid));
      } finally {
        await fh.close();
      }
      held.add(file);
      let released = false;
      return {
        file,
        release: async () => {
          if (released) return;
          released = true;
          held.delete(file);
          await fs.rm(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new InvalidArgumentError(`ingest: WAL directory ${dir} is in use by process ${pid}; give each server its own serverId or walDir`);
    }
    // The owner is gone (or the file is empty: it died between create and write; or it names our pid, which this
    // process does not hold: a predecessor's in a restarted container): the lock is stale.
    await fs.rm(file, { force: true });
  }
  throw new InvalidArgumentError(`ingest: could not lock WAL directory ${dir} (another process keeps taking it)`);
}
