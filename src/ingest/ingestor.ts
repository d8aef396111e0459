// The durable core of live ingest: validates what front ends submit with the backfill's rules, makes each request
// one fsync'd WAL entry (group commit) before acknowledging it, and commits micro-batches to the lake exactly once
// (committer.ts, micro-batch.ts), checkpointing the tables on a schedule of its own (checkpoints.ts). Opening replays
// whatever the WAL holds beyond the lake's txn versions.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkReadings, findTable, lakePaths, openOrCreate, openReadings, QUARANTINE_SCHEMA, type PartitionScheme } from '../backfill/lake.js';
import { readSensorsTable, type SensorInfo } from '../backfill/sensors.js';
import { SensorDict } from '../backfill/validate.js';
import type { DeltaTable } from '../delta/table.js';
import { BufferFullError, ConflictError, InvalidArgumentError, ShuttingDownError } from '../errors.js';
import { logger } from '../log.js';
import { Committer } from './committer.js';
import type { Ingest, IngestAck, IngestorOptions, IngestRequest, IngestStats } from './contract.js';
import { decodeEntry, EntryBuilder } from './entry.js';
import { IdempotencyStore } from './idempotency.js';
import { HighWater } from './live-dedup.js';
import { commitBatch, type BatchContext, type BatchOutcome, type PendingEntry } from './micro-batch.js';
import { CommitThread } from './commit-thread.js';
import { CheckpointScheduler, CheckpointThread, DEFAULT_CHECKPOINT_SCHEDULE, inlineRunner, type CheckpointSchedule } from './checkpoints.js';
import { acquireLock, type Lock } from './wal-lock.js';
import { Wal } from './wal.js';

export type { Ingest, IngestAck, IngestorOptions, IngestRequest, IngestStats } from './contract.js';

/** Options this module adds to the contract's (for tests and benchmarks). */
export interface IngestorTuning {
  /** A WAL segment is closed once it holds this many bytes (default 64 MiB). */
  walSegmentBytes?: number;
  /**
   * Where micro-batches are built and committed: on a worker thread (default), so the event loop that acknowledges
   * requests never waits for a commit, or on the main thread (simpler to debug).
   */
  commitThread?: 'worker' | 'main';
  /**
   * When the tables get a checkpoint (micro-batch commits never write one): default every 100 commits or 10 min,
   * whichever first, at most 10% of a core, and at close. With commitThread 'worker' they run on a thread of their own.
   */
  checkpoints?: Partial<CheckpointSchedule>;
}

/** IngestStats plus what the core counts beyond the contract. */
export interface IngestorStats extends IngestStats {
  /** Readings written to `readings` (after dedup). */
  rowsCommitted: number;
  /** Readings dropped as duplicates of (sensor_id, ts): within a micro-batch or already in the table. */
  duplicates: number;
  /** WAL position of the last acknowledged entry. */
  lastPosition: number;
  /** WAL write + fsync rounds: with group commit, far fewer than requests. */
  walSyncs: number;
  /** Checkpoints written on the ingestor's schedule (to readings and quarantine). */
  checkpoints: number;
}

const DEFAULTS = { commitRows: 500_000, commitMs: 1000, bufferRows: 2_000_000, idempotencyTtlMs: 24 * 3600_000 };

/** A stable server id for a lake when none is given: the hash of its absolute path. */
export function defaultServerId(lake: string): string {
  return `ingest-${createHash('sha256').update(path.resolve(lake)).digest('hex').slice(0, 12)}`;
}

export async function openIngestor(opts: IngestorOptions & IngestorTuning): Promise<Ingestor> {
  return Ingestor.open(opts);
}

type CommitListener = (info: { version: number; rows: number; dates: string[] }) => void;

export class Ingestor implements Ingest {
  readonly stats: IngestorStats;
  private readonly listeners: CommitListener[] = [];
  private readonly commitSeconds: number[] = [];
  private walRows = 0;
  private closing: Promise<void> | null = null;
  private committer!: Committer;
  private thread: CommitThread | null = null;
  private checkpoints!: CheckpointScheduler;
  private checkpointThread: CheckpointThread | null = null;
  private tablePaths!: { readings: string; quarantine: string };
  /** Rows committed per ms, smoothed: for the Retry-After estimate. */
  private rate = 0;
  private readonly counts = { rowsIngested: 0, rowsQuarantined: 0, rowsCommitted: 0, duplicates: 0, commits: 0, conflicts: 0, retries: 0 };

