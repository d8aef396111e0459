// Live ingest's durable core under load: requests of 1,000 readings (pre-built, so the front ends' decoding is not
// measured) are submitted either open-loop at a fixed rate (--rate readings/s; latency counted from each request's
// scheduled time, so a stall is not hidden) or closed-loop by --clients as fast as acks come back. Prints readings/s
// acknowledged (validate + WAL + fsync), ack latency percentiles, fsync rounds, and the micro-batch commit cost per
// 300k rows. Never asserts.
// Usage: node dist/bench/ingest-core/run.js [--seconds 10] [--rate 300000 | --clients 32] [--sensors 1000] [--no-fsync]
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openIngestor } from '../../src/ingest/ingestor.js';
import { BufferFullError } from '../../src/errors.js';
import { shutdownWorkers } from '../../src/delta/table.js';
import { ReadingsBuilder } from '../../src/sources/batch.js';
import type { IngestRequest } from '../../src/ingest/contract.js';

const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string' },
    clients: { type: 'string', default: '32' },
    sensors: { type: 'string', default: '1000' },
    rows: { type: 'string', default: '1000' },
    'no-fsync': { type: 'boolean', default: false },
    'commit-thread': { type: 'string', default: 'worker' },
    lake: { type: 'string' },
  },
});
const seconds = Number(a.seconds);
const rate = a.rate ? Number(a.rate) : null;
const clients = Number(a.clients);
const sensors = Number(a.sensors);
const perRequest = Number(a.rows);
const scratch = a.lake ? null : mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-'));
const lake = a.lake ?? path.join(scratch!, 'lake');

// Readings go round the sensors, one per sensor per 1 s tick: time moves forward as on a live plant.
const T0 = Date.UTC(2025, 0, 1) * 1000;
const names = Array.from({ length: sensors }, (_, s) => `plant/line${s % 20}/sensor-${String(s).padStart(5, '0')}`);
function build(k: number): IngestRequest {
  const b = new ReadingsBuilder('bench', 'record', perRequest);
  for (let i = 0; i < perRequest; i++) {
    const g = k * perRequest + i;
    const s = g % sensors;
    b.append(names[s], T0 + Math.floor(g / sensors) * 1_000_000 + s, ((g * 7919) % 10_000) / 100, null, null, i);
  }
  return { chunks: [b.flush(0)], source: 'bench' };
}
const pool = Math.ceil((seconds * (rate ?? 700_000)) / perRequest);
const built: IngestRequest[] = [];
for (let k = 0; k < pool; k++) built.push(build(k));

const ing = await openIngestor({ lake, fsync: !a['no-fsync'], commitThread: a['commit-thread'] === 'main' ? 'main' : 'worker' });
const latencies: number[] = [];
let refused = 0;
let rss = 0;
const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 100);
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const elu0 = performance.eventLoopUtilization();
const started = performance.now();

async function submit(req: IngestRequest, from: number): Promise<void> {
  for (;;) {
    try {
      await ing.submit(req);
      latencies.push(performance.now() - from);
      return;
    } catch (e) {
      if (!(e instanceof BufferFullError)) throw e;
      refused++;
      await new Promise((r) => setTimeout(r, e.retryAfterMs));
    }
  }
}

if (rate) {
  // Open loop: request k is due at k * interval; a late tick sends all that are due.
  const interval = (perRequest / rate) * 1000;
  const inflight: Promise<void>[] = [];
  let k = 0;
  while (k < built.length) {
    const now = performance.now() - started;
    while (k < built.length && k * interval <= now) {
      inflight.push(submit(built[k], started + k * interval));
      k++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
} else {
  const deadline = started + seconds * 1000;
  let next = 0;
  const client = async (): Promise<void> => {
    while (performance.now() < deadline && next < built.length) {
      const req = built[next++];
      await submit(req, performance.now());
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
}
const submitSeconds = (performance.now() - started) / 1000;
loopDelay.disable();
const mainBusy = performance.eventLoopUtilization(elu0);
const acked = latencies.length * perRequest;
const syncs = ing.stats.walSyncs;
const closeStart = performance.now();
await ing.close();
const drainSeconds = (performance.now() - closeStart) / 1000;
clearInterval(sampler);
const commits = ing.stats.drainCommitSeconds();
const commitTotal = commits.reduce((s, x) => s + x, 0);
latencies.sort((x, y) => x - y);
const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
const result = {
  mode: rate ? `open loop ${rate}/s` : `closed loop, ${clients} clients`,
  fsync: !a['no-fsync'],
  commit_thread: a['commit-thread'],
  sensors,
  rows_per_request: perRequest,
  readings_acked: acked,
  submit_seconds: Number(submitSeconds.toFixed(2)),
  readings_per_second: Math.round(acked / submitSeconds),
  ack_p50_ms: Number(pct(50).toFixed(2)),
  ack_p99_ms: Number(pct(99).toFixed(2)),
  ack_max_ms: Number(latencies.at(-1)!.toFixed(2)),
  wal_fsyncs: syncs,
  main_thread_busy_seconds: Number((mainBusy.active / 1000).toFixed(2)),
  event_loop_delay_p99_ms: Number((loopDelay.percentile(99) / 1e6).toFixed(1)),
  event_loop_delay_max_ms: Number((loopDelay.max / 1e6).toFixed(1)),
  refused_buffer_full: refused,
  commits: commits.length,
  rows_committed: ing.stats.rowsCommitted,
  commit_seconds_per_300k: Number(((commitTotal / Math.max(1, ing.stats.rowsCommitted)) * 300_000).toFixed(3)),
  close_drain_seconds: Number(drainSeconds.toFixed(2)),
  peak_rss_mb: Math.round(rss / 1e6),
  load_average_1m: Number(os.loadavg()[0].toFixed(1)),
};
console.log('ingest core');
for (const [k, v] of Object.entries(result)) console.log(`  ${k.padEnd(26)} ${v}`);
console.log(JSON.stringify(result));
await shutdownWorkers();
if (scratch) rmSync(scratch, { recursive: true, force: true });
