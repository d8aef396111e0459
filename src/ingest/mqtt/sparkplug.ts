// Sparkplug B messages -> SourceChunks. Payloads are decoded with Eclipse Tahu's codec (sparkplug-payload); BIRTHs
// define metric names, aliases and datatypes (BirthStore), DATA metrics are resolved through them. sensor_id is
// <group>/<edge>[/<device>]/<metric name>; ts is the metric's timestamp, else the payload's, else arrival.

import { get as sparkplugCodec } from 'sparkplug-payload';
import type { TypeStr, UMetric, UPayload, UTemplate } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import proto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import { ReadingsBuilder, type SourceChunk } from '../../sources/batch.js';
import type { QualityOptions } from '../../sources/options.js';
import { BAD } from '../../sources/quality.js';
import type { Birth, BirthStore, MetricDef } from './sparkplug-births.js';
import { parseSparkplugTopic, SPARKPLUG_NAMESPACE, type SparkplugTopic } from './sparkplug-topic.js';
import { isScalarType, makeSparkplugQuality, rawScalarOf, scalarOf, toNumber, type RawMetric, type Scalar } from './sparkplug-values.js';
import { wholePayloadReject } from './undecodable.js';

const codec = sparkplugCodec(SPARKPLUG_NAMESPACE)!;
const RawPayload = proto.org.eclipse.tahu.protobuf.Payload;

export interface SparkplugResult {
  chunks: SourceChunk[];
  /** Readings from metrics flagged is_historical (backfill from the edge's store-and-forward). */
  historical: number;
  /** Metrics flagged is_transient, which Sparkplug says a host must not store: skipped. */
  transient: number;
  /** What the message was, for logs: 'NDATA', 'STATE', ... */
  type: string;
  /** Set when a DATA named an alias no BIRTH defined: the node to ask for a rebirth. */
  rebirth: { group: string; edge: string } | null;
}

/** Metrics of a node's BIRTH that are its control surface, not measurements. */
function isControlMetric(name: string): boolean {
  return name === 'bdSeq' || name.startsWith('Node Control/');
}

export class SparkplugDecoder {
  private readonly quality: (v: unknown) => number | null | undefined;

  constructor(
    private readonly births: BirthStore,
    opts: { quality?: QualityOptions } = {},
  ) {
    this.quality = makeSparkplugQuality(opts.quality);
  }

  /** Decodes one message and updates the births it carries (call births.persist() before acknowledging it). */
  decode(topic: string, name: string, bytes: Uint8Array, arrivalMs: number): SparkplugResult {
    const t = parseSparkplugTopic(topic);
    const none = (type: string, chunks: SourceChunk[] = []): SparkplugResult => ({ chunks, historical: 0, transient: 0, type, rebirth: null });
    if (typeof t === 'string') return none('invalid', [wholePayloadReject(name, bytes, `not a Sparkplug B message: ${t}`)]);
    if (t.kind === 'state') return none('STATE');
    // Commands travel from hosts to edge nodes: they are not readings.
    if (t.type === 'NCMD' || t.type === 'DCMD') return none(t.type);

    let payload: UPayload;
    try {
      payload = codec.decodePayload(bytes);
    } catch (e) {
      return none(t.type, [wholePayloadReject(name, bytes, `${t.type} payload is not a Sparkplug B protobuf: ${(e as Error).message}`)]);
    }
    const metrics = (payload.metrics ?? []) as UMetric[];
    if (t.type === 'NDEATH') {
      const bd = metrics.find((m) => m.name === 'bdSeq');
      this.births.nodeDeath(t.group, t.edge, bd ? String(toNumber(bd.value)) : null);
      return none(t.type);
    }
    if (t.type === 'DDEATH') {
      this.births.deviceDeath(t.group, t.edge, t.device!);
      return none(t.type);
    }
    return new MessageReader(this, t, topic, name, bytes, payload, metrics, arrivalMs).read();
  }

  /** @internal */ qualityOf(m: UMetric): number | null | undefined {
    return this.quality(m.properties?.Quality?.value);
  }

  /** @internal */ get store(): BirthStore {
    return this.births;
  }
}

/** The readings of one BIRTH or DATA message. */
class MessageReader {
  private readonly b: ReadingsBuilder;
  private readonly prefix: string;
  private readonly payloadTs: number;
  private raw: RawMetric[] | null = null;
  private historical = 0;
  private transient = 0;
  private rebirth = false;

