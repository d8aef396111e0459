// The driver of bench/ingest/run: for each contender (body format, fsync on or off) it starts `sensorlake serve` on
// loopback over a fresh lake, loads it with load.ts for a fixed time, scrapes /metrics before and after, stops the
// server (SIGTERM: it commits what is buffered), then reads the lake: rows in `readings` against acknowledged
// readings, files, commits. Prints one table and one JSON line; asserts nothing.
//
//   node dist/bench/ingest/main.js [--seconds N (30)] [--connections N (8)] [--readings N (1000)]
//        [--formats json,ndjson] [--no-fsync-too] [--cpu-prof DIR] [--no-strace] [--keep] [--serve-arg ARG]...

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync, writeSync, fsyncSync, fdatasyncSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { DeltaTable, shutdownWorkers } from '../../src/delta/table.js';
import { runLoad, type BodyFormat, type LoadResult } from './load.js';
import { parseMetrics, type Metrics } from './metrics.js';

const args = process.argv.slice(2);
function flag(name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}
const has = (name: string): boolean => args.includes(`--${name}`);
const SECONDS = Number(flag('seconds', '30'));
const CONNECTIONS = Number(flag('connections', '8'));
const READINGS = Number(flag('readings', '1000'));
const FORMATS = flag('formats', 'json,ndjson').split(',') as BodyFormat[];
const CPU_PROF = flag('cpu-prof', '');
const SERVE_ARGS = args.flatMap((a, i) => (a === '--serve-arg' ? [args[i + 1]] : []));
const LOAD_AT_START = os.loadavg()[0];
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

interface Contender {
  name: string;
  format: BodyFormat;
  fsync: boolean;
}

interface Outcome {
  name: string;
  format: BodyFormat;
  fsync: boolean;
  load: LoadResult;
  /** From /metrics, the difference across the load window. */
  server: {
    rowsIngested: number;
    commits: number;
    commitsPerSecond: number;
    rowsPerCommit: number | null;
    commitSecondsMean: number | null;
    commitSecondsP99: number | null;
    /** Where the fsync figures come from: the server's /metrics, or strace counting its fdatasync calls. */
    fsyncSource: 'metrics' | 'metrics+strace' | 'strace' | null;
    fsyncs: number | null;
    fsyncsPerSecond: number | null;
    fsyncMsMean: number | null;
    readingsPerFsync: number | null;
    cpuSeconds: number | null;
    peakRssBytes: number | null;
  };
  /** Readings the server acknowledged: what the client counted plus the requests in flight when the load stopped. */
  serverAcknowledged: number;
  inFlightAtEnd: number;
  /** Rows in `readings` after the clean stop, against serverAcknowledged. */
  lake: { rows: number; files: number; versions: number; rowsMatchAcknowledged: boolean };
  stopSeconds: number;
  loadGeneratorCpuSeconds: number;
}

interface Server {
  child: ChildProcess;
  url: string;
  /** The node process (the child itself, or strace's tracee). */
  pid: number;
}

/** strace counting only fdatasync (the WAL's group fsyncs; Delta commits use fsync) by wall time; seccomp-bpf stops the server on no other syscall. */
const STRACE = existsSync('/usr/bin/strace') && !has('no-strace') ? '/usr/bin/strace' : null;

