// Prometheus metrics that read totals kept elsewhere (the ingest core's stats, the compactor's) at scrape time, so
// the hot paths only bump plain numbers. A reader returning undefined means "nothing to report yet".

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** A counter following a running total: each scrape adds what the total grew by since the last one. */
export function mirrorCounter(registry: Registry, name: string, help: string, read: () => number | undefined): void {
  let seen = 0;
  const c: Counter = new Counter({
    name,
    help,
    registers: [registry],
    collect: () => {
      const now = read();
      if (now === undefined) return;
      if (now > seen) c.inc(now - seen);
      seen = Math.max(seen, now);
    },
  });
}

/** A gauge set from the current value at each scrape. */
export function mirrorGauge(registry: Registry, name: string, help: string, read: () => number | undefined): void {
  const g: Gauge = new Gauge({
    name,
    help,
    registers: [registry],
    collect: () => {
      const now = read();
      if (now !== undefined) g.set(now);
    },
  });
}

/** A histogram fed at each scrape with the observations drained since the last one. */
export function drainHistogram(registry: Registry, name: string, help: string, buckets: number[], drain: () => number[]): void {
  const h: Histogram = new Histogram({
    name,
    help,
    buckets,
    registers: [registry],
    collect: () => {
      for (const v of drain()) h.observe(v);
    },
  });
}
