// Progress of a backfill on stderr (never stdout, which --json owns): a cli-progress bar on a TTY, else a plain line
// every few seconds, or JSON lines through pino. Reading is measured in input bytes, committing in windows.

import cliProgress from 'cli-progress';
import { pino, type Logger } from 'pino';

export interface BackfillProgress {
  phase: 'read' | 'commit' | 'quarantine' | 'sensors' | 'done';
  bytesRead: number;
  bytesTotal: number;
  rowsRead: number;
  windowsDone: number;
  windowsTotal: number;
  rowsWritten: number;
}

export interface ProgressReporter {
  update(p: BackfillProgress): void;
  stop(): void;
}

export type ProgressFormat = 'bar' | 'text' | 'json';

const mb = (b: number): string => (b / 1e6).toFixed(1);

/** Rates over the whole run; the ETA of the current phase from its own pace (bytes while reading, then windows). */
function rates(p: BackfillProgress, started: number, phaseStarted: number): { rps: number; mbps: number; eta: number | null } {
  const now = performance.now();
  const s = Math.max(1e-3, (now - started) / 1000);
  const ps = Math.max(1e-3, (now - phaseStarted) / 1000);
  const frac = p.phase === 'read' ? (p.bytesTotal ? p.bytesRead / p.bytesTotal : 0) : p.windowsTotal ? p.windowsDone / p.windowsTotal : 0;
  return { rps: Math.round(p.rowsRead / s), mbps: p.bytesRead / 1e6 / s, eta: frac > 0 ? (ps * (1 - frac)) / frac : null };
}

class BarReporter implements ProgressReporter {
  private bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{phase} |{bar}| {percentage}% | {rows} rows | {rps} rows/s | {mbps} MB/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  private phase = '';
  private readonly started = performance.now();

  update(p: BackfillProgress): void {
    const r = rates(p, this.started, this.started);
    const payload = { phase: p.phase.padEnd(10), rows: p.rowsRead.toLocaleString('en'), rps: r.rps.toLocaleString('en'), mbps: r.mbps.toFixed(1) };
    const [value, total] = p.phase === 'read' ? [p.bytesRead, Math.max(1, p.bytesTotal)] : [p.windowsDone, Math.max(1, p.windowsTotal)];
    if (this.phase !== p.phase) {
      if (this.phase === '') this.bar.start(total, value, payload);
      else this.bar.setTotal(total);
      this.phase = p.phase;
    }
    this.bar.update(value, payload);
  }

  stop(): void {
    if (this.phase !== '') this.bar.stop();
  }
}

/** Lines every `everyMs` (and at each phase change): plain text, or JSON through pino. */
class LineReporter implements ProgressReporter {
  private last = 0;
  private phase = '';
  private readonly started = performance.now();
  private phaseStarted = this.started;
  private readonly log: Logger | null;

  constructor(
    json: boolean,
    private readonly everyMs: number,
  ) {
    this.log = json ? pino({ name: 'sensorlake', level: 'info' }, pino.destination(2)) : null;
  }

  update(p: BackfillProgress): void {
    const now = performance.now();
    if (p.phase === this.phase && now - this.last < this.everyMs) return;
    if (p.phase !== this.phase) this.phaseStarted = now;
    this.last = now;
    this.phase = p.phase;
    const r = rates(p, this.started, this.phaseStarted);
    if (this.log) {
      this.log.info({ ...p, rows_per_second: r.rps, mb_per_second: Number(r.mbps.toFixed(2)), eta_seconds: r.eta === null ? null : Math.round(r.eta) }, `backfill ${p.phase}`);
      return;
    }
    const where =
      p.phase === 'read'
        ? `${mb(p.bytesRead)}/${mb(p.bytesTotal)} MB, ${p.rowsRead.toLocaleString('en')} rows`
        : `${p.windowsDone}/${p.windowsTotal} windows, ${p.rowsWritten.toLocaleString('en')} rows written`;
    const eta = r.eta === null ? '' : `, ETA ${Math.round(r.eta)} s`;
    process.stderr.write(`backfill ${p.phase}: ${where}, ${r.rps.toLocaleString('en')} rows/s, ${r.mbps.toFixed(1)} MB/s${eta}\n`);
  }

  stop(): void {}
}

export function createProgressReporter(format: ProgressFormat, everyMs = 5000): ProgressReporter {
  return format === 'bar' ? new BarReporter() : new LineReporter(format === 'json', everyMs);
}
