// The incident brief as lines for a person: the reading against normal, then anomalies, gaps, and the sensors that
// lead, follow or move with it.

import type { Brief, BriefLink } from './brief.js';

function num(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  return Number(x.toPrecision(digits + 1)).toLocaleString('en', { maximumFractionDigits: 6 });
}

function z(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
}

function link(l: BriefLink): string {
  const when = l.lagS > 0 ? `leads by ${l.lagS} s` : l.lagS < 0 ? `follows by ${-l.lagS} s` : 'moves together';
  const extra = l.partialR2 !== null ? `, explains ${(100 * l.partialR2).toFixed(0)}% beyond the rest (p ${l.pValue !== null ? l.pValue.toExponential(1) : 'n/a'})` : '';
  return `${l.sensorId}: ${when}, r ${l.correlation.toFixed(2)}${extra}`;
}

export function formatBrief(b: Brief): string[] {
  const out: string[] = [];
  const s = b.sensor;
  const unit = s.unit ? ` ${s.unit}` : '';
  out.push(`Incident brief: ${s.id} at ${b.at}`);
  if (s.description) out.push(`  ${s.description}`);
  out.push(`  asset ${s.asset ?? 'unknown'}, every ${num(s.intervalS)} s, valid range ${num(s.validMin)} to ${num(s.validMax)}${unit}`);
  out.push('');
  const r = b.reading;
  out.push(r ? `Reading: ${r.value === null ? 'no numeric value' : `${num(r.value, 6)}${unit}`} at ${r.ts}${r.offsetS !== 0 ? ` (${r.offsetS > 0 ? '+' : ''}${r.offsetS} s)` : ''}${r.quality !== 0 ? `, quality 0x${r.quality.toString(16)}` : ''}` : 'Reading: none near this time');
  const st = b.stats;
  if (st) {
    out.push(`Against the ${st.readings.toLocaleString('en')} readings from ${st.from} to ${st.to}:`);
    out.push(`  percentile ${num(st.percentile, 2)}; median ${num(st.median)}${unit}, 5-95% ${num(st.p5)} to ${num(st.p95)}; robust z ${z(st.robustZ)}`);
    const h = st.hourOfDay;
    if (h) out.push(`  same hour of day (${String(h.hour).padStart(2, '0')}:00 UTC, ${h.days} day${h.days === 1 ? '' : 's'}): mean ${num(h.mean)} ± ${num(h.std)}, z ${z(h.z)}`);
    const l = st.lastHour;
    if (l) out.push(`  last hour: mean ${num(l.mean)} ± ${num(l.std)}, range ${num(l.min)} to ${num(l.max)} (${l.readings} readings)`);
  } else out.push('No earlier numeric readings to compare with.');
  out.push('');
  out.push(`Anomalies from a day before to an hour after (${b.anomalySource === 'table' ? 'anomalies table' : 'detected now; `sensorlake quality run` stores them'}): ${b.anomalyCount}`);
  for (const a of b.anomalies.slice(0, 10)) out.push(`  ${a.tsStart} .. ${a.tsEnd}  ${a.sensorId ?? '(asset)'}  ${a.detector} ${a.score.toFixed(2)}: ${a.reason}`);
  if (b.anomalyCount > 10) out.push(`  ... and ${b.anomalyCount - 10} more`);
  out.push(`Gaps from a day before to an hour after: ${b.gaps.length}`);
  for (const g of b.gaps.slice(0, 10)) out.push(`  ${g.start} .. ${g.end}: ${g.missing} missing`);
  out.push('');
  if (b.causalWindow) {
    out.push(`Related sensors of ${s.asset ?? 'the asset'} (differenced series, ${b.causalWindow.from} to ${b.causalWindow.to}):`);
    out.push(b.leaders.length ? '  leading it:' : '  leading it: none found');
    for (const l of b.leaders) out.push(`    ${link(l)}`);
    out.push(b.followers.length ? '  following it:' : '  following it: none found');
    for (const l of b.followers) out.push(`    ${link(l)}`);
    if (b.correlated.length) out.push('  most correlated:');
    for (const l of b.correlated) out.push(`    ${link(l)}`);
  } else out.push('No other numeric sensors on the asset to relate it to.');
  return out;
}
