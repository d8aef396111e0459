// Lowers the calling thread's CPU priority (Linux nice 19; the process and its other threads keep theirs), for work
// that may lag behind but must not delay the acknowledgements of ingest requests when both cores are busy. Threads
// this one starts inherit it. Elsewhere, or when refused, the thread runs at normal priority.

import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { logger } from '../log.js';

export function lowerThisThreadsPriority(what: string): void {
  try {
    // /proc/thread-self links to <pid>/task/<tid>; setpriority on a tid applies to that thread alone.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isSafeInteger(tid) || tid <= 0) return;
    setPriority(tid, 19);
  } catch (e) {
    logger.debug({ err: e, what }, 'could not lower the thread priority; it runs at normal priority');
  }
}
