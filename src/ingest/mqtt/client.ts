// The MQTT front end of live ingest: subscribes at QoS 1 in a persistent session, decodes each message, submits it to
// the durable core and sends its PUBACK only once Ingest.submit resolved (the records are fsync'd in the WAL). A crash
// before that leaves the message unacknowledged, and the broker redelivers it to the same client id.
//
// How the PUBACK waits (MQTT.js 5.16, lib/handlers/publish.js): for a QoS 1 PUBLISH the client calls
// `handleMessage(packet, callback)` and sends the PUBACK from that callback, unless the callback gets an error; the
// next packet is read only after the callback. We override handleMessage, call back at once with DEFERRED (so no
// PUBACK then, and the next message is read: many can wait for one fsync), and send the PUBACK ourselves, in arrival
// order, once the message is durable (ack-pipeline.ts). Sending uses the client's own packet writer, _sendPacket,
// which is private: connect() checks it is there; the durability test kills the process mid-stream to prove the whole.

import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { get as sparkplugCodec } from 'sparkplug-payload';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { Ingest } from '../contract.js';
import { BrokerError, InvalidArgumentError, SensorlakeError } from '../../errors.js';
import { logger as libraryLogger } from '../../log.js';
import { AckPipeline, type Prepared } from './ack-pipeline.js';
import { MessageDecoder } from './decode.js';
import { DEFAULT_SESSION_EXPIRY_SECONDS, type MqttIngestOptions } from './options.js';
import { BirthStore } from './sparkplug-births.js';
import { SPARKPLUG_NAMESPACE } from './sparkplug-topic.js';
import { countOutcome, emptyStats, type MqttIngestStats } from './stats.js';
import { TopicMap } from './topic-map.js';

export type { MqttIngestStats } from './stats.js';

const REBIRTH_INTERVAL_MS = 30_000;
/** Messages decoded and submitted but not yet acknowledged, at most (also the MQTT 5 Receive Maximum we announce). */
const MAX_IN_FLIGHT = 256;
/** Passed to handleMessage's callback: MQTT.js then sends no PUBACK, we send it once the message is durable. */
const DEFERRED = new Error('PUBACK deferred until the message is durable in the WAL');

export class MqttIngest {
  readonly stats: MqttIngestStats = emptyStats();
  /** Rejects when the front end fails for good (the core failed, the broker refused us); resolves after close(). */
  readonly finished: Promise<void>;
  private finish!: (e?: Error) => void;
  private client!: MqttClient;
  /** Bumped when a connection closes: a message of an older connection is never acknowledged on a newer one. */
  private generation = 0;
  private closing = false;
  private failed = false;
  private readonly pipeline: AckPipeline;
  private wake: (() => void) | null = null;
  private readonly lastRebirth = new Map<string, number>();
  private statsTimer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  private constructor(
    private readonly ingest: Ingest,
    private readonly opts: MqttIngestOptions,
    readonly topics: string[],
    private readonly decoder: MessageDecoder,
    private readonly births: BirthStore,
  ) {
    this.log = opts.logger ?? libraryLogger.child({ component: 'mqtt' });
    this.finished = new Promise<void>((resolve, reject) => {
      this.finish = (e) => (e ? reject(e) : resolve());
    });
    this.finished.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection here
    this.pipeline = new AckPipeline(
      {
        ingest,
        prepare: (packet, arrivalMs) => this.prepare(packet, arrivalMs),
        puback: (packet, generation) => this.puback(packet, generation),
        generation: () => this.generation,
        closing: () => this.closing,
        fail: (e) => this.fail(e),
        done: (o) => countOutcome(this.stats, o, this.log),
        onBufferFull: (retryAfterMs, first) => {
          this.stats.bufferFullWaits++;
          if (first) this.log.warn({ retryAfterMs, inFlight: this.pipeline.size }, 'ingest buffer full: holding PUBACKs and retrying');
        },
        sleep: (ms) => this.sleep(ms),
      },
      MAX_IN_FLIGHT,
    );
  }

