// The TypeScript client of test/interop/peer.py: one Python process per test file, holding Spark
// (started on first use) and delta-rs, spoken to in newline-delimited JSON.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sortRows } from './canonical.js';

export interface PeerColumn {
  name: string;
  /** Delta type string: `string`, `long`, `timestamp`, `decimal(10,2)`, `array<long>`, ... */
  type: string;
}
/** A row in the canonical encoding (see canonical.ts), keyed by column name. */
export type PeerRow = Record<string, unknown>;
/** Rows as a peer read them, sorted by their JSON text. */
export type PeerRows = { schema: PeerColumn[]; rows: PeerRow[] };
export interface ReadOptions {
  version?: number;
  /** For Spark's `timestampAsOf` / delta-rs `load_as_version`; a Date is sent as its ISO string. */
  timestamp?: string | Date;
  columns?: string[];
}
export interface HistoryEntry {
  version: number;
  operation: string;
  /** Commit time in ms since the epoch, as that peer reports it. */
  timestamp: number;
}
export interface SparkAppendOptions {
  /** Spark DDL of the columns, e.g. "ts timestamp, sensor string, value double". */
  schemaDdl: string;
  rows: PeerRow[];
  partitionBy?: string[];
}
export interface DeltaRsAppendOptions {
  schema: PeerColumn[];
  rows: PeerRow[];
  partitionBy?: string[];
}
/** One term of a delta-rs filtered read: [column, op, value in the canonical encoding of the column's type]. */
export type PeerFilter = [column: string, op: '=' | '!=' | '<' | '<=' | '>' | '>=', value: unknown];
export interface PeerOptions {
  /** Per-request timeout; on expiry the peer is killed, since it is stuck. Default 180 s. */
  timeoutMs?: number;
  /** Where the peer's stderr (Spark, log4j, tracebacks) goes. Default: a new file under os.tmpdir(). */
  logPath?: string;
}
export interface Peers {
  readonly logPath: string;
  ping(): Promise<string>;
  /** Starts Spark now (otherwise the first Spark command does); returns the seconds it took. */
  sparkStart(): Promise<{ seconds: number; sparkVersion: string }>;
  sparkRead(path: string, opts?: ReadOptions): Promise<PeerRows>;
  deltaRsRead(path: string, opts?: ReadOptions): Promise<PeerRows>;
  sparkHistory(path: string): Promise<HistoryEntry[]>;
  deltaRsHistory(path: string): Promise<HistoryEntry[]>;
  /** Rows of the statement's result in Spark's order (not sorted), canonically encoded. */
  sparkSql(sql: string): Promise<PeerRow[]>;
  /** Appends and returns the table version the append committed. */
  sparkAppend(path: string, opts: SparkAppendOptions): Promise<number>;
  deltaRsAppend(path: string, opts: DeltaRsAppendOptions): Promise<number>;
  sparkVersion(path: string): Promise<number>;
  deltaRsVersion(path: string): Promise<number>;
  /** Rows of a SQL statement run by delta-rs (DataFusion) over `tables` (name -> path), in the result's order. */
  deltaRsSql(sql: string, tables: Record<string, string>): Promise<PeerRow[]>;
  /** delta-rs's pyarrow read with filters (the AND of the terms), sorted like deltaRsRead. */
  deltaRsFilter(path: string, filters: PeerFilter[], columns?: string[]): Promise<PeerRows>;
  close(): Promise<void>;
}

type PeerChild = ChildProcessByStdio<Writable, Readable, null>;