  private constructor(
    readonly serverId: string,
    private readonly wal: Wal,
    private readonly keys: IdempotencyStore,
    private readonly builder: EntryBuilder,
    private readonly lock: Lock,
    private readonly o: Required<Pick<IngestorOptions, 'commitRows' | 'commitMs' | 'bufferRows' | 'idempotencyTtlMs' | 'fsync'>>,
  ) {
    const c = this.counts;
    const live = (get: () => number): PropertyDescriptor => ({ get, enumerable: true });
    // Read-through properties: the front ends' metrics read the current values whenever they scrape.
    this.stats = Object.defineProperties({ drainCommitSeconds: () => this.commitSeconds.splice(0) } as unknown as IngestorStats, {
      rowsIngested: live(() => c.rowsIngested),
      rowsQuarantined: live(() => c.rowsQuarantined),
      rowsCommitted: live(() => c.rowsCommitted),
      duplicates: live(() => c.duplicates),
      commits: live(() => c.commits),
      conflicts: live(() => c.conflicts),
      retries: live(() => c.retries),
      walBytes: live(() => this.wal.bytes),
      bufferedRows: live(() => this.walRows + this.committer.rows),
      committedPosition: live(() => this.committer.committedPosition),
      lastPosition: live(() => this.wal.nextPosition - 1),
      walSyncs: live(() => this.wal.groups),
      checkpoints: live(() => this.checkpoints.written),
    });
  }

