// MQTT test helpers: a real mosquitto (scripts/mosquitto.sh), `sensorlake ingest mqtt` run as a user runs it (a child
// process with --json logs, whose events the test can wait for), an MQTT.js publisher, and the lake read back.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import mqtt, { type MqttClient } from 'mqtt';
import { DeltaTable } from '../../src/delta/table.js';
import { NotFoundError } from '../../src/errors.js';
import { REPO_ROOT } from '../helpers.js';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'mosquitto.sh');
const BIN = path.join(REPO_ROOT, 'bin', 'sensorlake.js');

export interface Broker {
  port: number;
  url: string;
  stop(): void;
}

/** Starts a broker with scripts/mosquitto.sh (installing mosquitto when missing). */
export function startBroker(): Broker {
  const r = spawnSync('bash', [SCRIPT, 'start'], { encoding: 'utf8', timeout: 300_000 });
  const port = Number(r.stdout.trim());
  if (r.status !== 0 || !Number.isInteger(port)) throw new Error(`scripts/mosquitto.sh start failed (${r.status}): ${r.stderr}`);
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop: () => void spawnSync('bash', [SCRIPT, 'stop', String(port)], { encoding: 'utf8', timeout: 30_000 }),
  };
}

export interface LogEvent {
  msg: string;
  [k: string]: unknown;
}

/** A running `sensorlake ingest mqtt ... --json`: its log events as they come, and how it ended. */
export class IngestProcess {
  readonly events: LogEvent[] = [];
  stdout = '';
  stderrText = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { test: (e: LogEvent) => boolean; resolve: (e: LogEvent) => void }[] = [];
  private readonly child: ChildProcess;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [BIN, 'ingest', 'mqtt', '--json', '--stats-interval', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (b: Buffer) => (this.stdout += b.toString()));
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.stderrText += line + '\n';
      let e: LogEvent;
      try {
        e = JSON.parse(line) as LogEvent;
      } catch {
        return;
      }
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(e)) return true;
        w.resolve(e);
        return false;
      });
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** The first log event (past or future) that passes `test`; fails when the process exits first or after `ms`. */
  async waitFor(test: (e: LogEvent) => boolean, what: string, ms = 30_000): Promise<LogEvent> {
    const seen = this.events.find(test);
    if (seen) return seen;
    let timer: NodeJS.Timeout | undefined;
    const fail = (why: string) => new Error(`waiting for ${what}: ${why}\nstderr:\n${this.stderrText}`);
    try {
      return await Promise.race([
        new Promise<LogEvent>((resolve) => this.waiters.push({ test, resolve })),
        this.exited.then((x) => Promise.reject(fail(`the process exited (${x.code ?? x.signal})`))),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(fail(`not seen within ${ms} ms`)), ms))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM, then the exit code and the --json summary it printed. */
  async stop(): Promise<{ code: number | null; summary: Record<string, unknown> }> {
    this.child.kill('SIGTERM');
    const { code } = await this.exited;
    const last = this.stdout.trim().split('\n').pop() ?? '';
    let summary: Record<string, unknown> = {};
    try {
      summary = JSON.parse(last) as Record<string, unknown>;
    } catch {
      // no summary: the caller's assertion on it fails with the output in view
    }
    return { code, summary };
  }
}

/** Starts the CLI and waits until it subscribed. */
export async function startIngest(args: string[]): Promise<IngestProcess> {
  const p = new IngestProcess(args);
  await p.waitFor((e) => e.msg === 'subscribed', 'the subscription');
  return p;
}

export async function publisher(url: string, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId, protocolVersion: 5, reconnectPeriod: 0 });
}

export interface Row {
  ts: string;
  sensor_id: string;
  value: number | null;
  value_text: string | null;
  quality: number | null;
  source: string | null;
}

/** The readings table as plain rows (ts as ISO with µs), sorted by sensor_id, ts; [] when it does not exist yet. */
export async function readingRows(lake: string): Promise<Row[]> {
  const rows = await tableRows(path.join(lake, 'readings'));
  return rows
    .map((o) => ({
      ts: isoMicros(o.ts as number | bigint),
      sensor_id: o.sensor_id as string,
      value: (o.value as number | null) ?? null,
      value_text: (o.value_text as string | null) ?? null,
      quality: o.quality === null || o.quality === undefined ? null : Number(o.quality),
      source: (o.source as string | null) ?? null,
    }))
    .sort((a, b) => (a.sensor_id < b.sensor_id ? -1 : a.sensor_id > b.sensor_id ? 1 : a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}

export async function tableRows(location: string): Promise<Record<string, unknown>[]> {
  let t: DeltaTable;
  try {
    t = await DeltaTable.open(location);
  } catch (e) {
    if (e instanceof NotFoundError) return [];
    throw e;
  }
  return (await t.read()).toArray().map((r) => r.toJSON() as Record<string, unknown>);
}

/** Arrow gives timestamps as ms (number); the table keeps µs, which read() rounds into the fraction of the double. */
function isoMicros(ms: number | bigint): string {
  const n = Number(ms);
  const whole = Math.floor(n);
  const us = Math.round((n - whole) * 1000);
  return new Date(whole).toISOString().replace('Z', `${String(us).padStart(3, '0')}Z`);
}

/** Polls until `read()` satisfies `done` (the lake is read as a user would), or fails after `ms` with the last value. */
export async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms (last: ${JSON.stringify(v).slice(0, 500)})`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
