// One MQTT message -> what to submit: picks the payload format (JSON or Sparkplug B, by --format or by topic), and
// names the sensor of payloads that do not through the topic map. Pure apart from the Sparkplug births it updates.

import type { SourceChunk } from '../../sources/batch.js';
import { JsonPayloadDecoder, type JsonPayloadOptions } from './json-payload.js';
import type { BirthStore } from './sparkplug-births.js';
import { looksSparkplug } from './sparkplug-topic.js';
import { SparkplugDecoder } from './sparkplug.js';
import type { TopicMap } from './topic-map.js';

export const PAYLOAD_FORMATS = ['auto', 'json', 'sparkplug'] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];

export interface DecodedMessage {
  format: 'json' | 'sparkplug';
  /** Sparkplug message type ('NBIRTH', 'STATE', ...) or 'json'. */
  type: string;
  chunks: SourceChunk[];
  historical: number;
  transient: number;
  /** A Sparkplug edge node to ask for a rebirth (a DATA named an alias no BIRTH defined). */
  rebirth: { group: string; edge: string } | null;
}

export interface DecoderOptions {
  format: PayloadFormat;
  topicMap: TopicMap;
  json?: JsonPayloadOptions;
  births: BirthStore;
}

export class MessageDecoder {
  private readonly json: JsonPayloadDecoder;
  private readonly sparkplug: SparkplugDecoder;

  constructor(private readonly opts: DecoderOptions) {
    this.json = new JsonPayloadDecoder(opts.json);
    this.sparkplug = new SparkplugDecoder(opts.births, { quality: opts.json?.quality });
  }

  /** The name a message goes by in rejects and the quarantine table's source_file. */
  static sourceName(topic: string): string {
    return `mqtt:${topic}`;
  }

  async decode(topic: string, payload: Uint8Array, arrivalMs: number): Promise<DecodedMessage> {
    const name = MessageDecoder.sourceName(topic);
    const sparkplug = this.opts.format === 'sparkplug' || (this.opts.format === 'auto' && looksSparkplug(topic));
    if (sparkplug) return { format: 'sparkplug', ...this.sparkplug.decode(topic, name, payload, arrivalMs) };
    const chunks = await this.json.decode({ name, payload, sensorId: this.opts.topicMap.sensorId(topic), arrivalMs });
    return { format: 'json', type: 'json', chunks, historical: 0, transient: 0, rebirth: null };
  }
}