  /** Connects, subscribes and starts ingesting; resolves once subscribed, rejects when the first connection fails. */
  static async start(ingest: Ingest, opts: MqttIngestOptions): Promise<MqttIngest> {
    const topicMap = new TopicMap(opts.topicMap ?? []);
    const format = opts.format ?? 'auto';
    const topics = subscriptionTopics(opts);
    const births = await BirthStore.open(opts.stateDir ? path.join(opts.stateDir, 'sparkplug-births.json') : null);
    const decoder = new MessageDecoder({ format, topicMap, json: opts.json, births });
    const m = new MqttIngest(ingest, opts, topics, decoder, births);
    await m.connect();
    return m;
  }

  private async connect(): Promise<void> {
    const o = this.opts;
    const v5 = (o.protocolVersion ?? 5) === 5;
    const client = mqtt.connect(o.url, {
      clientId: o.clientId,
      clean: false,
      protocolVersion: v5 ? 5 : 4,
      username: o.username,
      password: o.password,
      keepalive: o.keepaliveSeconds ?? 30,
      reconnectPeriod: 1000,
      connectTimeout: 30_000,
      // MQTT 5 ends a session at disconnect unless given an expiry; 3.1.1 keeps it until a clean connect.
      properties: v5 ? { sessionExpiryInterval: o.sessionExpirySeconds ?? DEFAULT_SESSION_EXPIRY_SECONDS, receiveMaximum: MAX_IN_FLIGHT } : undefined,
    });
    // The connection opens now, its packets are read later: everything below is in place before the first one (a
    // resumed session delivers its queued messages right after CONNACK). No manualConnect: with it, MQTT.js 5.16
    // reconnects after end() when the socket closes late.
    if (typeof (client as unknown as Record<string, unknown>)['_sendPacket'] !== 'function') {
      client.end(true);
      throw new SensorlakeError('this MQTT.js has no _sendPacket: the deferred PUBACK of the MQTT front end needs MQTT.js 5.16 (see client.ts)');
    }
    this.client = client;
    client.handleMessage = (packet, callback) => this.onPublish(packet, callback);
    client.on('close', () => {
      this.generation++;
      this.pipeline.dropHeld();
    });
    client.on('offline', () => !this.closing && this.log.warn({ url: o.url }, 'disconnected from the broker; reconnecting'));

    await new Promise<void>((resolve, reject) => {
      let first = true;
      client.on('connect', (connack) => {
        this.stats.connects++;
        this.log.info({ url: o.url, clientId: o.clientId, sessionPresent: connack.sessionPresent }, 'connected');
        if (!first && !connack.sessionPresent) {
          this.log.warn({ clientId: o.clientId }, 'the broker had no session for this client id: messages published while we were away are lost');
        }
        if (!first) return;
        first = false;
        this.subscribe(v5).then(resolve, reject);
      });
      client.on('error', (e: Error & { code?: number | string }) => {
        // Refused credentials or client id will not get better by reconnecting.
        const fatal = typeof e.code === 'number' && [4, 5, 133, 134, 135, 138, 140].includes(e.code);
        if (first || fatal) {
          const err = new BrokerError(`MQTT broker ${o.url} (client id ${o.clientId}): ${e.message}`, { cause: e });
          if (first) reject(err);
          else this.fail(err);
          client.end(true);
          return;
        }
        this.log.warn({ url: o.url, err: e.message }, 'MQTT connection error; reconnecting');
      });
    });
    const every = o.statsIntervalMs ?? 10_000;
    if (every > 0) {
      this.statsTimer = setInterval(() => this.log.info({ ...this.stats }, 'mqtt stats'), every);
      this.statsTimer.unref();
    }
  }

  private async subscribe(v5: boolean): Promise<void> {
    // rh 1: retained messages only when the subscription is new, not again on every restart of a persistent session.
    // nl: not our own publishes (the Sparkplug rebirth requests).
    const opts = { qos: 1 as const, ...(v5 ? { rh: 1 as const, nl: true } : {}) };
    const granted = await this.client.subscribeAsync(Object.fromEntries(this.topics.map((topic) => [topic, opts])));
    const refused = granted.filter((g) => g.qos !== 0 && g.qos !== 1 && g.qos !== 2);
    if (refused.length) throw new BrokerError(`MQTT broker ${this.opts.url} refused the subscription to ${refused.map((g) => `'${g.topic}' (code ${g.qos})`).join(', ')}`);
    const below = granted.filter((g) => g.qos === 0);
    if (below.length) this.log.warn({ topics: below.map((g) => g.topic) }, 'the broker granted QoS 0 only: those messages are not redelivered after a crash');
    this.log.info({ topics: this.topics }, 'subscribed');
  }

