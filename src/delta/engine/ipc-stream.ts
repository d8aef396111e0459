// Serialises an Arrow table as one IPC stream written straight into a single buffer, which the encoder pool hands
// to a worker and gets back to reuse for the next file. apache-arrow's tableToIPC queues every buffer and joins
// them at the end into fresh memory: per 10 M sensor rows that is ~0.5 GB of newly faulted pages and a second pass.

import * as arrow from 'apache-arrow';
import { Message, RecordBatch as BatchHeader } from 'apache-arrow/ipc/metadata/message';
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';

function hasDictionary(t: arrow.DataType): boolean {
  return arrow.DataType.isDictionary(t) || (t.children ?? []).some((f) => hasDictionary(f.type));
}

const align8 = (n: number): number => (n + 7) & ~7;

interface Framed {
  /** The message's flatbuffer (Schema or RecordBatch header). */
  meta: Uint8Array;
  buffers: ArrayBufferView[];
  /** Where each buffer starts within the body, and the body's length (a multiple of 8). */
  offsets: number[];
  bodyLength: number;
}

/** Bytes a framed message takes in the stream: continuation marker, length, padded flatbuffer, body. */
const framedSize = (m: Framed): number => 8 + align8(m.meta.byteLength) + m.bodyLength;

/**
 * `table` as an Arrow IPC stream (schema, one record batch per table batch, end-of-stream marker), byte for byte what
 * apache-arrow's stream writer produces. Written into `reuse` when it is large enough, else into a new buffer with
 * some room to spare so the next, slightly larger file fits. Tables with dictionary columns, which need dictionary
 * batches, go through apache-arrow's writer.
 */
export function tableToIpcStream(table: arrow.Table, reuse?: ArrayBuffer): Uint8Array {
  if (table.schema.fields.some((f) => hasDictionary(f.type))) return arrow.tableToIPC(table, 'stream');
  const messages: Framed[] = [{ meta: Message.encode(Message.from(table.schema)), buffers: [], offsets: [], bodyLength: 0 }];
  for (const batch of table.batches) {
    const a = VectorAssembler.assemble(batch);
    const header = new BatchHeader(batch.numRows, a.nodes, a.bufferRegions, null, a.variadicBufferCounts);
    messages.push({
      meta: Message.encode(Message.from(header, a.byteLength)),
      buffers: a.buffers,
      offsets: a.bufferRegions.map((r) => Number(r.offset)),
      bodyLength: a.byteLength,
    });
  }
  const total = messages.reduce((s, m) => s + framedSize(m), 0) + 8;
  const buffer = reuse && reuse.byteLength >= total ? reuse : new ArrayBuffer(align8(total + (total >> 3)));
  const out = new Uint8Array(buffer, 0, total);
  const view = new DataView(buffer, 0, total);
  let at = 0;
  for (const m of messages) {
    const metaLength = align8(m.meta.byteLength);
    view.setInt32(at, -1, true); // continuation marker
    view.setInt32(at + 4, metaLength, true);
    out.set(m.meta, at + 8);
    out.fill(0, at + 8 + m.meta.byteLength, at + 8 + metaLength);
    at += 8 + metaLength;
    // Buffers sit at their regions' offsets; the gaps (padding to 8 bytes) are zeroed, as a reused buffer holds old bytes.
    let end = 0;
    m.buffers.forEach((b, i) => {
      const bytes = b instanceof Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      out.fill(0, at + end, at + m.offsets[i]);
      out.set(bytes, at + m.offsets[i]);
      end = m.offsets[i] + bytes.byteLength;
    });
    out.fill(0, at + end, at + m.bodyLength);
    at += m.bodyLength;
  }
  view.setInt32(at, -1, true); // end of stream
  view.setInt32(at + 4, 0, true);
  return out;
}
