// The seam between live-ingest front ends (HTTP, MQTT) and the durable core (WAL + micro-batch committer): front ends
// decode their payloads into the canonical source shape with src/sources code, then submit; the core validates with
// the backfill's rules, makes the records durable, acknowledges, and commits them to the lake exactly once.

import type { Reject, SourceChunk } from '../sources/batch.js';

export interface IngestorOptions {
  /** The lake directory: readings, sensors and quarantine tables as the backfill lays them out. */
  lake: string;
  /** Names this server in txn(appId) and its WAL directory; stable across restarts. Default derived from the lake. */
  serverId?: string;
  /** Where WAL segments live. Default `<lake>/_sensorlake/wal/<serverId>`. */
  walDir?: string;
  /** Commit a micro-batch when this many rows are buffered (default 500_000) ... */
  commitRows?: number;
  /** ... or when the oldest buffered row is this old (default 1000 ms). */
  commitMs?: number;
  /** Rows acknowledged but not yet committed, above which submit refuses with BufferFullError (default 2_000_000). */
  bufferRows?: number;
  /** How long an Idempotency-Key is remembered, also across restarts (default 24 h). */
  idempotencyTtlMs?: number;
  /** false only for benchmarks that measure the fsync cost; never in production. Default true. */
  fsync?: boolean;
}

export interface IngestRequest {
  /** Decoded payload: readings and the records that could not be decoded (they go to quarantine). */
  chunks: SourceChunk[];
  /** Stored in the readings `source` column and quarantine `source_file`: e.g. "http", "mqtt:plant/line1/temp". */
  source: string;
  /** A retried request with the same key is acknowledged again but counted once. */
  idempotencyKey?: string;
}

export interface IngestAck {
  /** Readings durable and bound for `readings`. */
  accepted: number;
  /** Records bound for `quarantine`, each with reason, message and location within the payload. */
  rejected: Reject[];
  /** WAL position of this request's entry (the txn version its commit will carry). */
  position: number;
  /** True when the Idempotency-Key was seen before: nothing new was written, the first ack's counts are returned. */
  duplicate: boolean;
}

export interface IngestStats {
  rowsIngested: number;
  rowsQuarantined: number;
  walBytes: number;
  bufferedRows: number;
  committedPosition: number;
  commits: number;
  conflicts: number;
  retries: number;
  /** Seconds each commit took, for the latency histogram (drained by the reader). */
  drainCommitSeconds(): number[];
}

/** What the durable core offers its front ends; implemented by `Ingestor` (ingestor.ts), opened with `openIngestor`. */
export interface Ingest {
  /**
   * Validates, writes one WAL entry and resolves once it is fsync'd (group commit: concurrent submits share fsyncs).
   * Throws BufferFullError (with retryAfterMs) when too much is acknowledged but uncommitted, and ShuttingDownError
   * after close() began.
   */
  submit(req: IngestRequest): Promise<IngestAck>;
  /** Commits everything acknowledged so far; resolves when it is in the lake. */
  flush(): Promise<void>;
  /** Stops accepting, commits what is buffered, closes the WAL. */
  close(): Promise<void>;
  readonly stats: IngestStats;
  /** Called after each micro-batch commit of readings (background compaction, inline quality checks listen here). */
  onCommit(listener: (info: { version: number; rows: number; dates: string[] }) => void): void;
}