  private onPublish(packet: IPublishPacket, callback: (e?: Error) => void): void {
    // Closing: the message is left unacknowledged and this connection reads no further packets.
    if (this.closing) return;
    this.stats.messages++;
    this.pipeline.push(packet, this.generation, () => callback(DEFERRED));
  }

  /** Decodes one message into the request to submit; Sparkplug BIRTHs are made durable here, before any PUBACK. */
  private async prepare(packet: IPublishPacket, arrivalMs: number): Promise<Prepared> {
    const topic = packet.topic;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const d = await this.decoder.decode(topic, payload, arrivalMs);
    await this.births.persist();
    if (d.rebirth) this.requestRebirth(d.rebirth.group, d.rebirth.edge);
    const records = d.chunks.reduce((n, c) => n + c.recordsRead, 0);
    const req = records === 0 ? null : { chunks: d.chunks, source: MessageDecoder.sourceName(topic) };
    return { req, historical: d.historical, transient: d.transient };
  }

  /**
   * The PUBACK of a durable message, on the connection that delivered it only: after a reconnect the broker resends
   * it with the same packet id, and a stale PUBACK could acknowledge a different message that reuses the id.
   */
  private puback(packet: IPublishPacket, generation: number): boolean {
    if (packet.qos === 0) return true;
    if (generation !== this.generation || !this.client.connected) return false;
    const send = (this.client as unknown as { _sendPacket(p: object, cb?: (e?: Error) => void): void })._sendPacket.bind(this.client);
    send({ cmd: 'puback', messageId: packet.messageId, reasonCode: 0 });
    return true;
  }

  /** A pause that close() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Sparkplug's way to recover names for aliases: NCMD Node Control/Rebirth, at most once per node per 30 s. */
  private requestRebirth(group: string, edge: string): void {
    if (this.opts.rebirth === false) return;
    const key = `${group}/${edge}`;
    const now = Date.now();
    if (now - (this.lastRebirth.get(key) ?? 0) < REBIRTH_INTERVAL_MS) return;
    this.lastRebirth.set(key, now);
    this.stats.rebirthRequests++;
    const payload = sparkplugCodec(SPARKPLUG_NAMESPACE)!.encodePayload({ timestamp: now, metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] });
    this.client.publish(`${SPARKPLUG_NAMESPACE}/${group}/NCMD/${edge}`, Buffer.from(payload), { qos: 0 }, (e) => {
      if (e) this.log.warn({ group, edge, err: e.message }, 'could not publish the rebirth request');
    });
    this.log.info({ group, edge }, 'asked a Sparkplug edge node to rebirth: a DATA message named an alias no BIRTH defined');
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.log.error({ err: e.message }, 'MQTT ingest failed');
    this.closing = true;
    this.stop();
    this.finish(e);
  }

  private stop(): void {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.wake?.();
  }

  /**
   * Stops taking messages: those already submitted are acknowledged once durable, one waiting on a full buffer is
   * left unacknowledged (redelivered next time), then the client disconnects; the session stays on the broker. Does
   * not close the Ingest, which the caller owns.
   */
  async close(): Promise<void> {
    const failed = this.failed;
    this.closing = true;
    this.stop();
    await this.pipeline.drain();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => this.client.end(true, {}, () => resolve()), 5_000);
      this.client.end(false, {}, () => {
        clearTimeout(force);
        resolve();
      });
    });
    if (!failed) this.finish();
  }
}

/** The filters to subscribe: the given topics, else the topic map's patterns, else spBv1.0/# for Sparkplug. */
export function subscriptionTopics(opts: Pick<MqttIngestOptions, 'topics' | 'topicMap' | 'format'>): string[] {
  if (opts.topics?.length) return opts.topics;
  const map = new TopicMap(opts.topicMap ?? []);
  if (map.rules.length) return map.filters();
  if (opts.format === 'sparkplug') return [`${SPARKPLUG_NAMESPACE}/#`];
  throw new InvalidArgumentError('no topic to subscribe to: give --topic (or --topic-map, whose patterns are then subscribed)');
}

/** Starts the MQTT front end on `ingest` (see MqttIngest). */
export function startMqttIngest(ingest: Ingest, opts: MqttIngestOptions): Promise<MqttIngest> {
  return MqttIngest.start(ingest, opts);
}
