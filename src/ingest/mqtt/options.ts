// Options of the MQTT front end, their defaults, and the stable client id that keeps the broker session across restarts.

import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { PayloadFormat } from './decode.js';
import type { JsonPayloadOptions } from './json-payload.js';

export interface MqttIngestOptions {
  /** Broker URL: mqtt://host:1883, mqtts://host:8883, ws://... */
  url: string;
  /** Subscription filters, all at QoS 1. Default: the topic map's patterns, else spBv1.0/# for Sparkplug. */
  topics?: string[];
  /** Must be stable across restarts: the broker keeps the session (and unacknowledged messages) under it. */
  clientId: string;
  username?: string;
  password?: string;
  /** How payloads are read (default auto: Sparkplug B on spBv1.0/ topics, JSON elsewhere). */
  format?: PayloadFormat;
  /** `PATTERN=>TEMPLATE` rules naming the sensor of payloads without sensor_id (see topic-map.ts). */
  topicMap?: string[];
  /** JSON field paths, timestamp and quality rules, as for the JSON Lines source. */
  json?: JsonPayloadOptions;
  /** Where the Sparkplug births are kept across restarts (births.json); null keeps them in memory only. */
  stateDir?: string | null;
  /** How long the broker keeps the session while we are away (MQTT 5; default 7 days). */
  sessionExpirySeconds?: number;
  /** 5 (default) or 4 (MQTT 3.1.1, whose persistent sessions never expire). */
  protocolVersion?: 4 | 5;
  keepaliveSeconds?: number;
  /** Ask a Sparkplug edge node to rebirth (NCMD Node Control/Rebirth) when its DATA names an unknown alias. Default true. */
  rebirth?: boolean;
  /** Stats are logged at this interval (default 10 s; 0: never). */
  statsIntervalMs?: number;
  logger?: Logger;
}

export const DEFAULT_SESSION_EXPIRY_SECONDS = 7 * 24 * 3600;

/** sensorlake-<hash of this host and the lake's absolute path>: the same on every restart of the same ingest. */
export function defaultClientId(lake: string): string {
  const h = createHash('sha256').update(`${hostname()}\0${path.resolve(lake)}`).digest('hex');
  return `sensorlake-${h.slice(0, 12)}`;
}

/** Where a client's Sparkplug state lives by default: beside the ingest WAL, one directory per client id. */
export function defaultStateDir(lake: string, clientId: string): string {
  return path.join(lake, '_sensorlake', 'mqtt', clientId.replace(/[^A-Za-z0-9._-]/g, '_'));
}
