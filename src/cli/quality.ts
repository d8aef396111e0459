// `sensorlake quality run|explain|causal`: data quality on a lake (gaps, gap fills, anomalies, lead-lag pairs, an
// incident brief). Thin: parses flags, calls src/quality, prints. Exit codes: 0 ok, 1 failed (also when the LLM
// endpoint fails after the brief was printed), 2 bad usage.

import { Command, Option } from 'commander';
import { runQuality, type QualityRunReport } from '../quality/run.js';
import { buildBrief } from '../quality/brief.js';
import { formatBrief } from '../quality/brief-text.js';
import { askLlm, llmConfigFromEnv, type LlmAnswer } from '../quality/llm.js';
import { assetCausal } from '../quality/causal-lake.js';
import { parseDurationS } from '../quality/duration.js';
import { DETECTORS } from '../quality/detect.js';
import { IMPUTE_METHODS, type GapLimit, type ImputeMethod } from '../quality/impute.js';
import { parseTimeBound } from '../backfill/plan.js';
import { InvalidArgumentError } from '../errors.js';
import { out, printTable } from './output.js';
import { EXIT, finishWith } from './exit.js';

const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);

/** --max-gap linear=60,seasonal-daily=6h: a number is missing readings, a duration is time. */
export function parseMaxGap(text: string): Partial<Record<ImputeMethod, GapLimit>> {
  const out: Partial<Record<ImputeMethod, GapLimit>> = {};
  for (const part of list(text)) {
    const [name, value] = part.split('=').map((s) => s.trim());
    if (!IMPUTE_METHODS.includes(name as ImputeMethod) || value === undefined) {
      throw new InvalidArgumentError(`--max-gap '${part}': expected METHOD=LIMIT with METHOD one of ${IMPUTE_METHODS.join(', ')}`);
    }
    out[name as ImputeMethod] = /^\d+$/.test(value) ? Number(value) : { seconds: parseDurationS(value, `--max-gap ${name}`) };
  }
  return out;
}

