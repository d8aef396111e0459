// Messages in flight between the broker and the WAL, in arrival order: each is decoded and submitted in turn (so
// Sparkplug BIRTHs are read before the DATA that follows, and WAL entries mostly keep arrival order), many await
// their fsync at once (one group commit covers them), and PUBACKs go out in arrival order, each only once its
// records are durable. A full buffer holds the PUBACKs back and the submit is retried; nothing is acknowledged that
// is not in the WAL.

import type { IPublishPacket } from 'mqtt';
import type { Ingest, IngestAck, IngestRequest } from '../contract.js';
import { BufferFullError, ShuttingDownError } from '../../errors.js';

/** What one message became: the request to submit (null: nothing to store) and counts for the stats. */
export interface Prepared {
  req: IngestRequest | null;
  historical: number;
  transient: number;
}

/** How a message ended: acknowledged (with the core's answer, null when there was nothing to store) or left unacked. */
export type Outcome = { acked: true; ack: IngestAck | null; prepared: Prepared } | { acked: false; prepared: Prepared | null };

export interface PipelineDeps {
  ingest: Ingest;
  prepare(packet: IPublishPacket, arrivalMs: number): Promise<Prepared>;
  /** Sends the PUBACK if `generation` is still the live connection; false when it is not (the broker redelivers). */
  puback(packet: IPublishPacket, generation: number): boolean;
  generation(): number;
  closing(): boolean;
  /** A failure that is not the message's (the WAL, the disk): the front end stops. */
  fail(e: Error): void;
  done(o: Outcome): void;
  onBufferFull(retryAfterMs: number, first: boolean): void;
  /** Cut short by close(). */
  sleep(ms: number): Promise<void>;
}

const MAX_RETRY_WAIT_MS = 5_000;

export class AckPipeline {
  private submitted: Promise<unknown> = Promise.resolve();
  private acking: Promise<unknown> = Promise.resolve();
  private inFlight = 0;
  /** Packet-pump callbacks held back while too many messages wait for their PUBACK. */
  private held: (() => void)[] = [];

  constructor(
    private readonly deps: PipelineDeps,
    private readonly maxInFlight: number,
  ) {}

  get size(): number {
    return this.inFlight;
  }

  /** Takes one message; `next` lets the client read the next packet (called now, or once there is room). */
  push(packet: IPublishPacket, generation: number, next: () => void): void {
    const arrivalMs = Date.now();
    this.inFlight++;
    // Stage 1, one message at a time: decode, then submit; the submit appends to the WAL at once, its fsync is awaited
    // in stage 2 (so the next message is decoded and submitted meanwhile).
    const staged = this.submitted.then(async () => {
      const prepared = await this.deps.prepare(packet, arrivalMs);
      const durable = prepared.req && !this.deps.closing() ? settle(this.deps.ingest.submit(prepared.req)) : null;
      return { prepared, durable };
    });
    this.submitted = staged.catch(() => undefined);
    // Stage 2, in arrival order: wait until durable, then acknowledge.
    this.acking = this.acking
      .then(() => staged)
      .then(async ({ prepared, durable }) => {
        const ack = prepared.req === null ? null : await this.durable(prepared.req, durable, generation);
        const stored = prepared.req === null || ack !== null;
        if (stored && this.deps.puback(packet, generation)) this.deps.done({ acked: true, ack, prepared });
        else this.deps.done({ acked: false, prepared });
      })
      .catch((e: unknown) => {
        this.deps.done({ acked: false, prepared: null });
        this.deps.fail(e instanceof Error ? e : new Error(String(e)));
      })
      .finally(() => {
        this.inFlight--;
        this.held.shift()?.();
      });
    if (this.inFlight <= this.maxInFlight) next();
    else this.held.push(next);
  }

  /** Waits for every message taken so far to be acknowledged or given up. */
  async drain(): Promise<void> {
    await this.acking;
  }

  /** The packet pump of a closed connection is gone: its held callbacks must not run. */
  dropHeld(): void {
    this.held = [];
  }

  /**
   * The core's ack for a submitted request, submitting it again while the buffer is full (PUBACK held meanwhile).
   * null: not stored, because we are closing or the connection that delivered it is gone (the broker redelivers).
   */
  private async durable(req: IngestRequest, first: Settled<IngestAck> | null, generation: number): Promise<IngestAck | null> {
    let attempt = first;
    for (let waits = 0; ; waits++) {
      if (attempt === null) {
        if (this.deps.closing() || generation !== this.deps.generation()) return null;
        attempt = settle(this.deps.ingest.submit(req));
      }
      const r = await attempt;
      if (r.ok) return r.value;
      if (r.error instanceof ShuttingDownError) return null;
      if (!(r.error instanceof BufferFullError)) throw r.error;
      this.deps.onBufferFull(r.error.retryAfterMs, waits === 0);
      await this.deps.sleep(Math.min(Math.max(r.error.retryAfterMs, 10), MAX_RETRY_WAIT_MS));
      attempt = null;
    }
  }
}

type Settled<T> = Promise<{ ok: true; value: T } | { ok: false; error: unknown }>;

/** A promise that never rejects, so a submit can wait in the queue without an unhandled rejection. */
function settle<T>(p: Promise<T>): Settled<T> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}