/** Starts `sensorlake serve` and resolves with its URL once it answers /readyz. */
async function startServer(lake: string, fsync: boolean, log: string, profDir: string | null, straceOut: string | null): Promise<Server> {
  const nodeArgs = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
  const serveArgs = ['serve', '--lake', lake, '--port', '0', '--json', ...(fsync ? [] : ['--no-fsync']), ...SERVE_ARGS];
  const fd = openSync(log, 'a');
  const command = [process.execPath, ...nodeArgs, path.join(ROOT, 'bin', 'sensorlake.js'), ...serveArgs];
  const traced = straceOut !== null && STRACE !== null;
  const argv = traced ? [STRACE!, '-f', '--seccomp-bpf', '-w', '-c', '-e', 'trace=fdatasync', '-o', straceOut, ...command] : command;
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', fd] });
  closeSync(fd);
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`sensorlake serve exited with ${code} before listening; see ${log}`)));
  });
  const pid = traced ? tracee(child.pid!) : child.pid!;
  for (let i = 0; i < 600; i++) {
    const r = await fetch(`${url}/readyz`).catch(() => null);
    if (r?.ok) return { child, url, pid };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sensorlake serve at ${url} not ready after 60 s; see ${log}`);
}

async function scrape(url: string): Promise<Metrics> {
  const r = await fetch(`${url}/metrics`);
  if (!r.ok) throw new Error(`GET ${url}/metrics: ${r.status}`);
  return parseMetrics(await r.text());
}

/** The process strace started (its only child). */
function tracee(stracePid: number): number {
  const children = readFileSync(`/proc/${stracePid}/task/${stracePid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  if (children.length !== 1) throw new Error(`strace ${stracePid} has ${children.length} children, expected the server alone`);
  return Number(children[0]);
}

/** fdatasync calls and their wall time, from strace -c -w's summary. */
function straceSummary(file: string): { calls: number; seconds: number } | null {
  if (!existsSync(file)) return null;
  const line = readFileSync(file, 'utf8').split('\n').find((l) => /\sfdatasync$/.test(l));
  if (!line) return { calls: 0, seconds: 0 };
  const cols = line.trim().split(/\s+/);
  // % time, seconds, usecs/call, calls, [errors], syscall
  return { seconds: Number(cols[1]), calls: Number(cols[3]) };
}

async function stopServer(server: Server): Promise<number> {
  const { child } = server;
  const t0 = performance.now();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(server.pid, 'SIGTERM'); // the server itself: strace, if any, exits after it and writes its summary
  const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  await exited;
  clearTimeout(killer);
  return (performance.now() - t0) / 1000;
}

async function lakeCounts(lake: string): Promise<{ rows: number; files: number; versions: number }> {
  const t = await DeltaTable.open(path.join(lake, 'readings'));
  const snap = await t.snapshot();
  const scanned = (await t.read({ columns: ['ts'] })).numRows; // a real scan, not only the stats' numRecords
  return { rows: scanned, files: snap.files().length, versions: snap.version + 1 };
}

async function runContender(c: Contender, work: string): Promise<Outcome> {
  const lake = path.join(work, `lake-${c.name}`);
  const log = path.join(work, `serve-${c.name}.log`);
  const straceOut = c.fsync ? path.join(work, `strace-${c.name}.txt`) : null;
  const server = await startServer(lake, c.fsync, log, CPU_PROF ? path.join(CPU_PROF, c.name) : null, straceOut);
  const { child, url } = server;
  try {
    const before = await scrape(url);
    const cpu0 = process.cpuUsage();
    const load = await runLoad({ url, format: c.format, seconds: SECONDS, connections: CONNECTIONS, readingsPerRequest: READINGS, startMs: Date.now() });
    const cpu = process.cpuUsage(cpu0);
    const after = await scrape(url);
    // autocannon stops with up to one request per connection in flight: the server still acknowledges those (the
    // rows are durable) but the client never counts them. Wait for them, then take the server's count as the truth.
    let settled = after;
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const again = await scrape(url);
      const same = again.value('sensorlake_ingest_rows_total') === settled.value('sensorlake_ingest_rows_total');
      settled = again;
      if (same && i >= 4) break;
    }
    const acknowledged = (settled.value('sensorlake_ingest_rows_total') ?? 0) - (before.value('sensorlake_ingest_rows_total') ?? 0);
    const d = (name: string): number | null => {
      const a = after.value(name);
      const b = before.value(name);
      return a === null || b === null ? null : a - b;
    };
    const commits = d('sensorlake_ingest_commits_total') ?? 0;
    const rowsIngested = d('sensorlake_ingest_rows_total') ?? 0;
    const commitCount = d('sensorlake_ingest_commit_seconds_count');
    const commitSum = d('sensorlake_ingest_commit_seconds_sum');
    // Whichever name the server exports the WAL's write + fsync rounds under (IngestorStats.walSyncs).
    const fsyncs = d('sensorlake_wal_fsyncs_total') ?? d('sensorlake_wal_syncs_total');
    const fsyncCount = d('sensorlake_wal_fsync_seconds_count');
    const fsyncSum = d('sensorlake_wal_fsync_seconds_sum');
    const stopSeconds = await stopServer(server);
    const counts = await lakeCounts(lake);
    // The server's own fsync metrics when it exports them, else strace's count over the server's life (startup and
    // shutdown add a handful of calls).
    const traced = straceOut ? straceSummary(straceOut) : null;
    const fsyncCalls = fsyncs ?? traced?.calls ?? null;
    // Time per fsync needs a histogram on /metrics; else strace's wall time over its own count.
    const fsyncSeconds = fsyncCount ? fsyncSum : (traced?.seconds ?? null);
    const perFsyncCalls = fsyncCount ? fsyncCount : (traced?.calls ?? null);
    const fsyncSource = fsyncs !== null ? (fsyncCount ? 'metrics' : 'metrics+strace') : traced ? 'strace' : null;
    return {
      name: c.name,
      format: c.format,
      fsync: c.fsync,
      load,
      server: {
        rowsIngested,
        commits,
        commitsPerSecond: commits / load.seconds,
        rowsPerCommit: commits > 0 ? rowsIngested / commits : null,
        commitSecondsMean: commitCount ? commitSum! / commitCount : null,
        commitSecondsP99: after.histogramQuantile('sensorlake_ingest_commit_seconds', 0.99, before),
        fsyncSource,
        fsyncs: fsyncCalls,
        fsyncsPerSecond: fsyncCalls === null ? null : fsyncCalls / load.seconds,
        fsyncMsMean: perFsyncCalls && fsyncSeconds !== null ? (fsyncSeconds / perFsyncCalls) * 1000 : null,
        readingsPerFsync: fsyncCalls ? acknowledged / fsyncCalls : null,
        cpuSeconds: d('sensorlake_process_cpu_seconds_total'),
        peakRssBytes: after.value('sensorlake_process_resident_memory_bytes'),
      },
      serverAcknowledged: acknowledged,
      inFlightAtEnd: acknowledged - load.acknowledged,
      lake: { ...counts, rowsMatchAcknowledged: counts.rows === acknowledged },
      stopSeconds,
      loadGeneratorCpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      for (const pid of new Set([server.pid, child.pid!])) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
}

/** What one write + fdatasync of a request-sized append costs on the lake's disk, without the server: the floor. */
function fsyncProbe(dir: string, bytes: number, rounds = 200): { msMean: number; msP99: number } {
  const file = path.join(dir, 'fsync-probe');
  const fd = openSync(file, 'w');
  const buf = Buffer.alloc(bytes, 120);
  const ms: number[] = [];
  try {
    fsyncSync(fd);
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      writeSync(fd, buf);
      fdatasyncSync(fd);
      ms.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  ms.sort((a, b) => a - b);
  return { msMean: ms.reduce((s, x) => s + x, 0) / ms.length, msP99: ms[Math.floor(ms.length * 0.99)] };
}

const fmt = (v: number | null, digits = 0): string => (v === null || !Number.isFinite(v) ? 'n/a' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

function report(outcomes: Outcome[], probe: { msMean: number; msP99: number }): void {
  const rows: [string, (o: Outcome) => string][] = [
    ['readings/s acknowledged', (o) => fmt(o.load.readingsPerSecond)],
    ['requests (2xx / all)', (o) => `${fmt(o.load.ok)} / ${fmt(o.load.requests)}`],
    ['non-2xx statuses', (o) => Object.entries(o.load.statuses).filter(([k]) => !k.startsWith('2')).map(([k, n]) => `${k}x${n}`).join(' ') || 'none'],
    ['ack latency p50 / p99 ms', (o) => `${fmt(o.load.latencyMs.p50)} / ${fmt(o.load.latencyMs.p99)}`],
    ['fsyncs/s', (o) => fmt(o.server.fsyncsPerSecond)],
    ['ms per fsync (server)', (o) => `${fmt(o.server.fsyncMsMean, 2)}${o.server.fsyncSource ? ` (${o.server.fsyncSource})` : ''}`],
    ['readings per fsync', (o) => fmt(o.server.readingsPerFsync)],
    ['commits/s', (o) => fmt(o.server.commitsPerSecond, 2)],
    ['rows per commit', (o) => fmt(o.server.rowsPerCommit)],
    ['commit ms mean / p99', (o) => `${fmt(o.server.commitSecondsMean === null ? null : o.server.commitSecondsMean * 1000)} / ${fmt(o.server.commitSecondsP99 === null ? null : o.server.commitSecondsP99 * 1000)}`],
    ['server CPU s (of wall s)', (o) => `${fmt(o.server.cpuSeconds, 1)} (${fmt(o.load.seconds, 1)})`],
    ['server CPU us per reading', (o) => fmt(o.server.cpuSeconds === null ? null : (o.server.cpuSeconds * 1e6) / Math.max(1, o.server.rowsIngested), 1)],
    ['load generator CPU s', (o) => fmt(o.loadGeneratorCpuSeconds, 1)],
    ['server RSS MB at end', (o) => fmt(o.server.peakRssBytes === null ? null : o.server.peakRssBytes / 1e6)],
    ['rows in readings', (o) => fmt(o.lake.rows)],
    ['== acknowledged (+in flight)', (o) => `${o.lake.rowsMatchAcknowledged ? 'yes' : `NO: ${fmt(o.serverAcknowledged)}`} (+${fmt(o.inFlightAtEnd)})`],
    ['data files / versions', (o) => `${fmt(o.lake.files)} / ${fmt(o.lake.versions)}`],
    ['stop (commit buffered) s', (o) => fmt(o.stopSeconds, 1)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const colW = Math.max(16, ...outcomes.map((o) => o.name.length));
  console.log(`ingest: ${SECONDS} s per contender, ${CONNECTIONS} connections, ${READINGS} readings per request; fsync probe on this disk: ${probe.msMean.toFixed(2)} ms mean, ${probe.msP99.toFixed(2)} ms p99`);
  console.log(`load average (1 min) at start ${LOAD_AT_START.toFixed(1)}, at end ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores: above ~2, other processes share the CPU and throughput is understated`);
  console.log(`${''.padEnd(width)}  ${outcomes.map((o) => o.name.padStart(colW)).join('  ')}`);
  for (const [label, cell] of rows) console.log(`${label.padEnd(width)}  ${outcomes.map((o) => cell(o).padStart(colW)).join('  ')}`);
  console.log(
    JSON.stringify({
      bench: 'ingest',
      seconds: SECONDS,
      connections: CONNECTIONS,
      readingsPerRequest: READINGS,
      target: { readingsPerSecond: 300_000, p99Ms: 50 },
      fsyncProbe: probe,
      loadAverage: { start: LOAD_AT_START, end: os.loadavg()[0] },
      contenders: outcomes,
    }),
  );
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ingest-bench-'));
  try {
    const contenders: Contender[] = FORMATS.map((format) => ({ name: `${format} fsync`, format, fsync: true }));
    if (has('no-fsync-too')) contenders.push(...FORMATS.map((format) => ({ name: `${format} no-fsync`, format, fsync: false })));
    const probe = fsyncProbe(work, READINGS * 80);
    const outcomes: Outcome[] = [];
    for (const c of contenders) {
      process.stderr.write(`${c.name}: ${SECONDS} s of load...\n`);
      outcomes.push(await runContender(c, work));
    }
    report(outcomes, probe);
  } finally {
    await shutdownWorkers();
    if (has('keep')) process.stderr.write(`kept ${work}\n`);
    else rmSync(work, { recursive: true, force: true });
  }
}

await main();
