// The API token file of `sensorlake serve`: named bearer tokens with scopes, stored as the SHA-256 of a random secret.
// `sensorlake token` edits it; the server's auth hook (auth.ts) checks bearer secrets against it.
//
// Why a plain SHA-256 and not a slow password hash (scrypt, argon2): the secret is 32 random bytes (256 bits), so no
// dictionary or brute-force attack on a leaked hash is feasible; slow hashes only buy time for low-entropy, human-chosen
// passwords. A fast hash also keeps per-request checks cheap. Leaking the file gives no usable secret.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, InvalidRecordError, NotFoundError } from '../../errors.js';
import { logger } from '../../log.js';

export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface TokenEntry {
  name: string;
  scopes: Scope[];
  /** Hex SHA-256 of the secret's UTF-8 bytes. */
  sha256: string;
  /** ISO time the token was created. */
  created: string;
}

interface TokenFile {
  version: 1;
  tokens: TokenEntry[];
}

/** Secrets look like `slk_<43 base64url chars>`: the prefix lets secret scanners and people recognise them. */
const SECRET_PREFIX = 'slk_';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Parses "ingest,read" into known scopes, each once. */
export function parseScopes(text: string): Scope[] {
  const out: Scope[] = [];
  for (const s of text.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    if (!(SCOPES as readonly string[]).includes(s)) throw new InvalidArgumentError(`unknown scope '${s}' (expected some of ${SCOPES.join(', ')})`);
    if (!out.includes(s as Scope)) out.push(s as Scope);
  }
  if (out.length === 0) throw new InvalidArgumentError(`no scopes given (expected some of ${SCOPES.join(', ')}, comma-separated)`);
  return out;
}

/** The entries of a token file; a file that does not exist holds none. */
export function readTokenFile(file: string): TokenEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new InvalidRecordError(`token file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const tokens = (parsed as Partial<TokenFile> | null)?.tokens;
  if (!Array.isArray(tokens)) throw new InvalidRecordError(`token file ${file} has no "tokens" list; it was not written by sensorlake token`);
  tokens.forEach((t: Partial<TokenEntry>, i) => {
    if (typeof t?.name !== 'string' || typeof t.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(t.sha256) || !Array.isArray(t.scopes)) {
      throw new InvalidRecordError(`token file ${file}: entry ${i} needs a name, scopes and a 64-hex-digit sha256`);
    }
  });
  return tokens as TokenEntry[];
}

/** Replaces the file in one rename, readable by its owner only: readers never see half a file. */
function writeTokenFile(file: string, tokens: TokenEntry[]): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const body: TokenFile = { version: 1, tokens };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Adds a token and returns its secret, which exists nowhere else afterwards. */
export function createToken(file: string, name: string, scopes: Scope[]): { secret: string; entry: TokenEntry } {
  if (!NAME_RE.test(name)) throw new InvalidArgumentError(`token name '${name}': use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  const tokens = readTokenFile(file);
  if (tokens.some((t) => t.name === name)) throw new InvalidArgumentError(`token file ${file} already has a token named '${name}'; revoke it first or pick another name`);
  const secret = SECRET_PREFIX + randomBytes(32).toString('base64url');
  const entry: TokenEntry = { name, scopes, sha256: hashSecret(secret), created: new Date().toISOString() };
  writeTokenFile(file, [...tokens, entry]);
  return { secret, entry };
}

/** Removes the token named `name`. */
export function revokeToken(file: string, name: string): TokenEntry {
  const tokens = readTokenFile(file);
  const entry = tokens.find((t) => t.name === name);
  if (!entry) throw new NotFoundError(`token file ${file} has no token named '${name}' (it has: ${tokens.map((t) => t.name).join(', ') || 'none'})`);
  writeTokenFile(file, tokens.filter((t) => t !== entry));
  return entry;
}

/**
 * The token file as the server sees it: re-read whenever the file changed (checked with one stat per lookup, so a
 * revoke takes effect on the very next request), hashes compared in constant time.
 */
export class TokenStore {
  private entries: { entry: TokenEntry; hash: Buffer }[] = [];
  private stamp = '';

  constructor(readonly file: string) {
    this.reload();
  }

  get size(): number {
    this.refresh();
    return this.entries.length;
  }

  /** The entry whose hash matches the secret, or null. Every entry is compared, so timing does not tell which. */
  lookup(secret: string): TokenEntry | null {
    this.refresh();
    const h = createHash('sha256').update(secret, 'utf8').digest();
    let found: TokenEntry | null = null;
    for (const e of this.entries) if (timingSafeEqual(h, e.hash) && found === null) found = e.entry;
    return found;
  }

  /** A file broken after start-up keeps the last good entries (neither opening nor closing the door) and is logged. */
  private refresh(): void {
    try {
      this.reload();
    } catch (e) {
      logger.error({ err: e, file: this.file }, 'token file unreadable; still using the tokens read before');
    }
  }

  private reload(): void {
    let stamp: string;
    try {
      const st = statSync(this.file);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      stamp = 'missing';
    }
    if (stamp === this.stamp) return;
    this.stamp = stamp; // a broken version is reported once, not on every request
    this.entries = readTokenFile(this.file).map((entry) => ({ entry, hash: Buffer.from(entry.sha256, 'hex') }));
  }
}
