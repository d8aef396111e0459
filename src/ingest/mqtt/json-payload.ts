// JSON MQTT payloads -> SourceChunks through the JSON Lines source (src/sources/jsonl.ts), so live readings obey the
// same field paths, timestamp, value and quality rules as a backfill. This file only reshapes the payload: one object,
// an array of objects, NDJSON, or a bare value, with sensor_id from the topic and ts from arrival when they are absent.

import type { SourceChunk, TimeOptions } from '../../sources/batch.js';
import { bufferInput } from '../../sources/inputs.js';
import { pathGetter, readJsonl } from '../../sources/jsonl.js';
import { DEFAULT_FIELDS, type FieldMap, type QualityOptions } from '../../sources/options.js';
import { decodeUtf8, wholePayloadReject } from './undecodable.js';

export interface JsonPayloadOptions {
  /** Dotted paths of the fields in each object (default ts, sensor_id, value, value_text, quality). */
  fields?: FieldMap;
  time?: TimeOptions;
  quality?: QualityOptions;
}

export interface JsonMessage {
  /** Names the payload in rejects and the quarantine table: `mqtt:<topic>`. */
  name: string;
  payload: Uint8Array;
  /** sensor_id for records without one (the topic map's answer for this topic). */
  sensorId: string;
  /** When the message reached us: the ts of records without one. */
  arrivalMs: number;
}

/**
 * Decodes one payload. Records without a sensor_id take `msg.sensorId`; records without a ts take the arrival time
 * (so a redelivered copy of such a message gets a later ts: only payloads that carry ts are exactly once across a
 * crash). A payload that is not UTF-8, is empty, or is not JSON at all is one malformed_record reject.
 */
export class JsonPayloadDecoder {
  private readonly fields: FieldMap;
  private readonly getTs: (o: Record<string, unknown>) => unknown;
  private readonly getSensor: (o: Record<string, unknown>) => unknown;

  constructor(private readonly opts: JsonPayloadOptions = {}) {
    this.fields = { ...DEFAULT_FIELDS, ...opts.fields };
    this.getTs = pathGetter(String(this.fields.ts));
    this.getSensor = pathGetter(String(this.fields.sensor_id));
  }

  async decode(msg: JsonMessage): Promise<SourceChunk[]> {
    const text = decodeUtf8(msg.payload);
    if (text === null) return [wholePayloadReject(msg.name, msg.payload, `payload of ${msg.payload.byteLength} bytes is not UTF-8 text, so not JSON (kept in base64)`)];
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    const trimmed = body.trim();
    if (trimmed === '') return [wholePayloadReject(msg.name, msg.payload, 'empty payload: expected a JSON object, an array of objects, NDJSON or a bare value')];
    const lines = this.lines(trimmed, msg);
    if (typeof lines === 'string') return [wholePayloadReject(msg.name, msg.payload, lines)];
    const input = bufferInput(msg.name, Buffer.from(lines.join('\n'), 'utf8'));
    const chunks: SourceChunk[] = [];
    // Chunk capacity sized to the payload: the reader allocates its column buffers up front (64 Ki rows by default).
    const batchRows = Math.min(65_536, Math.max(8, lines.length));
    for await (const c of readJsonl(input, { fields: this.opts.fields, time: this.opts.time, quality: this.opts.quality, batchRows })) chunks.push(c);
    return chunks;
  }

  /** The payload as JSON Lines with the missing fields filled in, or why it is not JSON at all. */
  private lines(text: string, msg: JsonMessage): string[] | string {
    const first = text.charCodeAt(0);
    if (first === 0x5b /* [ */) {
      const v = parse(text);
      if (!v.ok) return `not valid JSON: ${v.error}`;
      if (!Array.isArray(v.value)) return 'not valid JSON';
      // Non-objects are passed through as they are: the JSON Lines reader rejects each one with its own message.
      return v.value.map((item) => JSON.stringify(isObject(item) ? this.fill(item, msg) : item) ?? 'null');
    }
    if (first === 0x7b /* { */) {
      const v = parse(text);
      if (v.ok && isObject(v.value)) return [JSON.stringify(this.fill(v.value, msg))];
      // NDJSON: one object per line; a line that does not parse is left for the reader to reject with its line.
      return text.split('\n').map((line) => {
        const l = parse(line);
        return l.ok && isObject(l.value) ? JSON.stringify(this.fill(l.value, msg)) : line.replace(/\r$/, '');
      });
    }
    const v = parse(text);
    if (!v.ok) return `not a JSON object, array, NDJSON or bare JSON value: ${v.error}`;
    // A bare value (42.1, "OPEN", true): the topic names the sensor, arrival is the time.
    const value = String(this.fields.value);
    return [JSON.stringify(this.fill({ [value]: v.value }, msg))];
  }

  private fill(o: Record<string, unknown>, msg: JsonMessage): Record<string, unknown> {
    // Keys are set whole: the reader's dotted paths find a key that itself holds dots before walking.
    if (this.getSensor(o) === undefined) o[String(this.fields.sensor_id)] = msg.sensorId;
    if (this.getTs(o) === undefined) o[String(this.fields.ts)] = this.arrival(msg.arrivalMs);
    return o;
  }

  /** Arrival time in a form the configured timestamp rules accept. */
  private arrival(ms: number): string | number {
    const t = this.opts.time;
    if (t?.format !== 'epoch') return new Date(ms).toISOString();
    const unit = t.epochUnit ?? 'ms';
    return unit === 's' ? ms / 1000 : unit === 'ms' ? ms : unit === 'us' ? ms * 1000 : ms * 1_000_000;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function parse(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}
