// Rejected records: spilled to disk in input order during the run (there can be many), then written to the lake's
// quarantine table after the windows in fixed-size chunks, each one commit under txn(jobId, chunk index), so a
// rerun, which recomputes the same rejects in the same order, adds each of them exactly once.

import * as arrow from 'apache-arrow';
import { createReadStream, promises as fs } from 'node:fs';
import * as readline from 'node:readline';
import type { DeltaTable } from '../delta/table.js';
import type { LocationKind, RejectReason } from '../sources/batch.js';

interface SpilledReject {
  raw: string;
  reason: RejectReason;
  message: string;
  /** Index of the input file. */
  f: number;
  loc: number;
  kind: LocationKind;
}

export class RejectSpill {
  private lines: string[] = [];
  private bytes = 0;
  count = 0;

  constructor(
    readonly file: string,
    private readonly flushBytes = 8 << 20,
  ) {}

  async add(r: SpilledReject): Promise<void> {
    const line = JSON.stringify(r);
    this.lines.push(line);
    this.bytes += line.length;
    this.count++;
    if (this.bytes >= this.flushBytes) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    await fs.appendFile(this.file, this.lines.join('\n') + '\n');
    this.lines = [];
    this.bytes = 0;
  }
}

/** One row of the quarantine table (QUARANTINE_SCHEMA in lake.ts), as the backfill and live ingest both write it. */
export interface QuarantineRow {
  raw: string;
  reason: RejectReason;
  message: string;
  sourceFile: string;
  location: number;
  locationKind: LocationKind;
  /** quarantined_at, in ms since the epoch. */
  atMs: number;
}

/** Rows of the quarantine table as Arrow, each marked with the job (or ingest server) that quarantined it. */
export function quarantineTable(rows: QuarantineRow[], jobId: string): arrow.Table {
  const n = rows.length;
  const loc = new BigInt64Array(n);
  const at = new BigInt64Array(n);
  rows.forEach((r, i) => {
    loc[i] = BigInt(Math.trunc(r.location));
    at[i] = BigInt(Math.trunc(r.atMs)) * 1000n;
  });
  return new arrow.Table({
    raw: arrow.vectorFromArray(rows.map((r) => r.raw), new arrow.Utf8()),
    reason: arrow.vectorFromArray(rows.map((r) => r.reason), new arrow.Utf8()),
    message: arrow.vectorFromArray(rows.map((r) => r.message), new arrow.Utf8()),
    source_file: arrow.vectorFromArray(rows.map((r) => r.sourceFile), new arrow.Utf8()),
    location: arrow.makeVector(arrow.makeData({ type: new arrow.Int64(), length: n, nullCount: 0, data: loc })),
    location_kind: arrow.vectorFromArray(rows.map((r) => r.locationKind), new arrow.Utf8()),
    job_id: arrow.vectorFromArray(rows.map(() => jobId), new arrow.Utf8()),
    quarantined_at: arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: n, nullCount: 0, data: at })),
  });
}

function chunkTable(rows: SpilledReject[], sources: string[], jobId: string, at: number): arrow.Table {
  return quarantineTable(
    rows.map((r) => ({ raw: r.raw, reason: r.reason, message: r.message, sourceFile: sources[r.f], location: r.loc, locationKind: r.kind, atMs: at })),
    jobId,
  );
}

export interface QuarantineCommits {
  committed: number;
  skipped: number;
}

/** Writes the spilled rejects to the quarantine table, chunk after chunk; chunks the job already committed are skipped. */
export async function commitQuarantine(
  table: DeltaTable,
  spill: RejectSpill,
  sources: string[],
  jobId: string,
  chunkRows: number,
): Promise<QuarantineCommits> {
  await spill.flush();
  const out: QuarantineCommits = { committed: 0, skipped: 0 };
  if (spill.count === 0) return out;
  const done = (await table.txnVersion(jobId)) ?? -1;
  let chunk: SpilledReject[] = [];
  let index = 0;
  const commit = async (): Promise<void> => {
    if (index <= done) out.skipped++;
    else {
      const r = await table.write(chunkTable(chunk, sources, jobId, Date.now()), { txn: { appId: jobId, version: index } });
      if (r.skipped) out.skipped++;
      else out.committed++;
    }
    index++;
    chunk = [];
  };
  const lines = readline.createInterface({ input: createReadStream(spill.file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === '') continue;
    // Chunks already committed need not be parsed: only counted, so the next index is right.
    chunk.push(index <= done ? (null as unknown as SpilledReject) : (JSON.parse(line) as SpilledReject));
    if (chunk.length >= chunkRows) await commit();
  }
  if (chunk.length > 0) await commit();
  return out;
}
