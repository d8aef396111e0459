// backfill(): the whole job in one call. Pass 1 reads and stages every input (no commit until all were read), pass 2
// makes one commit per window under txn(jobId, window), then the quarantine chunks and the sensors upsert, each
// txn-guarded too, so a run killed at any instant and started again ends with every row written exactly once.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { commitWindows } from './commit-windows.js';
import { jobIdOf } from './job-id.js';
import { checkReadings, findTable, lakePaths, openOrCreate, openReadings, QUARANTINE_SCHEMA, SENSORS_SCHEMA } from './lake.js';
import { settleOptions, type BackfillOptions } from './options.js';
import type { BackfillProgress } from './progress.js';
import { commitQuarantine, RejectSpill } from './quarantine.js';
import { readInputs, resolveBackfillInputs, type BackfillInput } from './read.js';
import { emptyReasons, isBalanced, type BackfillReport, type FileReport } from './report.js';
import { loadSensorList, type SensorInfo } from './sensor-list.js';
import { readSensorsTable, SensorObserver, upsertSensors } from './sensors.js';
import { stageInputs } from './stage.js';
import { SensorDict } from './validate.js';

export type { BackfillOptions } from './options.js';
export type { BackfillReport, FileReport } from './report.js';
export type { BackfillProgress } from './progress.js';
export type { BackfillInput } from './read.js';

