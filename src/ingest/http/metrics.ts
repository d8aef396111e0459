// Prometheus metrics of the server (GET /metrics): the durable core's IngestStats, read at scrape time, and the HTTP
// front end's own request counts and latencies. One registry per server, so tests can run several in one process.

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IngestStats } from '../contract.js';
import { drainHistogram, mirrorCounter, mirrorGauge } from '../prom-mirror.js';

export class ServerMetrics {
  readonly registry = new Registry();
  private stats: IngestStats | null = null;
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly latency: Histogram<'route' | 'method'>;
  private readonly duplicates: Counter;
  private readonly bodyErrors: Counter<'reason'>;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const registry = this.registry;
    const mirror = (name: string, help: string, read: (s: IngestStats) => number): void => mirrorCounter(registry, name, help, () => (this.stats ? read(this.stats) : undefined));
    const gauge = (name: string, help: string, read: (s: IngestStats) => number): void => mirrorGauge(registry, name, help, () => (this.stats ? read(this.stats) : undefined));
    mirror('sensorlake_ingest_rows_total', 'Readings acknowledged and bound for the readings table', (s) => s.rowsIngested);
    mirror('sensorlake_ingest_rows_quarantined_total', 'Records acknowledged and bound for the quarantine table', (s) => s.rowsQuarantined);
    mirror('sensorlake_ingest_commits_total', 'Micro-batch commits to the lake', (s) => s.commits);
    mirror('sensorlake_ingest_commit_conflicts_total', 'Commits that met a concurrent writer', (s) => s.conflicts);
    mirror('sensorlake_ingest_commit_retries_total', 'Commit attempts retried', (s) => s.retries);
    gauge('sensorlake_wal_bytes', 'Bytes held in write-ahead log segments', (s) => s.walBytes);
    gauge('sensorlake_ingest_buffered_rows', 'Rows acknowledged but not yet committed', (s) => s.bufferedRows);
    gauge('sensorlake_ingest_committed_position', 'WAL position of the last committed entry', (s) => s.committedPosition);
    drainHistogram(registry, 'sensorlake_ingest_commit_seconds', 'Time each micro-batch commit took', [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], () =>
      this.stats ? this.stats.drainCommitSeconds() : [],
    );
    this.requests = new Counter({ name: 'sensorlake_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'method', 'status'], registers });
    this.latency = new Histogram({
      name: 'sensorlake_http_request_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.duplicates = new Counter({ name: 'sensorlake_ingest_duplicate_requests_total', help: 'Requests whose Idempotency-Key was seen before', registers });
    this.bodyErrors = new Counter({ name: 'sensorlake_http_body_errors_total', help: 'Requests refused for their body', labelNames: ['reason'], registers });
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'sensorlake_' });
  }

  /** The core whose stats the scrapes read (set once its WAL recovery is done). */
  attach(stats: IngestStats): void {
    this.stats = stats;
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    this.latency.observe({ route, method }, seconds);
  }

  duplicate(): void {
    this.duplicates.inc();
  }

  bodyError(reason: string): void {
    this.bodyErrors.inc({ reason });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
