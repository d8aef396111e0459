// Options to settings: defaults filled in and every value checked before any detector runs, so a bad option fails
// as a usage error naming the option, not as NaN scores.

import { InvalidArgumentError } from '../../errors.js';
import { ANOMALY_DETECTORS, DEFAULT_SETTINGS, type AnomalyOptions, type Settings } from './types.js';

const POSITIVE = [
  'window',
  'warmup',
  'zThreshold',
  'spikeThreshold',
  'rateThreshold',
  'flatlineReadings',
  'shiftReadings',
  'shiftThreshold',
  'mvThreshold',
  'cycles',
  'minCycles',
  'rare',
] as const;
const FRACTIONS = ['minScore', 'explains', 'scaleQuantile', 'shiftRare'] as const;

export function settle(opts: AnomalyOptions = {}): Settings {
  const s: Settings = { ...DEFAULT_SETTINGS };
  for (const [k, v] of Object.entries(opts)) {
    if (v === undefined) continue;
    if (!(k in DEFAULT_SETTINGS)) throw new InvalidArgumentError(`anomaly option '${k}' is unknown: expected one of ${Object.keys(DEFAULT_SETTINGS).join(', ')}`);
    (s as unknown as Record<string, unknown>)[k] = v;
  }
  if (!Array.isArray(s.detectors)) throw new InvalidArgumentError('anomaly option detectors: expected a list of detector names');
  for (const d of s.detectors) {
    if (!ANOMALY_DETECTORS.includes(d)) throw new InvalidArgumentError(`anomaly detector '${d}': expected one of ${ANOMALY_DETECTORS.join(', ')}`);
  }
  for (const k of POSITIVE) {
    if (typeof s[k] !== 'number' || !(s[k] > 0)) throw new InvalidArgumentError(`anomaly option ${k} ${String(s[k])}: expected a positive number`);
  }
  for (const k of FRACTIONS) {
    if (typeof s[k] !== 'number' || !(s[k] >= 0 && s[k] <= 1)) throw new InvalidArgumentError(`anomaly option ${k} ${String(s[k])}: expected a number in [0, 1]`);
  }
  for (const k of ['mergeGap', 'escalation'] as const) {
    if (typeof s[k] !== 'number' || !(s[k] >= 0)) throw new InvalidArgumentError(`anomaly option ${k} ${String(s[k])}: expected 0 or more`);
  }
  if (!Number.isInteger(s.window) || s.window < 2) throw new InvalidArgumentError(`anomaly option window ${s.window}: expected a whole number of readings, at least 2`);
  return s;
}
