// A message that cannot be decoded at all still reaches the lake: as one quarantine record (malformed_record) holding
// its bytes, so the client can acknowledge it without losing it. Binary payloads are kept as base64.

import { ReadingsBuilder, type RejectReason, type SourceChunk } from '../../sources/batch.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The payload as text when it is valid UTF-8, else `base64:` and its bytes in base64 (quarantine `raw` is text). */
export function payloadText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return `base64:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
  }
}

/** UTF-8 text of the payload, or null when it is not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** One chunk holding one reject for the whole payload (location: byte offset 0). */
export function wholePayloadReject(name: string, bytes: Uint8Array, message: string, reason: RejectReason = 'malformed_record'): SourceChunk {
  const b = new ReadingsBuilder(name, 'offset', 1);
  b.reject(payloadText(bytes), reason, message, 0);
  return b.flush(bytes.byteLength);
}
