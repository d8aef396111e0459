// The MQTT front end's counters, logged periodically and printed in the CLI summary.

import type { Logger } from 'pino';
import type { Outcome } from './ack-pipeline.js';

export interface MqttIngestStats {
  /** Messages received (a redelivered message counts again). */
  messages: number;
  /** Messages done with: stored (or nothing to store) and, for QoS 1, acknowledged to the broker. */
  acked: number;
  /** Readings accepted by the core. */
  readings: number;
  /** Records sent to quarantine (undecodable payloads, bad records, unknown Sparkplug aliases). */
  quarantined: number;
  /** Sparkplug readings flagged is_historical (edge store-and-forward backfill), included in `readings`. */
  historical: number;
  /** Sparkplug metrics flagged is_transient: not stored, as the specification asks. */
  transient: number;
  /** Messages with nothing to store (Sparkplug STATE, DEATH, commands). */
  ignored: number;
  /** Times a submit met a full buffer and the PUBACK was held back while we waited. */
  bufferFullWaits: number;
  /** Messages left unacknowledged because the connection dropped or we shut down: the broker redelivers them. */
  unacked: number;
  rebirthRequests: number;
  connects: number;
}

export function emptyStats(): MqttIngestStats {
  return { messages: 0, acked: 0, readings: 0, quarantined: 0, historical: 0, transient: 0, ignored: 0, bufferFullWaits: 0, unacked: 0, rebirthRequests: 0, connects: 0 };
}

/** Counts how one message ended; logs its quarantined records. */
export function countOutcome(stats: MqttIngestStats, o: Outcome, log: Logger): void {
  if (!o.acked) {
    stats.unacked++;
    return;
  }
  stats.acked++;
  const { ack, prepared } = o;
  stats.historical += prepared.historical;
  stats.transient += prepared.transient;
  if (!ack) {
    stats.ignored++;
    return;
  }
  stats.readings += ack.accepted;
  stats.quarantined += ack.rejected.length;
  if (ack.rejected.length) {
    const r = ack.rejected[0];
    log.warn({ source: prepared.req?.source, quarantined: ack.rejected.length, reason: r.reason, message: r.message }, 'records quarantined');
  }
}
