// The quality benchmark (bench/quality/run): anomaly detection on NAB (bench/quality/anomaly.ts, when present),
// imputation on masked NAB series and on simulated assets, and cause-and-lead against the simulator's ground truth.
// Prints one table, then one JSON line with every number. Asserts nothing.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { imputeBench, scoreAssets, type ImputeScore } from './impute.js';
import { assetSeries, scoreCausal, SCENARIOS, simulatedLake, type CausalScore } from './causal.js';
import { expectedIntervalUs } from '../../src/quality/interval.js';
import { loadSensors } from '../../src/quality/series.js';
import { shutdownWorkers } from '../../src/delta/table.js';

type Cell = string | number | boolean | null;
type Row = Record<string, Cell>;

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '..', '..', '..');

function args(): { shared: string; keep: boolean; quick: boolean } {
  const a = process.argv.slice(2);
  const at = a.indexOf('--shared');
  return { shared: at >= 0 ? path.resolve(a[at + 1]) : path.resolve(REPO, '..', 'shared'), keep: a.includes('--keep'), quick: a.includes('--quick') };
}

const f3 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(3));

/** One table row for an imputation score: auto's RMSE against linear's, target at most 0.8x. */
function imputeRow(s: ImputeScore, kind: string): Row {
  const lin = s.rmse.linear ?? null;
  const auto = s.rmse.auto ?? null;
  const ratio = lin !== null && auto !== null && lin > 0 ? auto / lin : null;
  const ok = auto !== null && lin !== null && auto <= 0.8 * lin + 1e-12;
  const others = Object.entries(s.rmse)
    .filter(([m]) => m !== 'auto' && m !== 'linear')
    .map(([m, v]) => `${m} ${lin && v !== null && v !== undefined ? (v / lin).toFixed(2) : 'n/a'}`)
    .join(', ');
  return {
    area: 'impute',
    what: `${kind}`,
    where: s.series,
    metric: 'RMSE auto / linear',
    value: ratio === null ? (auto === 0 && lin === 0 ? 'both 0' : 'n/a') : Number(ratio.toFixed(3)),
    target: '<= 0.8',
    ok,
    note: `auto RMSE ${f3(auto)} MAE ${f3(s.mae.auto)} vs linear ${f3(lin)} / ${f3(s.mae.linear)}; others/linear: ${others}; ${s.masks > 1 ? `${s.masks} masks pooled, each hiding ~${Math.round(s.masked / s.masks)} of ${s.points} in ~${Math.round(s.blocks / s.masks)} blocks` : `${s.masked} hidden of ${s.points} in ${s.blocks} blocks`}${s.ratioRange && s.masks > 1 ? `; one mask's ratio ${s.ratioRange[0].toFixed(3)} to ${s.ratioRange[1].toFixed(3)}` : ''}; auto picked ${s.autoChoice.join(' ')}`,
  };
}

/** The pooled row: RMSE over every hidden reading of the NAB series together, each series divided by linear's RMSE. */
function pooledRow(scores: ImputeScore[]): Row {
  const usable = scores.filter((s) => (s.rmse.linear ?? 0) > 0 && s.rmse.auto !== null && s.rmse.auto !== undefined);
  const ratios = usable.map((s) => s.rmse.auto! / s.rmse.linear!);
  const mean = ratios.reduce((a, b) => a + b, 0) / Math.max(1, ratios.length);
  const meets = scores.filter((s) => (s.rmse.auto ?? Infinity) <= 0.8 * (s.rmse.linear ?? 0) + 1e-12).length;
  return {
    area: 'impute',
    what: 'masked NAB series',
    where: 'all six (mean of ratios; art_flatline has none)',
    metric: 'RMSE auto / linear',
    value: Number(mean.toFixed(3)),
    target: '<= 0.8',
    ok: mean <= 0.8,
    note: `${meets} of ${scores.length} series at or under 0.8x linear`,
  };
}

function causalRow(c: CausalScore): Row {
  return {
    area: 'causal',
    what: 'simulator couplings',
    where: c.scenario,
    metric: 'F1 (leader, follower, lag)',
    value: Number(c.f1.toFixed(3)),
    target: '>= 0.9',
    ok: c.f1 >= 0.9,
    note: `precision ${c.precision.toFixed(3)} recall ${c.recall.toFixed(3)}: ${c.tp} of ${c.couplings} couplings, ${c.fp} extra${c.extra.length ? ` (${c.extra.slice(0, 3).join('; ')})` : ''}${c.missed.length ? `; missed ${c.missed.slice(0, 3).join('; ')}` : ''}; ${c.seconds.causal.toFixed(1)} s`,
  };
}