export async function backfill(options: BackfillOptions): Promise<BackfillReport> {
  const started = performance.now();
  const o = await settleOptions(options);
  const lake = lakePaths(o.lake);
  const inputs: BackfillInput[] = await resolveBackfillInputs(o.specs, o.sourceConfig);
  const bytesTotal = inputs.reduce((s, i) => s + i.size, 0);
  const listed = o.sensors ? await loadSensorList(o.sensors) : new Map<string, SensorInfo>();
  const sensorsTable = await findTable(lake.sensors);
  const inLake = sensorsTable ? await readSensorsTable(sensorsTable) : new Map<string, SensorInfo>();
  const existingReadings = await findTable(lake.readings);
  if (existingReadings) await checkReadings(existingReadings, o.partition);

  const jobId = await jobIdOf(o, inputs);

  const progress: BackfillProgress = { phase: 'read', bytesRead: 0, bytesTotal, rowsRead: 0, windowsDone: 0, windowsTotal: 0, rowsWritten: 0 };
  const emit = (p: Partial<BackfillProgress>): void => {
    Object.assign(progress, p);
    options.onProgress?.({ ...progress });
  };

  // Staging is rebuilt by every run: a killed run's leftovers are never trusted.
  const staging = lake.staging(jobId);
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  try {
    const byFile = new Map(inputs.map((i, k) => [i.file, k]));
    const sources = inputs.map((i) => i.source);
    const fileIndex = (file: string): number => {
      let k = byFile.get(file);
      if (k === undefined) {
        // A reader may name a file the resolver did not (a custom reader): it is accounted under its own name.
        k = sources.length;
        byFile.set(file, k);
        sources.push(file);
        inputs.push({ file, source: file, size: 0, mtimeMs: 0, format: 'csv', spec: file, wholeSpec: false });
      }
      return k;
    };
    const fileBytes = new Map<number, number>();
    let bytesRead = 0;
    const dict = new SensorDict((id) => listed.get(id) ?? inLake.get(id));
    const observer = new SensorObserver();
    const rejects = new RejectSpill(path.join(staging, 'rejects.jsonl'));
    const chunks = options.reader ? options.reader(inputs.slice(), o.sourceConfig) : readInputs(inputs.slice(), o.sourceConfig, o.worker);
    const staged = await stageInputs({
      dir: staging,
      chunks,
      fileIndex,
      dict,
      observer,
      rules: { fromUs: o.fromUs, toUs: o.toUs },
      windowUs: o.windowUs,
      flushRows: o.flushRows,
      rejects,
      onChunk: (chunk, rowsRead) => {
        const f = fileIndex(chunk.file);
        bytesRead += chunk.bytesRead - (fileBytes.get(f) ?? 0);
        fileBytes.set(f, chunk.bytesRead);
        emit({ bytesRead, rowsRead });
      },
    });
    emit({ bytesRead: bytesTotal, phase: 'commit', windowsTotal: staged.spill.counts.size });

    // Every input was read: from here on, commits.
    const readings = await openReadings(lake.readings, o.partition);
    const totals = await commitWindows({
      table: readings,
      spill: staged.spill,
      jobId,
      windowUs: o.windowUs,
      partition: o.partition,
      mode: o.mode,
      onConflict: o.onConflict,
      sensors: dict.names,
      sources,
      rowBudget: o.rowBudget,
      onWindow: (windowsDone, windowsTotal, rowsWritten) => emit({ windowsDone, windowsTotal, rowsWritten }),
    });

    emit({ phase: 'quarantine' });
    let quarantineCommits = 0;
    if (rejects.count > 0) {
      const q = await openOrCreate(lake.quarantine, QUARANTINE_SCHEMA, [], 'records sensorlake backfill could not accept');
      quarantineCommits = (await commitQuarantine(q, rejects, sources, jobId, o.quarantineChunkRows)).committed;
    }

    emit({ phase: 'sensors' });
    const wanted: SensorInfo[] = [...listed.values()];
    dict.names.forEach((id, sid) => {
      if (!listed.has(id) && !inLake.has(id)) wanted.push(observer.inferred(sid, id));
    });
    let sensorsUpserted = 0;
    if (wanted.length > 0) {
      const table = await openOrCreate(lake.sensors, SENSORS_SCHEMA, [], 'sensor metadata: listed or inferred by sensorlake backfill');
      // Read again just before the overwrite, so rows another job added meanwhile are carried over.
      sensorsUpserted = (await upsertSensors(table, await readSensorsTable(table), wanted, jobId)).upserted;
    }

    const files: FileReport[] = inputs.map((input, f) => {
      const c = staged.files[f] ?? { read: 0, quarantined: 0, staged: 0 };
      const [written, duplicates] = totals.perFile.get(f) ?? [0, 0];
      return { file: input.file, source: input.source, read: c.read, written, duplicates, quarantined: c.quarantined, already_committed: c.staged - written - duplicates };
    });
    const sum = (k: keyof Omit<FileReport, 'file' | 'source'>): number => files.reduce((s, f) => s + f[k], 0);
    const byReason = emptyReasons();
    for (const [r, n] of staged.byReason) byReason[r] = n;
    const seconds = (performance.now() - started) / 1000;
    const read = sum('read');
    const report: BackfillReport = {
      job_id: jobId,
      lake: lake.root,
      mode: o.mode,
      on_conflict: o.onConflict,
      window: o.window,
      partition: o.partition,
      read,
      written: sum('written'),
      duplicates: sum('duplicates'),
      conflicts: totals.conflictsInInput + totals.conflictsWithTable,
      conflicts_in_input: totals.conflictsInInput,
      conflicts_with_table: totals.conflictsWithTable,
      rows_replaced: totals.replaced,
      quarantined: sum('quarantined'),
      quarantined_by_reason: byReason,
      out_of_range: staged.outOfRange,
      already_committed: sum('already_committed'),
      windows: totals.windows,
      windows_committed: totals.committed,
      windows_skipped: totals.skipped,
      windows_bucketed: totals.bucketed,
      dst_ambiguous: staged.dst.ambiguous,
      dst_nonexistent: staged.dst.nonexistent,
      quarantine_commits: quarantineCommits,
      sensors_upserted: sensorsUpserted,
      readings_version: await readings.version(),
      files,
      bytes: bytesTotal,
      seconds: Number(seconds.toFixed(3)),
      rows_per_second: Math.round(read / Math.max(seconds, 1e-3)),
      mb_per_second: Number((bytesTotal / 1e6 / Math.max(seconds, 1e-3)).toFixed(2)),
      balanced: false,
    };
    report.balanced = isBalanced(report);
    emit({ phase: 'done', windowsDone: totals.windows });
    return report;
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
    // The job's directory under _sensorlake/staging goes; the parent stays for other jobs running alongside.
  }
}
