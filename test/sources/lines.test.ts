// lines.ts: blocks hold whole records whatever the chunking: no cut inside a UTF-8 character or a quoted field,
// CRLF kept for the parsers, BOM dropped, a last line without newline delivered, memory bounded per record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { InvalidRecordError } from '../../src/errors.js';
import { MAX_RECORD_BYTES, textBlocks } from '../../src/sources/lines.js';

function chunks(bytes: Buffer, size: number): AsyncIterable<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts, { objectMode: true });
}

async function blocks(text: string | Buffer, size: number, quote = '"'): Promise<string[]> {
  const out: string[] = [];
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for await (const b of textBlocks(chunks(bytes, size), { file: 'x.csv', quote, delimiter: ',' })) out.push(b);
  return out;
}

const RECORDS = ['ts,id,v\r\n', '1,"a\nb",2\r\n', '2,"say ""hi""\n, ok",3\n', '3,é😀,4\n', '4,x"y,5\n', '5,"",6'];
const CSV = RECORDS.join('');

test('any chunking gives the same text, each block ending at a record end outside quotes', async () => {
  const recordEnds = new Set(RECORDS.map((_, i) => RECORDS.slice(0, i + 1).join('').length));
  for (const size of [1, 2, 3, 5, 7, 11, 64, 1 << 20]) {
    const got = await blocks(CSV, size);
    assert.equal(got.join(''), CSV, `chunk ${size}`);
    let end = 0;
    for (const b of got) {
      end += b.length;
      assert.ok(recordEnds.has(end), `chunk ${size}: block ${JSON.stringify(b)} does not end a record`);
    }
  }
  assert.equal((await blocks(CSV, 1)).length, RECORDS.length); // byte by byte, each record is released on its own
});

test('without quote handling a newline inside quotes ends a line; a BOM is dropped', async () => {
  const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a\n"b\nc"\n')]);
  assert.equal((await blocks(withBom, 1, '')).join(''), 'a\n"b\nc"\n');
  const cut = await blocks(withBom, 1, '');
  assert.deepEqual(cut, ['a\n', '"b\n', 'c"\n']);
  assert.deepEqual(await blocks(Buffer.from([0xef, 0xbb]), 1, ''), ['\ufffd']);
});

test('an unclosed quote cannot swallow the file: past the record limit it is cut at plain newlines', async () => {
  const tail = 'x,y\n'.repeat(Math.ceil((MAX_RECORD_BYTES * 1.5) / 4));
  const text = `a,"open\n${tail}`;
  const got = await blocks(text, 1 << 20);
  assert.equal(got.join(''), text);
  assert.ok(got.length > 1);
});

test('a line longer than the limit with no newline at all is refused with the file name', async () => {
  const big = Buffer.alloc(MAX_RECORD_BYTES + (2 << 20), 0x61);
  await assert.rejects(blocks(big, 1 << 20, ''), (e: Error) => e instanceof InvalidRecordError && /x\.csv: no line end/.test(e.message));
});