interface Pending {
  cmd: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

/** The repository root: the nearest ancestor holding test/interop/peer.py (works from dist/ and from source). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'test', 'interop', 'peer.py'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no test/interop/peer.py above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

class PeerProcess implements Peers {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: string | undefined;
  private readonly exit: Promise<void>;

  constructor(
    private readonly child: PeerChild,
    readonly logPath: string,
    private readonly timeoutMs: number,
  ) {
    this.exit = new Promise((resolve) => {
      // 'close', not 'exit': it comes after stdout is drained, so no answer is lost.
      child.on('close', (code, signal) => {
        this.exited = `the interop peer exited (code ${code}, signal ${signal})`;
        this.failAll(this.exited);
        resolve();
      });
    });
    child.on('error', (err) => this.failAll(`the interop peer failed: ${err.message}`));
    child.stdin.on('error', () => undefined); // a dead peer surfaces through 'exit'
    createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    this.setRef(false);
  }

  ping(): Promise<string> {
    return this.call('ping', {}) as Promise<string>;
  }
  sparkStart(): Promise<{ seconds: number; sparkVersion: string }> {
    return this.call('spark_start', {}) as Promise<{ seconds: number; sparkVersion: string }>;
  }
  async sparkRead(p: string, opts: ReadOptions = {}): Promise<PeerRows> {
    return sorted((await this.call('spark_read', readArgs(p, opts))) as PeerRows);
  }
  async deltaRsRead(p: string, opts: ReadOptions = {}): Promise<PeerRows> {
    return sorted((await this.call('deltars_read', readArgs(p, opts))) as PeerRows);
  }
  sparkHistory(p: string): Promise<HistoryEntry[]> {
    return this.call('spark_history', { path: p }) as Promise<HistoryEntry[]>;
  }
  deltaRsHistory(p: string): Promise<HistoryEntry[]> {
    return this.call('deltars_history', { path: p }) as Promise<HistoryEntry[]>;
  }
  sparkSql(sql: string): Promise<PeerRow[]> {
    return this.call('spark_sql', { sql }) as Promise<PeerRow[]>;
  }
  async sparkAppend(p: string, opts: SparkAppendOptions): Promise<number> {
    const args = { path: p, schema_ddl: opts.schemaDdl, rows: opts.rows, partition_by: opts.partitionBy };
    return ((await this.call('spark_append', args)) as { version: number }).version;
  }
  async deltaRsAppend(p: string, opts: DeltaRsAppendOptions): Promise<number> {
    const args = { path: p, schema: opts.schema, rows: opts.rows, partition_by: opts.partitionBy };
    return ((await this.call('deltars_append', args)) as { version: number }).version;
  }
  sparkVersion(p: string): Promise<number> {
    return this.call('spark_version', { path: p }) as Promise<number>;
  }
  deltaRsVersion(p: string): Promise<number> {
    return this.call('deltars_version', { path: p }) as Promise<number>;
  }

  deltaRsSql(sql: string, tables: Record<string, string>): Promise<PeerRow[]> {
    return this.call('deltars_sql', { sql, tables }) as Promise<PeerRow[]>;
  }
  async deltaRsFilter(p: string, filters: PeerFilter[], columns?: string[]): Promise<PeerRows> {
    return sorted((await this.call('deltars_filter', { path: p, filters, columns })) as PeerRows);
  }

  async close(): Promise<void> {
    if (this.exited === undefined) {
      this.setRef(true);
      this.child.stdin.end(); // EOF: the peer stops Spark and exits
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
      await this.exit;
      clearTimeout(killer);
    }
  }

  private call(cmd: string, args: Record<string, unknown>): Promise<unknown> {
    if (this.exited !== undefined) return Promise.reject(new Error(`${cmd}: ${this.exited} (peer log: ${this.logPath})`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const entry: Pending = { cmd, resolve, reject };
      if (this.timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          this.settle(id);
          reject(new Error(`${cmd} timed out after ${this.timeoutMs} ms; killing the peer (peer log: ${this.logPath})`));
          this.child.kill('SIGKILL');
        }, this.timeoutMs);
      }
      this.pending.set(id, entry);
      this.setRef(true);
      const line = JSON.stringify({ id, cmd, ...args }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      this.child.stdin.write(line + '\n');
    });
  }

  private onLine(line: string): void {
    let msg: { id?: number; ok?: boolean; result?: unknown; error?: string };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      this.failAll(`the interop peer wrote a non-JSON line to stdout: ${line.slice(0, 200)}`);
      return;
    }
    const entry = msg.id === undefined ? undefined : this.settle(msg.id);
    if (!entry) return; // a late answer to a request that already timed out
    if (msg.ok) entry.resolve(msg.result);
    else entry.reject(new Error(`${entry.cmd} failed: ${msg.error ?? 'unknown error'} (peer log: ${this.logPath})`));
  }

  private settle(id: number): Pending | undefined {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.pending.delete(id);
    if (this.pending.size === 0) this.setRef(false);
    return entry;
  }

  private failAll(reason: string): void {
    const tail = logTail(this.logPath);
    for (const [id, entry] of [...this.pending]) {
      this.settle(id);
      entry.reject(new Error(`${entry.cmd}: ${reason} (peer log: ${this.logPath})${tail}`));
    }
  }

  /** Holds the event loop open only while requests are in flight, so a forgotten close() cannot hang a test. */
  private setRef(on: boolean): void {
    for (const handle of [this.child, this.child.stdout as unknown as Socket, this.child.stdin as unknown as Socket]) {
      if (on) handle.ref?.();
      else handle.unref?.();
    }
  }
}

/** Starts the peer process (Spark itself starts on the first Spark command or sparkStart()). */
export async function startPeers(options: PeerOptions = {}): Promise<Peers> {
  const root = repoRoot();
  const python = path.join(root, '.venv', 'bin', 'python');
  if (!existsSync(python)) throw new Error(`no peer venv at ${python}; run scripts/setup-peers.sh`);
  const logPath = options.logPath ?? path.join(os.tmpdir(), `sensorlake-peer-${process.pid}-${Date.now()}.log`);
  const logFd = openSync(logPath, 'a');
  let child: PeerChild;
  try {
    child = spawn(python, [path.join(root, 'test', 'interop', 'peer.py')], {
      cwd: root,
      stdio: ['pipe', 'pipe', logFd],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    }) as PeerChild; // spawn's typings do not narrow a numeric stderr fd
  } finally {
    closeSync(logFd);
  }
  const peers = new PeerProcess(child, logPath, options.timeoutMs ?? 180_000);
  const pong = await peers.ping();
  if (pong !== 'pong') throw new Error(`the interop peer answered ping with ${JSON.stringify(pong)} (peer log: ${logPath})`);
  return peers;
}

function readArgs(p: string, opts: ReadOptions): Record<string, unknown> {
  const timestamp = opts.timestamp instanceof Date ? opts.timestamp.toISOString() : opts.timestamp;
  return { path: p, version: opts.version, timestamp, columns: opts.columns };
}

function sorted(result: PeerRows): PeerRows {
  return { schema: result.schema, rows: sortRows(result.rows) };
}

function logTail(logPath: string): string {
  try {
    const lines = readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-15);
    return lines.length ? `\nlast lines of the peer log:\n${lines.join('\n')}` : '';
  } catch {
    return '';
  }
}
