// Idempotency keys of live ingest: a retried request with a key seen within the TTL gets the first ack back and
// writes nothing. A key is durable with its request (it is in the WAL entry, fsync'd before the ack); before WAL
// segments are deleted, the keys still alive are checkpointed to a small side file (written whole, fsync'd, renamed
// into place), so they outlive the segments that carried them. Restart = side file + keys of the segments left.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CorruptLogError } from '../errors.js';
import type { Reject } from '../sources/batch.js';
import type { IngestAck } from './contract.js';

export interface StoredAck {
  position: number;
  accepted: number;
  rejected: Reject[];
  /** When the first request was acknowledged (the TTL counts from here). */
  atMs: number;
}

const FILE = 'idempotency-keys.json';

interface Checkpoint {
  version: 1;
  keys: [key: string, position: number, accepted: number, atMs: number, rejected: Reject[]][];
}

export class IdempotencyStore {
  /** In insertion order, which is acknowledgement order: expiry prunes from the front. */
  private readonly acks = new Map<string, StoredAck>();
  private readonly inflight = new Map<string, Promise<IngestAck>>();

  private constructor(
    readonly file: string,
    private readonly ttlMs: number,
  ) {}

  static async load(dir: string, ttlMs: number, nowMs: number): Promise<IdempotencyStore> {
    const store = new IdempotencyStore(path.join(dir, FILE), ttlMs);
    let text: string;
    try {
      text = await fs.readFile(store.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw e;
    }
    let cp: Checkpoint;
    try {
      cp = JSON.parse(text) as Checkpoint;
    } catch (e) {
      throw new CorruptLogError(`${store.file}: not valid JSON (${(e as Error).message})`);
    }
    if (cp.version !== 1 || !Array.isArray(cp.keys)) throw new CorruptLogError(`${store.file}: unknown checkpoint format`);
    for (const [key, position, accepted, atMs, rejected] of cp.keys) store.remember(key, { position, accepted, rejected, atMs }, nowMs);
    return store;
  }

  get size(): number {
    return this.acks.size;
  }

  /** Records a key's first ack (from a live request or a WAL entry found at restart); expired ones are ignored. */
  remember(key: string, ack: StoredAck, nowMs: number): void {
    if (ack.atMs + this.ttlMs <= nowMs || this.acks.has(key)) return;
    this.acks.set(key, ack);
  }

  /** The first ack of `key`, unless it expired. */
  lookup(key: string, nowMs: number): StoredAck | undefined {
    const a = this.acks.get(key);
    if (a && a.atMs + this.ttlMs <= nowMs) {
      this.acks.delete(key);
      return undefined;
    }
    return a;
  }

  /** A request with `key` being written now: a concurrent retry waits for it instead of writing again. */
  inFlight(key: string): Promise<IngestAck> | undefined {
    return this.inflight.get(key);
  }

  track(key: string, ack: Promise<IngestAck>): void {
    this.inflight.set(key, ack);
    const done = (): void => {
      if (this.inflight.get(key) === ack) this.inflight.delete(key);
    };
    ack.then(done, done);
  }

  /** Drops expired keys from the front (keys are held in acknowledgement order). */
  prune(nowMs: number): void {
    for (const [key, a] of this.acks) {
      if (a.atMs + this.ttlMs > nowMs) break;
      this.acks.delete(key);
    }
  }

  /** Writes the live keys to the side file atomically (temp file, fsync, rename, fsync of the directory). */
  async checkpoint(nowMs: number, fsync = true): Promise<void> {
    this.prune(nowMs);
    const cp: Checkpoint = { version: 1, keys: [] };
    for (const [key, a] of this.acks) cp.keys.push([key, a.position, a.accepted, a.atMs, a.rejected]);
    const tmp = `${this.file}.tmp`;
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(cp));
      if (fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, this.file);
    if (fsync) {
      const dir = await fs.open(path.dirname(this.file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    }
  }
}
