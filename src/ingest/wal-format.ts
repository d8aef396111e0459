// The WAL's bytes on disk: a segment file is a small header (magic, base position, CRC) and frames, each a length,
// a CRC32 of its body (position + payload) and the body, padded to 8 bytes so payloads can be read as typed arrays.
// Reading stops at the first frame that is cut short or fails its CRC: a torn tail left by a crash.

import { promises as fs } from 'node:fs';
import { crc32 } from 'node:zlib';

/** Segment header: magic, base position (f64), crc32 of the 16 bytes before it, padding to 8. */
const MAGIC = Buffer.from('SLWAL\0\0\x01', 'latin1');
export const SEGMENT_HEADER_BYTES = 24;
/** Frame: u32 body length, u32 crc32(body), then the body (f64 position + payload), padded to 8 bytes. */
export const FRAME_HEAD = 8;
/** Bytes before a payload in its frame: the frame head and the position. */
export const FRAME_ROOM = 16;
export const SUFFIX = '.wal';
export const pad8 = (n: number): number => (n + 7) & ~7;

/** A frame with room for `payloadBytes`; the caller fills `payload`, append() fills the rest. */
export function allocFrame(payloadBytes: number): { frame: Uint8Array; payload: Uint8Array } {
  // A buffer of its own (never pooled) so that typed views over the payload are 8-byte aligned; shared, so that
  // handing the entry to the commit worker costs no copy.
  const frame = new Uint8Array(new SharedArrayBuffer(pad8(FRAME_ROOM + payloadBytes)));
  // The body length (position + payload, without the padding) goes in now: append() cannot tell padding apart.
  new DataView(frame.buffer).setUint32(0, FRAME_ROOM - FRAME_HEAD + payloadBytes, true);
  return { frame, payload: frame.subarray(FRAME_ROOM, FRAME_ROOM + payloadBytes) };
}

export interface WalEntry {
  position: number;
  /** A copy of the payload in a buffer of its own (8-byte aligned views are safe). */
  payload: Uint8Array;
}

export function segmentName(base: number): string {
  return `${String(base).padStart(16, '0')}${SUFFIX}`;
}

export function segmentHeader(base: number): Uint8Array {
  const h = Buffer.alloc(SEGMENT_HEADER_BYTES);
  MAGIC.copy(h, 0);
  h.writeDoubleLE(base, 8);
  h.writeUInt32LE(crc32(h.subarray(0, 16)), 16);
  return h;
}

export interface SegmentRead {
  /** null when the header is missing or torn (a segment whose creation was cut short). */
  base: number | null;
  entries: WalEntry[];
  /** Bytes up to the end of the last whole entry. */
  validBytes: number;
  /** Bytes after validBytes that are not a whole entry: a torn tail, cut off on open. */
  tornBytes: number;
}

/** Reads a whole segment file, stopping at the first frame that is cut short or fails its CRC. */
export async function readSegment(file: string): Promise<SegmentRead> {
  const buf = await fs.readFile(file);
  if (buf.length < SEGMENT_HEADER_BYTES || !buf.subarray(0, 8).equals(MAGIC) || buf.readUInt32LE(16) !== crc32(buf.subarray(0, 16))) {
    return { base: null, entries: [], validBytes: 0, tornBytes: buf.length };
  }
  const base = buf.readDoubleLE(8);
  const entries: WalEntry[] = [];
  let at = SEGMENT_HEADER_BYTES;
  while (at + FRAME_HEAD <= buf.length) {
    const len = buf.readUInt32LE(at);
    if (len < 8 || at + FRAME_HEAD + len > buf.length) break;
    const body = buf.subarray(at + FRAME_HEAD, at + FRAME_HEAD + len);
    if (crc32(body) !== buf.readUInt32LE(at + 4)) break;
    const payload = new Uint8Array(len - 8);
    payload.set(body.subarray(8));
    entries.push({ position: body.readDoubleLE(0), payload });
    at += pad8(FRAME_HEAD + len);
  }
  return { base, entries, validBytes: Math.min(at, buf.length), tornBytes: buf.length - Math.min(at, buf.length) };
}