  static async open(opts: IngestorOptions & IngestorTuning): Promise<Ingestor> {
    const lake = lakePaths(opts.lake);
    const serverId = opts.serverId ?? defaultServerId(lake.root);
    if (!/^[A-Za-z0-9][\w.-]*$/.test(serverId)) {
      throw new InvalidArgumentError(`ingest: server id '${serverId}' must be letters, digits, '.', '_' or '-' (it names the WAL directory and txn appId)`);
    }
    const o = {
      commitRows: positive(opts.commitRows ?? DEFAULTS.commitRows, 'commitRows'),
      commitMs: positive(opts.commitMs ?? DEFAULTS.commitMs, 'commitMs'),
      bufferRows: positive(opts.bufferRows ?? DEFAULTS.bufferRows, 'bufferRows'),
      idempotencyTtlMs: positive(opts.idempotencyTtlMs ?? DEFAULTS.idempotencyTtlMs, 'idempotencyTtlMs'),
      fsync: opts.fsync ?? true,
    };
    const walDir = path.resolve(opts.walDir ?? path.join(lake.root, '_sensorlake', 'wal', serverId));
    await fs.mkdir(walDir, { recursive: true });
    const lock = await acquireLock(walDir);
    let wal: Wal | null = null;
    let thread: CommitThread | null = null;
    let committer: Committer | null = null;
    let checkpointThread: CheckpointThread | null = null;
    try {
      const existing = await findTable(lake.readings);
      let partition: PartitionScheme = 'date';
      if (existing) {
        const cols = (await existing.snapshot()).partitionColumns;
        partition = cols[0] === 'month' ? 'month' : 'date';
        await checkReadings(existing, partition);
      }
      const readings = existing ?? (await openReadings(lake.readings, partition));
      const sensorsTable = await findTable(lake.sensors);
      const known = sensorsTable ? await readSensorsTable(sensorsTable) : new Map<string, SensorInfo>();
      const dict = new SensorDict((id) => known.get(id));
      let quarantine: DeltaTable | null = await findTable(lake.quarantine);
      const readingsDone = (await readings.txnVersion(serverId)) ?? -1;
      const rejectsDone = (quarantine ? await quarantine.txnVersion(`${serverId}:quarantine`) : undefined) ?? -1;

      const now = Date.now();
      wal = await Wal.open({ dir: walDir, fsync: o.fsync, segmentBytes: opts.walSegmentBytes, minPosition: Math.max(readingsDone, rejectsDone, 0) });
      const keys = await IdempotencyStore.load(walDir, o.idempotencyTtlMs, now);
      const ing = new Ingestor(serverId, wal, keys, new EntryBuilder(dict), lock, o);
      ing.tablePaths = { readings: lake.readings, quarantine: lake.quarantine };
      const schedule = { ...DEFAULT_CHECKPOINT_SCHEDULE, ...opts.checkpoints };
      if ((opts.commitThread ?? 'worker') === 'worker') {
        checkpointThread = ing.checkpointThread = new CheckpointThread();
        ing.checkpoints = new CheckpointScheduler(schedule, checkpointThread.run);
      } else {
        ing.checkpoints = new CheckpointScheduler(schedule, inlineRunner([readings]));
      }
      let commit: (batch: PendingEntry[]) => Promise<BatchOutcome>;
      if ((opts.commitThread ?? 'worker') === 'worker') {
        const t = new CommitThread({ lake: lake.root, serverId, partition });
        thread = ing.thread = t;
        commit = (batch) => t.commit(batch);
      } else {
        const ctx: BatchContext = {
          serverId,
          readings,
          partition,
          // Its own dictionary: names to indexes for the high-water marks (validation's is busy on submits).
          dict: new SensorDict(() => undefined),
          marks: new HighWater(),
          quarantine: async () => (quarantine ??= await openOrCreate(lake.quarantine, QUARANTINE_SCHEMA, [], 'records sensorlake could not accept')),
        };
        commit = (batch) => commitBatch(batch, ctx);
      }
      // Replay: every entry still in the WAL; those beyond a table's txn version are committed again to it. Entries
      // not done form a suffix of the log (both tests are thresholds), so all before the first of them are done.
      const replay: PendingEntry[] = [];
      for await (const e of wal.entries()) {
        const entry = decodeEntry(e.payload, e.position);
        if (entry.key) keys.remember(entry.key, { position: entry.position, accepted: entry.rows.n, rejected: entry.rejects, atMs: entry.createdAtMs }, now);
        const rowsDone = entry.position <= readingsDone;
        const rejectsCommitted = entry.position <= rejectsDone;
        if (!rowsDone || !rejectsCommitted) replay.push({ entry, rowsDone, rejectsDone: rejectsCommitted });
      }
      committer = ing.committer = new Committer(
        { commitRows: o.commitRows, commitMs: o.commitMs, commit, onBatch: (b, s) => ing.afterBatch(b, s), onFailure: (e) => ing.afterFailure(e) },
        replay.length > 0 ? replay[0].entry.position - 1 : wal.nextPosition - 1,
      );
      for (const p of replay) ing.committer.add(p);
      const replayed = replay.length;
      if (replayed > 0 || wal.recovery.truncatedBytes > 0) {
        logger.info({ serverId, replayed, truncatedBytes: wal.recovery.truncatedBytes }, 'ingest: WAL recovered');
      }
      await ing.committer.flush();
      await ing.releaseSegments();
      return ing;
    } catch (e) {
      // Nothing acknowledged is lost: what could not be committed stays in the WAL for the next open.
      await committer?.stop();
      await (thread as CommitThread | null)?.close().catch(() => undefined);
      await (checkpointThread as CheckpointThread | null)?.close().catch(() => undefined);
      await wal?.close().catch(() => undefined);
      await lock.release();
      throw e;
    }
  }

