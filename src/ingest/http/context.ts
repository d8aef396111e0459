// What the route modules share: the lake, the durable core once its WAL recovery is done, Avro schemas and metrics.

import type { Ingest } from '../contract.js';
import type { AvroSchemas } from './avro-schemas.js';
import type { DecodePool } from './decode-pool.js';
import { notReady } from './http-errors.js';
import type { ServerMetrics } from './metrics.js';

/** The core as the routes see it: absent while it recovers its WAL (writes get 503, /readyz says why). */
export class IngestGate {
  private ingest: Ingest | null = null;
  private failure: Error | null = null;

  constructor(ingest: Ingest | Promise<Ingest>, onReady: (ingest: Ingest) => void) {
    Promise.resolve(ingest).then(
      (i) => {
        this.ingest = i;
        onReady(i);
      },
      (e: Error) => (this.failure = e),
    );
  }

  get ready(): boolean {
    return this.ingest !== null;
  }

  /** Why it is not ready, or null. */
  get reason(): string | null {
    if (this.ingest) return null;
    return this.failure ? `the ingest core failed to open: ${this.failure.message}` : 'recovering the write-ahead log';
  }

  /** The core, or a 503 while it is not there. */
  get(): Ingest {
    if (this.ingest) return this.ingest;
    throw notReady(this.reason!);
  }
}

export interface RouteContext {
  lake: string;
  gate: IngestGate;
  schemas: AvroSchemas;
  metrics: ServerMetrics;
  /** Largest body in bytes, also once decompressed. */
  bodyLimit: number;
  decoder: DecodePool;
}
