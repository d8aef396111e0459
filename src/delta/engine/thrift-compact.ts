// A reader of Thrift's compact protocol, enough to walk a Parquet footer (FileMetaData): the INT96 hint (parquet.ts)
// and the column statistics a writer reads back (parquet-footer.ts) both parse footers with it.

import { CorruptLogError } from '../../errors.js';

/** Where the footer (FileMetaData) of a PAR1-terminated file starts; null when the file does not end in PAR1. */
export function footerStart(bytes: Uint8Array): number | null {
  const n = bytes.length;
  if (n < 12 || bytes[n - 4] !== 0x50 || bytes[n - 3] !== 0x41 || bytes[n - 2] !== 0x52 || bytes[n - 1] !== 0x31) return null;
  const footerLen = new DataView(bytes.buffer, bytes.byteOffset + n - 8, 4).getUint32(0, true);
  const start = n - 8 - footerLen;
  if (start < 4) throw new CorruptLogError(`Parquet footer length ${footerLen} exceeds the file size ${n}`);
  return start;
}

export class Compact {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
  ) {
    this.pos = start;
  }
  u8(): number {
    if (this.pos >= this.b.length) throw new CorruptLogError('Parquet footer is truncated');
    return this.b[this.pos++];
  }
  varint(): number {
    let r = 0;
    let mul = 1;
    for (;;) {
      const x = this.u8();
      r += (x & 0x7f) * mul;
      if (!(x & 0x80)) return r;
      mul *= 128;
    }
  }
  /** A zigzag varint: i16, i32, and i64 within ±2^53 (row and null counts). */
  i32(): number {
    const n = this.varint();
    return n % 2 ? -(n + 1) / 2 : n / 2;
  }
  binary(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.b.length) throw new CorruptLogError('Parquet footer is truncated');
    this.pos += n;
    return this.b.subarray(this.pos - n, this.pos);
  }
  field(last: number): { id: number; type: number } | null {
    const h = this.u8();
    if (h === 0) return null;
    return { id: h >> 4 ? last + (h >> 4) : this.i32(), type: h & 0x0f };
  }
  list(): { size: number; type: number } {
    const h = this.u8();
    return { size: h >> 4 === 15 ? this.varint() : h >> 4, type: h & 0x0f };
  }
  /** Skips a value; `inField` marks booleans whose value sits in the field header. */
  skip(type: number, inField = false): void {
    if (type === 1 || type === 2) {
      if (!inField) this.pos++;
    } else if (type === 3) this.pos++;
    else if (type >= 4 && type <= 6) this.varint();
    else if (type === 7) this.pos += 8;
    else if (type === 8) this.binary();
    else if (type === 9 || type === 10) {
      const l = this.list();
      for (let i = 0; i < l.size; i++) this.skip(l.type);
    } else if (type === 11) {
      const n = this.varint();
      const kv = n > 0 ? this.u8() : 0;
      for (let i = 0; i < n; i++) {
        this.skip(kv >> 4);
        this.skip(kv & 0x0f);
      }
    } else if (type === 12) {
      for (let f = this.field(0); f; f = this.field(f.id)) this.skip(f.type, true);
    } else throw new CorruptLogError(`Parquet footer has unknown Thrift type ${type}`);
  }
}
