// One sensor, one open incident: when several detectors see the same event (the z-score at the peak, the spike a
// reading later, the shift a few readings on), an online alerter should notify once and again only if the event
// grows. This keeps, per sensor, the alerts that open an incident or escalate it, across all detectors.

import type { Detection } from './types.js';

/** Index of the first reading at or after t (ts ascending). */
function indexAt(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Rewrites each detection's `alerts` to those an alerter watching all of them would send. An incident is open at
 * reading i while some detection flagged a reading within `mergeGap` readings before i (known at i: its interval
 * has started and not been quiet for longer than the gap); an alert inside an open incident is kept only when it
 * beats the incident's highest score so far by `escalation`.
 */
export function consolidateAlerts(ts: Float64Array, dets: Detection[], mergeGap: number, escalation: number): void {
  const spans = dets.map((d) => ({ from: indexAt(ts, d.tsDetected), to: indexAt(ts, d.tsEnd) + mergeGap + 1 }));
  const events: { det: number; at: number; ts: number; score: number }[] = [];
  dets.forEach((d, k) => {
    for (const a of d.alerts) events.push({ det: k, at: indexAt(ts, a.ts), ts: a.ts, score: a.score });
    d.alerts = [];
  });
  events.sort((x, y) => x.at - y.at || y.score - x.score || x.det - y.det);
  let level = 0;
  let openUntil = -1;
  let active: number[] = [];
  for (const e of events) {
    // Incidents: the union of detections whose spans cover this reading, all having started by now.
    active = active.filter((k) => spans[k].to > e.at);
    if (!active.includes(e.det)) active.push(e.det);
    const open = e.at < openUntil;
    if (!open) level = 0;
    if (!open || e.score >= level + escalation) dets[e.det].alerts.push({ ts: e.ts, score: e.score });
    level = Math.max(level, e.score);
    openUntil = Math.max(...active.map((k) => spans[k].to));
  }
}
