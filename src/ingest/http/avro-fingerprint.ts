// CRC-64-AVRO, the Rabin fingerprint the Avro spec defines over a schema's Parsing Canonical Form: the 8 bytes that
// follow C3 01 in a single-object encoded message name the writer schema. avsc offers md5/sha only, hence this file.

import avro from 'avsc';

const EMPTY = 0xc15d213aa4d7a795n;
const MASK = (1n << 64n) - 1n;

const TABLE: bigint[] = (() => {
  const t: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & MASK);
    t.push(fp & MASK);
  }
  return t;
})();

/** The fingerprint as an unsigned 64-bit integer (Java's SchemaNormalization.parsingFingerprint64, unsigned). */
export function rabin64(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (const b of bytes) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(b)) & 0xffn)];
  return fp;
}

/** The Parsing Canonical Form of a schema: avsc's default schema() export keeps exactly the spec's attributes. */
export function canonicalForm(type: avro.Type): string {
  return JSON.stringify(type.schema());
}

/** The 8 bytes a single-object message carries after C3 01: the fingerprint, little-endian. */
export function fingerprintBytes(type: avro.Type): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(rabin64(Buffer.from(canonicalForm(type), 'utf8')));
  return out;
}
