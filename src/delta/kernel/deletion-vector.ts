// Deletion vectors, pure part: Z85, where a DV lives, and the bytes of a DV (file block or inline) -> the sorted
// row indexes it deletes. The engine's deletion-vector-loader fetches the bytes; scans drop those rows.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import type { DeletionVectorDescriptor } from './actions.js';
import { CorruptLogError, UnsupportedFeatureError } from '../../errors.js';

// ---------------------------------------------------------------------------------------------------------------
// Z85 (ZeroMQ RFC 32): 4 bytes <-> 5 characters, big-endian base 85.

const Z85_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < Z85_ALPHABET.length; i++) Z85_DECODE[Z85_ALPHABET.charCodeAt(i)] = i;

function snippet(s: string): string {
  return s.length <= 40 ? JSON.stringify(s) : `${JSON.stringify(s.slice(0, 40))}...`;
}

/** Decodes Z85 text (length a multiple of 5) into bytes (4 per 5 characters). */
export function decodeZ85(s: string, where = 'Z85 text'): Uint8Array {
  if (s.length % 5 !== 0) {
    throw new CorruptLogError(`${where}: Z85 length ${s.length} is not a multiple of 5 in ${snippet(s)}`);
  }
  const out = new Uint8Array((s.length / 5) * 4);
  const view = new DataView(out.buffer);
  for (let i = 0, o = 0; i < s.length; i += 5, o += 4) {
    let v = 0;
    for (let j = 0; j < 5; j++) {
      const c = s.charCodeAt(i + j);
      const d = c < 128 ? Z85_DECODE[c] : -1;
      if (d < 0) throw new CorruptLogError(`${where}: invalid Z85 character ${JSON.stringify(s[i + j])} at ${i + j} in ${snippet(s)}`);
      v = v * 85 + d;
    }
    // Five digits reach 85^5 - 1 > 2^32 - 1; such groups name no 4 bytes.
    if (v > 0xffffffff) throw new CorruptLogError(`${where}: Z85 group at ${i} exceeds 32 bits in ${snippet(s)}`);
    view.setUint32(o, v, false);
  }
  return out;
}

