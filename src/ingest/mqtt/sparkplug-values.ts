// Sparkplug B metric values -> the canonical reading fields: numbers to value, booleans to 0/1 (with 'true'/'false'
// in value_text, as the JSON source does), text to value_text, DateTime to ISO text; a Quality property to a StatusCode.

import type { TypeStr, UMetric } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import type { org } from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import { makeQualityParser, BAD, GOOD, UNCERTAIN } from '../../sources/quality.js';
import type { QualityOptions } from '../../sources/options.js';

export type RawMetric = org.eclipse.tahu.protobuf.Payload.IMetric & { value?: string; isNull?: boolean | null };

const NUMERIC: ReadonlySet<TypeStr> = new Set(['Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float', 'Double']);
const TEXT: ReadonlySet<TypeStr> = new Set(['String', 'Text', 'UUID']);

/** A metric's reading, or why it is not one. */
export type Scalar =
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'text'; value: string }
  | { kind: 'null' }
  | { kind: 'unsupported'; type: TypeStr | 'Unknown' };

export function isScalarType(t: TypeStr): boolean {
  return NUMERIC.has(t) || TEXT.has(t) || t === 'Boolean' || t === 'DateTime';
}

/** protobufjs's 64-bit integers (the `long` package's Long), read without depending on that package. */
interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
}
const TWO_32 = 4294967296;

function isLong(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && typeof (v as LongLike).low === 'number' && typeof (v as LongLike).high === 'number';
}

/** A 64-bit integer as a double (exact to 2^53), read as signed or unsigned whatever the Long says it is. */
function longNumber(v: LongLike, signed: boolean): number {
  return (signed ? v.high | 0 : v.high >>> 0) * TWO_32 + (v.low >>> 0);
}

export function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (isLong(v)) return longNumber(v, !v.unsigned);
  if (typeof v === 'bigint') return Number(v);
  return null;
}

/**
 * Small integers travel in a 32-bit int_value. Edge nodes put a negative Int8/Int16 there sign-extended to 32 bits or
 * as its own 8/16-bit two's complement; both read back right by taking the type's low bits as signed.
 */
function narrow(type: TypeStr, n: number): number {
  switch (type) {
    case 'Int8':
      return (n << 24) >> 24;
    case 'Int16':
      return (n << 16) >> 16;
    case 'Int32':
      return n | 0;
    case 'UInt8':
      return n & 0xff;
    case 'UInt16':
      return n & 0xffff;
    case 'UInt32':
      return n >>> 0;
    default:
      return n;
  }
}

/** The value the sparkplug-payload decoder gave, read as `type`. */
export function scalarOf(type: TypeStr, value: UMetric['value']): Scalar {
  if (value === null || value === undefined) return { kind: 'null' };
  if (NUMERIC.has(type)) {
    const n = toNumber(value);
    return n === null ? { kind: 'unsupported', type } : { kind: 'number', value: narrow(type, n) };
  }
  if (type === 'Boolean') return { kind: 'bool', value: value === true };
  if (TEXT.has(type)) return { kind: 'text', value: String(value) };
  if (type === 'DateTime') {
    const ms = toNumber(value);
    return ms === null ? { kind: 'unsupported', type } : { kind: 'text', value: new Date(ms).toISOString() };
  }
  return { kind: 'unsupported', type };
}

/**
 * The value of a metric read from the protobuf message itself, for when the decoder could not: a DATA metric sent
 * without its datatype (Sparkplug 3.0 says DATA should omit it; the BIRTH gave it), or a UInt32 in int_value, which
 * sparkplug-payload 1.0.3 reads from long_value and returns as null.
 */
export function rawScalarOf(type: TypeStr, m: RawMetric): Scalar {
  if (m.isNull === true || m.value === undefined) return { kind: 'null' };
  const field = m.value;
  const v = (m as Record<string, unknown>)[field];
  if (v === null || v === undefined) return { kind: 'null' };
  if (NUMERIC.has(type)) {
    if (field === 'intValue') return { kind: 'number', value: narrow(type, v as number) };
    if (field === 'longValue') {
      const n = isLong(v) ? longNumber(v, type === 'Int64') : (v as number);
      return { kind: 'number', value: n };
    }
    if (field === 'floatValue' || field === 'doubleValue') return { kind: 'number', value: v as number };
    return { kind: 'unsupported', type };
  }
  if (type === 'Boolean' && field === 'booleanValue') return { kind: 'bool', value: v === true };
  if (TEXT.has(type) && field === 'stringValue') return { kind: 'text', value: String(v) };
  if (type === 'DateTime' && field === 'longValue') {
    const ms = isLong(v) ? longNumber(v, false) : (v as number);
    return { kind: 'text', value: new Date(ms).toISOString() };
  }
  return { kind: 'unsupported', type };
}

/**
 * The `Quality` metric property (Ignition and Cirrus Link send OPC DA codes: 192 good, 64 uncertain, 0 bad) -> UA
 * StatusCode. A user quality map (mapping config `quality.map`) wins; integers 0..255 are read as OPC DA codes by
 * their quality bits; other numbers and words go through the shared parser (UA StatusCodes, good/bad/...).
 */
export function makeSparkplugQuality(opts: QualityOptions = {}): (v: unknown) => number | null | undefined {
  const shared = makeQualityParser(opts);
  const mapped = new Set(Object.keys(opts.map ?? {}).map((k) => k.trim().toLowerCase()));
  return (v) => {
    if (v === null || v === undefined) return undefined;
    const n = toNumber(v);
    if (n !== null) {
      if (!mapped.has(String(n)) && Number.isInteger(n) && n >= 0 && n <= 255) {
        const bits = n & 0xc0;
        return bits === 0xc0 ? GOOD : bits === 0x40 ? UNCERTAIN : BAD;
      }
      return shared(n);
    }
    if (typeof v === 'string') return shared(v);
    return null;
  };
}