function runLines(r: QualityRunReport): string[] {
  if (r.mode === 'up-to-date') return [`quality run: nothing new in ${r.lake}/readings since version ${r.previousVersion}; up to date`];
  const fmt = (n: number): string => n.toLocaleString('en');
  const methods = Object.entries(r.methods).sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m} ${n}`).join(', ');
  const lines = [
    r.mode === 'full'
      ? `quality run (full) of ${r.lake} at readings version ${r.readingsVersion}: ${fmt(r.newRows)} readings of ${r.sensors} sensors on ${r.assets} assets`
      : `quality run (incremental, readings ${r.previousVersion} -> ${r.readingsVersion}) of ${r.lake}: ${fmt(r.newRows)} new readings ${r.from} .. ${r.to}, ${r.sensors} sensors on ${r.assets} assets, ${fmt(r.contextRows)} read with context`,
    `  gaps       ${fmt(r.gaps)}: ${fmt(r.filledGaps)} filled (${fmt(r.filledRows)} readings${methods ? `; ${methods}` : ''}), ${fmt(r.unfilledGaps)} left unfilled`,
    `  anomalies  ${fmt(r.anomalies)}`,
    `  lead/lag   ${fmt(r.causalPairs)} pairs`,
    `  tables     ${Object.entries(r.versions).map(([t, v]) => `${t} v${v ?? '-'}`).join(', ')}`,
    `  ${r.seconds.toFixed(1)} s`,
  ];
  return lines;
}

function runCommand(): Command {
  return new Command('run')
    .description('find gaps, fill them (readings_imputed), detect anomalies and lead-lag pairs; the first run reads the whole lake, later runs only what was committed since')
    .requiredOption('--lake <dir>', 'lake directory (reads readings and sensors; writes gaps, anomalies, readings_imputed, causal_pairs)')
    .option('--detectors <list>', `comma-separated anomaly detectors (default all: ${DETECTORS.join(', ')})`, list)
    .addOption(new Option('--method <method>', 'imputation method; auto picks per gap length from a self-masked copy of each series').choices(['auto', ...IMPUTE_METHODS]).default('auto'))
    .option('--max-gap <limits>', 'longest gap each method fills, e.g. linear=60,seasonal-daily=6h (a number counts missing readings)')
    .option('--lookback <duration>', 'context read before new data on an incremental run', '1d')
    .option('--causal-window <duration>', 'newest span of each asset the lead-lag test reads', '1d')
    .option('--no-causal', 'skip the lead-lag test')
    .option('--full', 'recompute everything, not just what is new')
    .option('--json', 'machine-readable report')
    .action(async (o: { lake: string; detectors?: string[]; method: ImputeMethod | 'auto'; maxGap?: string; lookback: string; causalWindow: string; causal: boolean; full?: boolean; json?: boolean }) => {
      const r = await runQuality(o.lake, {
        detectors: o.detectors,
        impute: { method: o.method, maxGap: o.maxGap === undefined ? undefined : parseMaxGap(o.maxGap) },
        lookbackS: parseDurationS(o.lookback, '--lookback'),
        causalWindowUs: parseDurationS(o.causalWindow, '--causal-window') * 1e6,
        noCausal: !o.causal,
        full: o.full === true,
      });
      if (o.json) return out(JSON.stringify(r));
      for (const line of runLines(r)) out(line);
    });
}

function explainCommand(): Command {
  return new Command('explain')
    .description('incident brief of one sensor at a moment: reading vs normal, recent anomalies and gaps, leading and following sensors; with SENSORLAKE_LLM_URL and SENSORLAKE_LLM_MODEL set, also an LLM\'s reading of it')
    .requiredOption('--lake <dir>', 'lake directory')
    .requiredOption('--sensor <id>', 'sensor id')
    .requiredOption('--at <time>', 'the moment, ISO 8601 (UTC unless an offset is given)')
    .option('--history <duration>', 'history that defines normal behaviour', '7d')
    .option('--no-llm', 'do not ask the LLM endpoint even when one is configured')
    .option('--json', 'machine-readable brief (and the LLM answer)')
    .action(async (o: { lake: string; sensor: string; at: string; history: string; llm: boolean; json?: boolean }) => {
      const cfg = o.llm ? llmConfigFromEnv() : null;
      const brief = await buildBrief(o.lake, { sensor: o.sensor, at: o.at, historyS: parseDurationS(o.history, '--history') });
      const text = formatBrief(brief);
      let answer: LlmAnswer | null = null;
      let failure: Error | null = null;
      if (cfg) {
        try {
          answer = await askLlm(cfg, brief, text);
        } catch (e) {
          failure = e instanceof Error ? e : new Error(String(e));
        }
      }
      if (o.json) {
        out(JSON.stringify({ brief, llm: answer ? { model: answer.model, answer: answer.answer } : failure ? { error: failure.message } : null }));
      } else {
        for (const line of text) out(line);
        if (answer) {
          out('');
          out(`LLM (${answer.model}):`);
          for (const line of answer.answer.split('\n')) out(`  ${line}`);
        }
      }
      if (failure) {
        process.stderr.write(`sensorlake: ${failure.name}: ${failure.message}\n`);
        finishWith(EXIT.failed);
      }
    });
}

function causalCommand(): Command {
  return new Command('causal')
    .description('ranked leader -> follower pairs of an asset\'s sensors: lag, strength, Granger F test')
    .requiredOption('--lake <dir>', 'lake directory')
    .requiredOption('--asset <path>', 'asset, as in the sensors table (e.g. plant1/line1/pump1)')
    .option('--from <time>', 'window start (default: one --window before --to)')
    .option('--to <time>', 'window end (default: the newest reading)')
    .option('--window <duration>', 'window length when --from is not given', '1d')
    .option('--max-lag <duration>', 'longest lag searched', '5m')
    .option('--all', 'also list every pair\'s best lag, accepted or not')
    .option('--json', 'machine-readable output')
    .action(async (o: { lake: string; asset: string; from?: string; to?: string; window: string; maxLag: string; all?: boolean; json?: boolean }) => {
      const r = await assetCausal(o.lake, o.asset, {
        from: parseTimeBound(o.from, '--from'),
        to: parseTimeBound(o.to, '--to'),
        windowS: parseDurationS(o.window, '--window'),
        maxLagS: parseDurationS(o.maxLag, '--max-lag'),
      });
      if (o.json) return out(JSON.stringify(r));
      out(`lead-lag pairs of ${o.asset} (${r.sensors.length} numeric sensors, ${r.from} .. ${r.to}):`);
      if (r.pairs.length === 0) out('  none found');
      printTable(
        r.pairs.map((p, i) => ({
          rank: String(i + 1),
          leader: p.leader,
          follower: p.follower,
          'lag s': String(p.lagS),
          strength: p.strength.toFixed(3),
          r: p.correlation.toFixed(3),
          'partial R2': p.partialR2.toFixed(3),
          'p-value': p.pValue.toExponential(1),
          rows: String(p.n),
        })),
        '  ',
      );
      if (o.all) {
        out('every ordered pair at its best lag:');
        printTable(r.correlations.map((c) => ({ leader: c.leader, follower: c.follower, 'lag s': String(c.lagUs / 1e6), r: c.r.toFixed(3), 'r at 0': c.r0.toFixed(3), rows: String(c.n) })), '  ');
      }
    });
}

export function qualityCommand(): Command {
  const cmd = new Command('quality').description('data quality: gaps and imputation, anomalies, cause and lead, incident briefs');
  cmd.addCommand(runCommand());
  cmd.addCommand(explainCommand());
  cmd.addCommand(causalCommand());
  return cmd;
}
