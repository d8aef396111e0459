// Parses Delta's interval-valued table properties ("interval 1 week", "interval 30 days", "168 hours").

import { InvalidArgumentError } from '../../errors.js';

const UNIT_MS: Record<string, number> = {
  millisecond: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

export function parseInterval(text: string, where: string): number {
  const m = /^\s*(?:interval\s+)?(\d+(?:\.\d+)?)\s*(millisecond|second|minute|hour|day|week)s?\s*$/i.exec(text);
  if (!m) throw new InvalidArgumentError(`${where}: '${text}' is not an interval like 'interval 7 days'`);
  return Number(m[1]) * UNIT_MS[m[2].toLowerCase()];
}

export function retentionMs(config: Record<string, string>, key: string, fallbackMs: number): number {
  const v = config[key];
  return v === undefined ? fallbackMs : parseInterval(v, key);
}
