// Prometheus metrics of background compaction, read from the compactor's stats at scrape time: registered on the
// server's registry next to the ingest metrics (GET /metrics), so operators see whether compaction keeps up.

import type { Registry } from 'prom-client';
import type { CompactorStats } from './compaction.js';
import { drainHistogram, mirrorCounter, mirrorGauge } from './prom-mirror.js';

export function registerCompactionMetrics(registry: Registry, stats: CompactorStats): void {
  const mirror = (name: string, help: string, read: () => number): void => mirrorCounter(registry, name, help, read);
  mirror('sensorlake_compaction_runs_total', 'Compaction passes (each checks which partitions are due)', () => stats.runs);
  mirror('sensorlake_compaction_commits_total', 'OPTIMIZE commits made by background compaction', () => stats.optimizeCommits);
  mirror('sensorlake_compaction_files_removed_total', 'Small files compacted away', () => stats.filesRemoved);
  mirror('sensorlake_compaction_files_added_total', 'Files written by compaction', () => stats.filesAdded);
  mirror('sensorlake_compaction_rows_rewritten_total', 'Rows rewritten by compaction', () => stats.rowsRewritten);
  mirror('sensorlake_compaction_errors_total', 'Compaction passes or partitions that failed (retried on the next wake)', () => stats.errors);
  mirror('sensorlake_compaction_conflicts_total', 'Compactions that lost to another writer removing the same files', () => stats.conflicts);
  mirrorGauge(registry, 'sensorlake_compaction_running', '1 while a compaction pass runs', () => (stats.running ? 1 : 0));
  drainHistogram(registry, 'sensorlake_compaction_optimize_seconds', 'Time each partition OPTIMIZE took', [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], () =>
    stats.drainOptimizeSeconds(),
  );
}