  constructor(
    private readonly dec: SparkplugDecoder,
    private readonly t: Exclude<SparkplugTopic, { kind: 'state' }>,
    private readonly topic: string,
    name: string,
    private readonly bytes: Uint8Array,
    payload: UPayload,
    private readonly metrics: UMetric[],
    arrivalMs: number,
  ) {
    this.b = new ReadingsBuilder(name, 'record', Math.max(1, metrics.length * 4));
    this.prefix = t.device === null ? `${t.group}/${t.edge}/` : `${t.group}/${t.edge}/${t.device}/`;
    this.payloadTs = toNumber(payload.timestamp) ?? arrivalMs;
  }

  read(): SparkplugResult {
    const { t, metrics } = this;
    const isBirth = t.type === 'NBIRTH' || t.type === 'DBIRTH';
    const birth = isBirth ? this.recordBirth() : this.dec.store.birthOf(t.group, t.edge, t.device);
    for (let i = 0; i < metrics.length; i++) {
      const m = metrics[i];
      const def = this.resolve(m, birth, i);
      if (!def) continue;
      if (isBirth && t.device === null && isControlMetric(def.name)) continue;
      if (m.isTransient === true) {
        this.transient++;
        continue;
      }
      this.metric(m, def, this.prefix + def.name, i, this.payloadTs, m.isHistorical === true, () => this.rawOf(i));
    }
    return {
      chunks: [this.b.flush(this.bytes.byteLength)],
      historical: this.historical,
      transient: this.transient,
      type: t.type,
      rebirth: this.rebirth ? { group: t.group, edge: t.edge } : null,
    };
  }

  /** Names and datatypes of a BIRTH's metrics, stored for the DATA that follows. */
  private recordBirth(): Birth {
    const { t } = this;
    const birth: Birth = { bdSeq: null, aliases: {}, types: {} };
    for (const m of this.metrics) {
      if (typeof m.name !== 'string' || m.name === '' || !m.type) continue;
      birth.types[m.name] = m.type;
      if (m.alias !== undefined && m.alias !== null) birth.aliases[String(toNumber(m.alias))] = { name: m.name, type: m.type };
      if (m.name === 'bdSeq' && t.device === null) birth.bdSeq = String(toNumber(m.value));
    }
    if (t.device === null) this.dec.store.nodeBirth(t.group, t.edge, birth);
    else this.dec.store.deviceBirth(t.group, t.edge, t.device, birth);
    return birth;
  }

  /** A metric's name and datatype: its own, or its BIRTH's through the alias. Unresolvable -> a reject. */
  private resolve(m: UMetric, birth: Birth | undefined, i: number): MetricDef | null {
    const { t } = this;
    const alias = m.alias === undefined || m.alias === null ? null : String(toNumber(m.alias));
    let name = typeof m.name === 'string' && m.name !== '' ? m.name : null;
    const byAlias = alias === null ? undefined : birth?.aliases[alias];
    name ??= byAlias?.name ?? null;
    const where = `${t.group}/${t.edge}${t.device === null ? '' : `/${t.device}`}`;
    if (name === null) {
      if (alias !== null) {
        this.rebirth = true;
        const why = birth ? `the last ${t.device === null ? 'NBIRTH' : 'DBIRTH'} of ${where} does not define it` : `no ${t.device === null ? 'NBIRTH' : 'DBIRTH'} of ${where} has been seen`;
        this.b.reject(this.rawOf(i), 'missing_sensor_id', `${t.type} metric #${i} has alias ${alias} and no name, and ${why}`, i);
      } else {
        this.b.reject(this.rawOf(i), 'missing_sensor_id', `${t.type} metric #${i} of ${where} has neither a name nor an alias`, i);
      }
      return null;
    }
    const type = (m.type as TypeStr | undefined) ?? byAlias?.type ?? birth?.types[name];
    if (!type) {
      this.b.reject(this.rawOf(i), 'type_mismatch', `${t.type} metric '${name}' of ${where} has no datatype, and no BIRTH gave one`, i);
      return null;
    }
    return { name, type };
  }