  onCommit(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  submit(req: IngestRequest): Promise<IngestAck> {
    if (this.closing) return Promise.reject(new ShuttingDownError(`ingest ${this.serverId}: shutting down; no new requests are accepted`));
    const now = Date.now();
    const key = req.idempotencyKey ?? null;
    if (key !== null) {
      const first = this.keys.lookup(key, now);
      if (first) return Promise.resolve({ accepted: first.accepted, rejected: first.rejected, position: first.position, duplicate: true });
      const inFlight = this.keys.inFlight(key);
      if (inFlight) return inFlight.then((a) => ({ ...a, duplicate: true }));
    }
    let rows = 0;
    for (const c of req.chunks) rows += c.batch?.numRows ?? 0;
    const buffered = this.walRows + this.committer.rows;
    if (buffered > 0 && buffered + rows > this.o.bufferRows) {
      return Promise.reject(
        new BufferFullError(
          `ingest ${this.serverId}: ${buffered} acknowledged rows are not committed yet (limit ${this.o.bufferRows}); retry later`,
          this.retryAfterMs(buffered + rows - this.o.bufferRows),
        ),
      );
    }
    let ack: Promise<IngestAck>;
    try {
      ack = this.append(req, key, now);
    } catch (e) {
      return Promise.reject(e);
    }
    if (key !== null) this.keys.track(key, ack);
    return ack;
  }

  /** Validates, encodes and appends synchronously (so entries take positions in submit order), then awaits the fsync. */
  private append(req: IngestRequest, key: string | null, now: number): Promise<IngestAck> {
    const { frame, entry } = this.builder.build(req.chunks, req.source, key, now);
    const { position, durable } = this.wal.append(frame);
    entry.position = position;
    const n = entry.rows.n;
    this.walRows += n;
    // Registered now, so entries reach the committer in position order (group reactions run in this order).
    return durable.then(
      () => {
        this.walRows -= n;
        this.committer.add({ entry, rowsDone: false, rejectsDone: false });
        this.counts.rowsIngested += n;
        this.counts.rowsQuarantined += entry.rejects.length;
        if (key !== null) this.keys.remember(key, { position, accepted: n, rejected: entry.rejects, atMs: now }, now);
        return { accepted: n, rejected: entry.rejects, position, duplicate: false };
      },
      (e: unknown) => {
        this.walRows -= n;
        throw e;
      },
    );
  }

  async flush(): Promise<void> {
    await this.wal.idle();
    // Lets the reactions of the last fsync group queue their entries first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.committer.flush();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.flush();
      } finally {
        await this.committer.stop();
        // Leaves a checkpoint at the last version for the next reader and the next start (it never throws).
        await this.checkpoints.close();
        await this.checkpointThread?.close();
        await this.thread?.close();
        await this.wal.close();
        await this.lock.release();
      }
    })();
    return this.closing;
  }

  private retryAfterMs(excessRows: number): number {
    const ms = this.rate > 0 ? excessRows / this.rate : this.o.commitMs;
    return Math.min(60_000, Math.max(50, Math.ceil(ms)));
  }

  private async afterBatch(b: BatchOutcome, seconds: number): Promise<void> {
    this.counts.commits++;
    this.counts.rowsCommitted += b.written;
    this.counts.duplicates += b.duplicates;
    this.commitSeconds.push(seconds);
    if (this.commitSeconds.length > 10_000) this.commitSeconds.splice(0, this.commitSeconds.length - 10_000);
    if (b.rows > 0 && seconds > 0) {
      const r = b.rows / (seconds * 1000);
      this.rate = this.rate === 0 ? r : 0.7 * this.rate + 0.3 * r;
    }
    if (b.readingsVersion !== null) this.checkpoints.committed(this.tablePaths.readings);
    if (b.quarantineVersion !== null) this.checkpoints.committed(this.tablePaths.quarantine);
    if (b.readingsVersion !== null) {
      for (const l of this.listeners) {
        try {
          l({ version: b.readingsVersion, rows: b.written, dates: b.dates });
        } catch (e) {
          logger.warn({ err: e }, 'ingest: an onCommit listener threw');
        }
      }
    }
    await this.releaseSegments();
  }

  private afterFailure(e: unknown): void {
    this.counts.retries++;
    if (e instanceof ConflictError) this.counts.conflicts++;
  }

  /** Deletes WAL segments the lake holds entirely, after checkpointing the idempotency keys they carry. */
  private async releaseSegments(): Promise<void> {
    const committed = this.committer.committedPosition;
    if (this.wal.releasable(committed) === 0) return;
    const now = Date.now();
    this.keys.prune(now);
    if (this.keys.size > 0) await this.keys.checkpoint(now, this.o.fsync);
    await this.wal.release(committed);
  }
}

function positive(v: number, name: string): number {
  if (!(Number.isFinite(v) && v > 0)) throw new InvalidArgumentError(`ingest: ${name} must be a positive number, not ${v}`);
  return v;
}