/** Encodes bytes as Z85, zero-padding the tail to a multiple of 4 as Delta does for inline DVs (readers truncate). */
export function encodeZ85(bytes: Uint8Array): string {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  let out = '';
  for (let o = 0; o < padded.length; o += 4) {
    let v = view.getUint32(o, false);
    const group = new Array<string>(5);
    for (let j = 4; j >= 0; j--) {
      group[j] = Z85_ALPHABET[v % 85];
      v = Math.floor(v / 85);
    }
    out += group.join('');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Where a DV lives.

const UUID_Z85_LENGTH = 20;

function describe(dv: DeletionVectorDescriptor): string {
  const at = dv.offset === undefined || dv.offset === null ? '' : `@${dv.offset}`;
  return `deletion vector ${dv.storageType}${snippet(dv.pathOrInlineDv)}${at}`;
}

/**
 * The DV file's path relative to the table root, '/'-separated: 'u' -> `<prefix>/deletion_vector_<uuid>.bin`;
 * 'p' (an absolute URI) -> its place under `tableRoot` when it is a local path inside it, null when it lies outside;
 * 'i' -> null (inline, no file). Without `tableRoot` a 'p' DV cannot be placed and throws UnsupportedFeatureError,
 * so that no caller mistakes "unknown" for "no file in this table".
 */
export function dvRelativePath(dv: DeletionVectorDescriptor, tableRoot?: string): string | null {
  switch (dv.storageType) {
    case 'i':
      return null;
    case 'u': {
      const s = dv.pathOrInlineDv;
      if (typeof s !== 'string' || s.length < UUID_Z85_LENGTH) {
        throw new CorruptLogError(`${describe(dv)}: 'u' path needs a ${UUID_Z85_LENGTH}-character Z85 UUID`);
      }
      const prefix = s.slice(0, s.length - UUID_Z85_LENGTH);
      const hex = Buffer.from(decodeZ85(s.slice(s.length - UUID_Z85_LENGTH), describe(dv))).toString('hex');
      const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      const name = `deletion_vector_${uuid}.bin`;
      return prefix === '' ? name : `${prefix}/${name}`;
    }
    case 'p': {
      if (tableRoot === undefined) {
        throw new UnsupportedFeatureError('deletionVectors', `${describe(dv)}: an absolute DV path needs the table root to resolve`);
      }
      const abs = localAbsolutePath(dv.pathOrInlineDv, describe(dv));
      if (abs === null) return null;
      const rel = path.relative(path.resolve(tableRoot), abs);
      if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return null;
      return rel.split(path.sep).join('/');
    }
    default:
      throw new UnsupportedFeatureError(
        'deletionVectors',
        `${describe(dv)}: unknown storageType ${JSON.stringify((dv as { storageType: unknown }).storageType)}`,
      );
  }
}

/** A 'p' path as a local absolute path: `file:` URIs (Hadoop writes `file:/a/b`) and bare absolute paths; else null. */
function localAbsolutePath(p: string, where: string): string | null {
  try {
    if (p.startsWith('file:')) {
      const url = new URL(p);
      if (url.host !== '' && url.host !== 'localhost') return null; // another machine's file
      return fileURLToPath(url);
    }
    if (p.startsWith('/')) return path.resolve(decodeURIComponent(p));
  } catch (e) {
    throw new CorruptLogError(`${where}: malformed absolute path: ${(e as Error).message}`);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// The serialized RoaringBitmapArray: a 4-byte little-endian magic, then a 64-bit Roaring bitmap.

/** The format the protocol specifies: RoaringFormatSpec's "portable" 64-bit layout. */
const MAGIC_PORTABLE = 1681511377;
/** Delta Spark's older layout (count, then per bitmap a length and a 32-bit bitmap); Spark still reads it. */
const MAGIC_NATIVE = 1681511376;
const SERIAL_COOKIE_NO_RUNCONTAINER = 12346;
const SERIAL_COOKIE = 12347;
const NO_OFFSET_THRESHOLD = 4;
const ARRAY_CONTAINER_MAX = 4096;
const BITMAP_CONTAINER_BYTES = 8192;
/** Row indexes are returned as doubles, exact below 2^53: high keys up to 2^21 - 1. */
const MAX_EXACT_HIGH_KEY = 2 ** 21;

interface Container {
  high: number; // the bucket key (upper 32 bits of the row index)
  key: number; // the container key (bits 16..31)
  kind: 'array' | 'bitmap' | 'run';
  cardinality: number;
  at: number; // byte position of the container data
}

class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly where: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fail(msg: string, at = this.pos): never {
    throw new CorruptLogError(`${this.where}: ${msg} at byte ${at} of the serialized bitmap (${this.bytes.length} bytes)`);
  }
  need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length) this.fail(`truncated ${what}: need ${n} bytes`);
  }
  u16(at: number): number {
    return this.view.getUint16(at, true);
  }
  u32At(at: number): number {
    return this.view.getUint32(at, true);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
}

/** Reads one standard 32-bit Roaring bitmap at `r.pos`, appending its containers; leaves `r.pos` just past it. */
function readRoaring32(r: Reader, high: number, out: Container[]): void {
  const start = r.pos;
  const cookie = r.u32('cookie');
  let size: number;
  let runFlags: Uint8Array | null = null;
  if (cookie === SERIAL_COOKIE_NO_RUNCONTAINER) {
    size = r.u32('container count');
    if (size > 65536) r.fail(`container count ${size} exceeds 65536`, start + 4);
  } else if ((cookie & 0xffff) === SERIAL_COOKIE) {
    size = (cookie >>> 16) + 1;
    const n = Math.ceil(size / 8);
    r.need(n, 'run-container flags');
    runFlags = r.bytes.subarray(r.pos, r.pos + n);
    r.pos += n;
  } else {
    r.fail(`unknown Roaring cookie 0x${cookie.toString(16)}`, start);
  }
  const headerAt = r.pos;
  r.need(4 * size, 'descriptive header');
  r.pos += 4 * size;
  const hasOffsets = runFlags === null || size >= NO_OFFSET_THRESHOLD;
  const offsetsAt = r.pos;
  if (hasOffsets) {
    r.need(4 * size, 'offset header');
    r.pos += 4 * size;
  }
  let lastKey = -1;
  for (let i = 0; i < size; i++) {
    const key = r.u16(headerAt + 4 * i);
    const cardinality = r.u16(headerAt + 4 * i + 2) + 1;
    if (key <= lastKey) r.fail(`container keys not ascending (${key} after ${lastKey})`, headerAt + 4 * i);
    lastKey = key;
    const isRun = runFlags !== null && (runFlags[i >> 3] & (1 << (i & 7))) !== 0;
    if (hasOffsets) {
      // Offsets count from the cookie; a mismatch means the layout is not what we think it is.
      const declared = r.u32At(offsetsAt + 4 * i);
      if (declared !== r.pos - start) r.fail(`container ${i} offset says ${declared}, layout says ${r.pos - start}`, offsetsAt + 4 * i);
    }
    const at = r.pos;
    if (isRun) {
      r.need(2, 'run count');
      const runs = r.u16(r.pos);
      r.need(2 + 4 * runs, `run container of ${runs} runs`);
      r.pos += 2 + 4 * runs;
      out.push({ high, key, kind: 'run', cardinality, at });
    } else if (cardinality <= ARRAY_CONTAINER_MAX) {
      r.need(2 * cardinality, `array container of ${cardinality} values`);
      r.pos += 2 * cardinality;
      out.push({ high, key, kind: 'array', cardinality, at });
    } else {
      r.need(BITMAP_CONTAINER_BYTES, 'bitmap container');
      r.pos += BITMAP_CONTAINER_BYTES;
      out.push({ high, key, kind: 'bitmap', cardinality, at });
    }
  }
}

/** Writes the container's values into `rows` from `n`, checking they ascend and match the declared cardinality. */
function expand(r: Reader, c: Container, rows: Float64Array, n: number): number {
  const base = c.high * 2 ** 32 + c.key * 65536;
  const first = n;
  let last = n > 0 ? rows[n - 1] : -1;
  const push = (low: number, at: number): void => {
    const v = base + low;
    if (v <= last) r.fail(`row index ${v} not above ${last}`, at);
    if (n - first >= c.cardinality) r.fail(`container holds more than its declared ${c.cardinality} values`, c.at);
    rows[n++] = v;
    last = v;
  };
  if (c.kind === 'array') {
    for (let i = 0; i < c.cardinality; i++) push(r.u16(c.at + 2 * i), c.at + 2 * i);
  } else if (c.kind === 'run') {
    const runs = r.u16(c.at);
    for (let i = 0; i < runs; i++) {
      const at = c.at + 2 + 4 * i;
      const startLow = r.u16(at);
      const len = r.u16(at + 2) + 1;
      if (startLow + len > 65536) r.fail(`run ${startLow}+${len} overflows its container`, at);
      for (let j = 0; j < len; j++) push(startLow + j, at);
    }
  } else {
    for (let w = 0; w < BITMAP_CONTAINER_BYTES; w++) {
      const byte = r.bytes[c.at + w];
      if (byte === 0) continue;
      for (let b = 0; b < 8; b++) if (byte & (1 << b)) push(w * 8 + b, c.at + w);
    }
  }
  if (n - first !== c.cardinality) r.fail(`container declares ${c.cardinality} values but holds ${n - first}`, c.at);
  return n;
}

/**
 * Parses a serialized RoaringBitmapArray (magic number first, as in DV files and, per the protocol, inline DVs)
 * into the deleted row indexes, strictly ascending. `where` names the source for error messages.
 */
export function parseRoaringBitmapArray(bytes: Uint8Array, where: string): Float64Array {
  const r = new Reader(bytes, where);
  const magic = r.u32('magic number');
  const containers: Container[] = [];
  if (magic === MAGIC_PORTABLE) {
    const lo = r.u32('bucket count');
    const hi = r.u32('bucket count');
    if (hi !== 0 || lo > 0x7fffffff) r.fail(`bucket count ${hi * 2 ** 32 + lo} out of range`, 4);
    let lastHigh = -1;
    for (let b = 0; b < lo; b++) {
      const at = r.pos;
      const high = r.u32('bucket key');
      // The protocol keeps the top bit clear; beyond 2^21 a double could not hold the row index exactly.
      if (high >= MAX_EXACT_HIGH_KEY) r.fail(`bucket key ${high} puts row indexes beyond 2^53`, at);
      if (high <= lastHigh) r.fail(`bucket keys not ascending (${high} after ${lastHigh})`, at);
      lastHigh = high;
      readRoaring32(r, high, containers);
    }
  } else if (magic === MAGIC_NATIVE) {
    const count = r.u32('bitmap count');
    if (count > MAX_EXACT_HIGH_KEY) r.fail(`bitmap count ${count} puts row indexes beyond 2^53`, 4);
    for (let high = 0; high < count; high++) {
      const length = r.u32('bitmap length');
      const start = r.pos;
      readRoaring32(r, high, containers);
      if (r.pos - start !== length) r.fail(`bitmap ${high} declares ${length} bytes but spans ${r.pos - start}`, start - 4);
    }
  } else {
    r.fail(`unknown RoaringBitmapArray magic number ${magic} (expected ${MAGIC_PORTABLE})`, 0);
  }
  // Writers size the buffer exactly; trailing bytes mean we misread a length somewhere.
  if (r.pos !== bytes.length) r.fail(`${bytes.length - r.pos} unexpected trailing bytes`);
  let total = 0;
  for (const c of containers) total += c.cardinality;
  const rows = new Float64Array(total);
  let n = 0;
  for (const c of containers) n = expand(r, c, rows, n);
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// DV files: byte 0 is the format version; each DV at its offset is [size u32 BE][bitmap: size bytes][CRC-32 u32 BE].

export const DV_FILE_FORMAT_VERSION = 1;

/** Bytes to read at `offset` for one DV in a file: size, bitmap, checksum. */
export function dvBlockLength(dv: DeletionVectorDescriptor): number {
  return 4 + dv.sizeInBytes + 4;
}

/** Checks the version byte that opens every DV file. */
export function checkDvFileVersion(firstByte: Uint8Array, where: string): void {
  if (firstByte.length < 1) throw new CorruptLogError(`${where}: DV file is empty`);
  if (firstByte[0] !== DV_FILE_FORMAT_VERSION) {
    throw new UnsupportedFeatureError(
      'deletionVectors',
      `${where}: DV file format version ${firstByte[0]} (only ${DV_FILE_FORMAT_VERSION} is known)`,
    );
  }
}

/** Decodes one DV block read from a file at the descriptor's offset: checks size, CRC-32 and cardinality. */
export function parseDvBlock(block: Uint8Array, dv: DeletionVectorDescriptor, where: string): Float64Array {
  const expected = dvBlockLength(dv);
  if (block.length < expected) {
    throw new CorruptLogError(`${where}: truncated DV: need ${expected} bytes, file has ${block.length}`);
  }
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const size = view.getUint32(0, false);
  if (size !== dv.sizeInBytes) {
    throw new CorruptLogError(`${where}: DV size field says ${size} bytes, descriptor says ${dv.sizeInBytes}`);
  }
  const data = block.subarray(4, 4 + size);
  const stored = view.getUint32(4 + size, false);
  const actual = crc32(data);
  if (stored !== actual) {
    throw new CorruptLogError(
      `${where}: DV checksum mismatch: stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)}`,
    );
  }
  return checkCardinality(parseRoaringBitmapArray(data, where), dv, where);
}

/** Decodes an inline ('i') DV: Z85 text of the RoaringBitmapArray bytes, padded to a multiple of 4. */
export function parseInlineDv(dv: DeletionVectorDescriptor): Float64Array {
  const where = `inline ${describe(dv)}`;
  const bytes = decodeZ85(dv.pathOrInlineDv, where);
  if (bytes.length < dv.sizeInBytes || bytes.length - dv.sizeInBytes > 3) {
    throw new CorruptLogError(`${where}: Z85 text holds ${bytes.length} bytes, descriptor says ${dv.sizeInBytes}`);
  }
  return checkCardinality(parseRoaringBitmapArray(bytes.subarray(0, dv.sizeInBytes), where), dv, where);
}

function checkCardinality(rows: Float64Array, dv: DeletionVectorDescriptor, where: string): Float64Array {
  if (rows.length !== dv.cardinality) {
    throw new CorruptLogError(`${where}: DV holds ${rows.length} rows, descriptor cardinality is ${dv.cardinality}`);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// CRC-32 (IEEE, as java.util.zip.CRC32): node:zlib has it from Node 20.15; a table fallback covers older 20.x.

const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

let table: Uint32Array | null = null;
function tableCrc32(data: Uint8Array): number {
  if (table === null) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32 of `data`, unsigned. Exported for tests, which check the fallback against zlib. */
export const crc32: (data: Uint8Array) => number = zlibCrc32 ? (d) => zlibCrc32(d) >>> 0 : tableCrc32;
export { tableCrc32 as crc32Fallback };
