// Parsers for command-line flag values shared by the commands: a bad value is bad usage (exit 2) naming the flag.

import { InvalidArgumentError } from '../errors.js';

/** A whole-number flag (`--commit-rows 1000`), at least `min`; undefined when the flag was not given. */
export function wholeNumber(v: string | undefined, flag: string, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${flag} '${v}': expected a whole number >= ${min}`);
  return n;
}

/** For a repeatable flag: each occurrence appends its value. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