  /** Appends one metric's reading (a Template instance: one per member, ids `<metric>/<member>`). */
  private metric(m: UMetric, def: MetricDef, sensorId: string, loc: number, parentTs: number, historical: boolean, raw: () => string): void {
    const tsMs = toNumber(m.timestamp) ?? parentTs;
    if (def.type === 'Template') {
      const tpl = m.value as UTemplate | null;
      // A definition (in an NBIRTH, under _types_/) describes a UDT; its instances carry the readings.
      if (!tpl || tpl.isDefinition === true) return;
      for (const member of (tpl.metrics ?? []) as UMetric[]) {
        if (typeof member.name !== 'string' || !member.type) continue;
        if (member.isTransient === true) {
          this.transient++;
          continue;
        }
        this.metric(member, { name: member.name, type: member.type }, `${sensorId}/${member.name}`, loc, tsMs, historical || member.isHistorical === true, raw);
      }
      return;
    }
    let v: Scalar = m.type ? scalarOf(def.type, m.value) : { kind: 'null' };
    // Null from the decoder may be is_null, a DATA metric sent without its datatype, or a UInt32 the decoder misreads.
    if (v.kind === 'null' && isScalarType(def.type) && this.rawMetric(loc, m)) v = rawScalarOf(def.type, this.rawMetric(loc, m)!);
    if (v.kind === 'unsupported') {
      this.b.reject(raw(), 'type_mismatch', `${this.t.type} metric '${def.name}' is a Sparkplug ${v.type}, not a number, boolean or text reading`, loc);
      return;
    }
    if (!Number.isFinite(tsMs)) {
      this.b.reject(raw(), 'bad_timestamp', `${this.t.type} metric '${def.name}' has timestamp ${tsMs}`, loc);
      return;
    }
    let q = this.dec.qualityOf(m);
    if (q === null) {
      this.b.reject(raw(), 'bad_quality', `${this.t.type} metric '${def.name}' has Quality property ${JSON.stringify(m.properties?.Quality?.value, jsonSafe)}, which is not a known quality code`, loc);
      return;
    }
    const ts = tsMs * 1000;
    if (v.kind === 'number') {
      if (!Number.isFinite(v.value)) {
        this.b.reject(raw(), 'non_finite', `${this.t.type} metric '${def.name}' is ${v.value}, not a finite number`, loc);
        return;
      }
      this.b.append(sensorId, ts, v.value, null, q ?? null, loc);
    } else if (v.kind === 'bool') this.b.append(sensorId, ts, v.value ? 1 : 0, v.value ? 'true' : 'false', q ?? null, loc);
    else if (v.kind === 'text') this.b.append(sensorId, ts, null, v.value, q ?? null, loc);
    else {
      // is_null: the edge says the metric has no value at this time (e.g. the device is unreachable): kept as a row with
      // neither value nor text, quality bad unless the metric says otherwise, so gaps are explained in the lake.
      q ??= BAD;
      this.b.append(sensorId, ts, null, null, q, loc);
    }
    if (historical) this.historical++;
  }

  /** The protobuf message of metric i, decoded on first need (top-level metrics only; template members have none). */
  private rawMetric(i: number, m: UMetric): RawMetric | null {
    if (this.metrics[i] !== m) return null;
    this.raw ??= (RawPayload.decode(this.bytes).metrics ?? []) as RawMetric[];
    return this.raw[i] ?? null;
  }

  /** A metric as JSON text for the quarantine table, with the topic it came on. */
  private rawOf(i: number): string {
    const m = this.metrics[i];
    return JSON.stringify({ topic: this.topic, metric: m }, jsonSafe);
  }
}

/** JSON for protobufjs values: Longs as decimal text, bytes as base64. */
function jsonSafe(_key: string, v: unknown): unknown {
  if (v && typeof v === 'object') {
    const o = v as { low?: unknown; high?: unknown; unsigned?: unknown };
    if (typeof o.low === 'number' && typeof o.high === 'number' && typeof o.unsigned === 'boolean') return String(toNumber(v));
    if (v instanceof Uint8Array) return `base64:${Buffer.from(v).toString('base64')}`;
    // A Buffer has been through its toJSON before the replacer sees it.
    const b = v as { type?: unknown; data?: unknown };
    if (b.type === 'Buffer' && Array.isArray(b.data)) return `base64:${Buffer.from(b.data as number[]).toString('base64')}`;
  }
  return v;
}