/** Anomaly rows from bench/quality/anomaly.ts (another module, maybe not there yet). */
async function anomalyRows(): Promise<{ rows: Row[]; raw: unknown }> {
  const file = path.join(here, 'anomaly.js');
  if (!existsSync(file)) return { rows: [{ area: 'anomaly', what: 'NAB score', where: '', metric: '', value: null, target: null, ok: null, note: 'bench/quality/anomaly.ts not present' }], raw: null };
  const mod = (await import(file)) as { anomalyBench?: () => Promise<Record<string, unknown>[]> };
  if (typeof mod.anomalyBench !== 'function') return { rows: [], raw: null };
  const raw = await mod.anomalyBench();
  const rows = raw.map((r): Row => {
    const row: Row = { area: 'anomaly' };
    for (const [k, v] of Object.entries(r)) row[k] = v === null || ['string', 'number', 'boolean'].includes(typeof v) ? (v as Cell) : JSON.stringify(v);
    return row;
  });
  return { rows, raw };
}

function printTable(rows: Row[]): void {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cell = (v: Cell | undefined): string => (v === null || v === undefined ? '' : typeof v === 'boolean' ? (v ? 'yes' : 'NO') : String(v));
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (c === 'note' ? 0 : cell(r[c]).length))));
  const line = (cells: string[]): string => cells.map((c, i) => (cols[i] === 'note' ? c : c.padEnd(width[i]))).join('  ').trimEnd();
  process.stdout.write(`${line(cols)}\n${line(width.map((w, i) => '-'.repeat(cols[i] === 'note' ? 4 : w)))}\n`);
  for (const r of rows) process.stdout.write(`${line(cols.map((c) => cell(r[c])))}\n`);
}

async function main(): Promise<void> {
  const o = args();
  const started = performance.now();
  const work = mkdtempSync(path.join(os.tmpdir(), 'quality-bench-'));
  try {
    const rows: Row[] = [];
    const anomaly = await anomalyRows();
    rows.push(...anomaly.rows);

    process.stderr.write('imputation on masked NAB series...\n');
    const nab = imputeBench(o.shared);
    rows.push(...nab.map((s) => imputeRow(s, 'masked NAB series')), pooledRow(nab));

    const causal: CausalScore[] = [];
    let assets: ImputeScore | null = null;
    for (const [i, s] of (o.quick ? SCENARIOS.slice(0, 1) : SCENARIOS).entries()) {
      process.stderr.write(`simulating and backfilling ${s.name}...\n`);
      const sim = await simulatedLake(work, s);
      if (i === 0) {
        const series = await assetSeries(sim, 3);
        const sensors = await loadSensors(sim.lake);
        const intervals = new Map(series.flat().map((x) => [x.sensorId, expectedIntervalUs(x.ts, sensors.get(x.sensorId)?.interval_s).intervalUs]));
        assets = scoreAssets(`3 assets of: ${s.name} (ridge learns from neighbours)`, series, intervals, 5);
      }
      process.stderr.write('lead-lag per asset...\n');
      causal.push(await scoreCausal(s, sim));
    }
    if (assets) rows.push(imputeRow(assets, 'masked simulated sensors'));
    rows.push(...causal.map(causalRow));
    const tp = causal.reduce((a, c) => a + c.tp, 0);
    const found = causal.reduce((a, c) => a + c.found, 0);
    const truth = causal.reduce((a, c) => a + c.couplings, 0);
    const p = found ? tp / found : 0;
    const r = truth ? tp / truth : 0;
    const f1 = p + r > 0 ? (2 * p * r) / (p + r) : 0;
    rows.push({ area: 'causal', what: 'simulator couplings', where: 'all scenarios', metric: 'F1 (leader, follower, lag)', value: Number(f1.toFixed(3)), target: '>= 0.9', ok: f1 >= 0.9, note: `precision ${p.toFixed(3)} recall ${r.toFixed(3)}: ${tp} of ${truth}, ${found - tp} extra` });

    printTable(rows);
    process.stdout.write(
      `${JSON.stringify({ bench: 'quality', seconds: Number(((performance.now() - started) / 1000).toFixed(1)), rows, impute: { nab, assets }, causal: { scenarios: causal, precision: p, recall: r, f1 }, anomaly: anomaly.raw })}\n`,
    );
  } finally {
    if (o.keep) process.stderr.write(`kept ${work}\n`);
    else rmSync(work, { recursive: true, force: true });
    await shutdownWorkers();
  }
}

await main();
