// Deletion vectors: Z85, DV paths, the RoaringBitmapArray decoder and the loader, checked against DVs that Spark and
// Databricks wrote (conformance tables in ../shared, read in place) and against row indexes Spark itself reported.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import type { DeletionVectorDescriptor } from '../../src/delta/kernel/actions.js';
import {
  crc32,
  crc32Fallback,
  decodeZ85,
  dvRelativePath,
  encodeZ85,
  parseInlineDv,
  parseRoaringBitmapArray,
} from '../../src/delta/kernel/deletion-vector.js';
import { loadDeletedRows } from '../../src/delta/engine/deletion-vector-loader.js';
import { LocalStorage } from '../../src/delta/engine/local-storage.js';
import { CorruptLogError, NotFoundError, UnsupportedFeatureError } from '../../src/errors.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/delta -> repo root
const conformance = path.resolve(repoRoot, '../shared/conformance');

const u = (pathOrInlineDv: string, offset: number, sizeInBytes: number, cardinality: number): DeletionVectorDescriptor => ({
  storageType: 'u',
  pathOrInlineDv,
  offset,
  sizeInBytes,
  cardinality,
});
const rows = (a: Float64Array): number[] => Array.from(a);

// ----------------------------------------------------------------------------------------------------------------
// Z85

test('Z85 decodes and encodes the ZeroMQ RFC 32 example', () => {
  const bytes = [0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b];
  assert.deepEqual(Array.from(decodeZ85('HelloWorld')), bytes);
  assert.equal(encodeZ85(new Uint8Array(bytes)), 'HelloWorld');
  assert.deepEqual(Array.from(decodeZ85('')), []);
});

test('Z85 rejects bad lengths, foreign characters and groups above 32 bits', () => {
  assert.throws(() => decodeZ85('Hello1'), (e: unknown) => e instanceof CorruptLogError && /multiple of 5/.test(e.message));
  assert.throws(() => decodeZ85('Hel"o'), (e: unknown) => e instanceof CorruptLogError && /character "\\"" at 3/.test(e.message));
  assert.throws(() => decodeZ85('Helé0'), CorruptLogError);
  // '%nSc0' is 2^32 - 1, the largest group; '%nSc1' is 2^32 and names no 4 bytes.
  assert.equal(encodeZ85(new Uint8Array([0xff, 0xff, 0xff, 0xff])), '%nSc0');
  assert.deepEqual(Array.from(decodeZ85('%nSc0')), [0xff, 0xff, 0xff, 0xff]);
  assert.throws(() => decodeZ85('%nSc1'), (e: unknown) => e instanceof CorruptLogError && /exceeds 32 bits/.test(e.message));
  assert.throws(() => decodeZ85('#####'), /exceeds 32 bits/);
});

test('Z85 round-trips any bytes (tail zero-padded, as Delta pads inline DVs)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const text = encodeZ85(b);
      assert.equal(text.length, Math.ceil(b.length / 4) * 5);
      const back = decodeZ85(text);
      assert.deepEqual(Array.from(back.subarray(0, b.length)), Array.from(b));
      assert.ok(back.subarray(b.length).every((x) => x === 0));
    }),
  );
});

// ----------------------------------------------------------------------------------------------------------------
// Where DVs live

test("dvRelativePath: 'u' with and without a random prefix, 'i' has no file", () => {
  // PROTOCOL.md, "JSON Example 1": prefix "ab", UUID d2c639aa-8816-431a-aaf6-d3fe2512ff61.
  assert.equal(
    dvRelativePath(u('ab^-aqEH.-t@S}K{vb[*k^', 4, 40, 6)),
    'ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin',
  );
  // delta-rs/table-with-dv-small: the file that sits next to the data.
  assert.equal(
    dvRelativePath(u('vBn[lx{q8@P<9BNH/isA', 1, 36, 2)),
    'deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin',
  );
  assert.equal(dvRelativePath({ storageType: 'i', pathOrInlineDv: 'HelloWorld', sizeInBytes: 8, cardinality: 1 }), null);
  assert.throws(() => dvRelativePath(u('tooShort', 1, 34, 1)), CorruptLogError);
  assert.throws(
    () => dvRelativePath({ ...u('vBn[lx{q8@P<9BNH/isA', 1, 36, 2), storageType: 'x' as 'u' }),
    (e: unknown) => e instanceof UnsupportedFeatureError && e.feature === 'deletionVectors',
  );
});

test("dvRelativePath: 'p' resolves inside the table root only", () => {
  const root = '/data/tables/t1';
  const p = (s: string): DeletionVectorDescriptor => ({ storageType: 'p', pathOrInlineDv: s, offset: 1, sizeInBytes: 34, cardinality: 1 });
  assert.equal(dvRelativePath(p('file:///data/tables/t1/deletion_vector_x.bin'), root), 'deletion_vector_x.bin');
  assert.equal(dvRelativePath(p('file:/data/tables/t1/sub%20dir/dv.bin'), root), 'sub dir/dv.bin'); // Hadoop's file:/ form
  assert.equal(dvRelativePath(p('/data/tables/t1/ab/dv.bin'), root), 'ab/dv.bin');
  assert.equal(dvRelativePath(p('file:///data/tables/t2/dv.bin'), root), null);
  assert.equal(dvRelativePath(p('file:///data/tables/t1/../t2/dv.bin'), root), null);
  assert.equal(dvRelativePath(p('s3://mytable/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin'), root), null);
  assert.throws(() => dvRelativePath(p('file:///data/tables/t1/dv.bin')), UnsupportedFeatureError);
});

// ----------------------------------------------------------------------------------------------------------------
// Real DVs written by Spark / Databricks

/**
 * Deleted row indexes for every DV the listed conformance tables' commits add, keyed `<pathOrInlineDv>@<offset>`.
 * Derived once with the oracle (delta-spark 3.3.2 on pyspark 3.5.6): for each add carrying a DV, read the table at
 * that commit's version, collect `_metadata.row_index` of the file's surviving rows, and subtract them from
 * [0, numRows) where numRows comes from the Parquet footer (pyarrow). Spark's answers matched our decoder on all 36.
 */
const SPARK_DELETED_ROWS: Record<string, Record<string, number[]>> = {
  'delta-rs/table-with-dv-small': { 'vBn[lx{q8@P<9BNH/isA@1': [0, 9] },
  'delta-rs/table_with_deletion_logs': {
    'J.Dy=B})x<YARTP5LcO1@1': [2],
    'Q6Kt3y1b)0MgZSWwPunr@1': [2, 79],
  },
  'delta-golden/log-replay-dv-key-cases': {
    'h{&8fAg]=QYJvl-}c!yH@1': [0],
    'j=hZPftg7qJYIw^L+Oz9@1': [0, 7],
    '^jP?.<zvDfIGb{C.FPij@1': [0, 7, 14],
  },
  'delta-golden/dv-partitioned-with-checkpoint': {
    '0X9F0q2<2yJ-f)Gm2!e0@1': [0],
    ']m5]-UtmB0Rl<C?0(qO5@1': [0],
    'SZYoUv7OW&PVt[Vm4y.s@1': [0],
    'sl^HN8g+F2G%ix@bXmgx@1': [0],
    'TG?RwHuR9iGfiz)NQ>$j@1': [0],
    'Zcq?bs*HKQWCB[Sjf[.o@1': [0, 1],
    'NZQXpd#3xxK!oBujr/=:@1': [0, 1],
    '+V9Oq([R6mTaoM.}Isa)@1': [0, 1],
    ']g#Gi8g29gLy&KMkGJr?@1': [0],
    '7NnC4LX-RqU.S:B4VD9n@1': [0],
  },
  'delta-rs/cdf-table-with-cdc-and-dvs': {
    'xXKMQm7kW?Gxtg1Fc8gx@1': [1],
    'mJ2cF>/b}cNH0FOIH=-S@1': [2, 3],
    ')ii3umnMG[TGOi6^Mkdw@1': [0],
    '<&<2bjpjObOJ4wv3^ejz@1': [0],
    // Two DVs in one file, for two data files of the same commit.
    'F0u+Uo^@EuVa@tFk))2D@1': [0],
    'F0u+Uo^@EuVa@tFk))2D@43': [1],
    '>[cU:b<XlcQr-qen5gRk@1': [5],
    '9o*B3A9$@MU{2@BJ{d6N@1': [6],
    '<4$go)s!dkVsxG*vpLez@1': [7],
    'Xq<G^UbT+TGkmx<+7Y=5@1': [0, 1, 2, 3, 4, 6], // a run container (0-4) and an array
  },
};

/** Every DV descriptor the table's JSON commits attach to an `add`. */
async function addedDvs(table: string): Promise<DeletionVectorDescriptor[]> {
  const dir = path.join(conformance, table, '_delta_log');
  const out: DeletionVectorDescriptor[] = [];
  for (const name of (await fs.readdir(dir)).filter((n) => /^\d{20}\.json$/.test(n)).sort()) {
    for (const line of (await fs.readFile(path.join(dir, name), 'utf8')).split('\n')) {
      if (line.trim() === '') continue;
      const action = JSON.parse(line) as { add?: { deletionVector?: DeletionVectorDescriptor | null } };
      if (action.add?.deletionVector) out.push(action.add.deletionVector);
    }
  }
  return out;
}

for (const [table, expected] of Object.entries(SPARK_DELETED_ROWS)) {
  test(`conformance ${table}: every DV decodes to the rows Spark deletes`, async () => {
    const storage = new LocalStorage(path.join(conformance, table));
    const dvs = await addedDvs(table);
    const seen = new Set<string>();
    for (const dv of dvs) {
      const key = `${dv.pathOrInlineDv}@${dv.offset}`;
      seen.add(key);
      assert.ok(key in expected, `${table}: no oracle answer for ${key}`);
      const got = await loadDeletedRows(storage, dv);
      assert.deepEqual(rows(got), expected[key], `${table} ${key}`);
      assert.equal(got.length, dv.cardinality, `${table} ${key} cardinality`);
    }
    assert.deepEqual([...seen].sort(), Object.keys(expected).sort(), `${table}: DVs in the log vs the oracle`);
  });
}

test('conformance table-with-dv-small: the known DV, by descriptor', async () => {
  const storage = new LocalStorage(path.join(conformance, 'delta-rs/table-with-dv-small'));
  assert.deepEqual(rows(await loadDeletedRows(storage, u('vBn[lx{q8@P<9BNH/isA', 1, 36, 2))), [0, 9]);
});

// ----------------------------------------------------------------------------------------------------------------
// Inline DVs. No conformance table has one (Spark's DELETE writes files), so these descriptors were made by
// delta-spark 3.3.2 itself: RoaringBitmapArray.serializeAsByteArray(format) -> DeletionVectorDescriptor.inlineInLog,
// and RoaringBitmapArray.readFrom(dv.inlineData) returned the listed values.

test('inline DVs made by delta-spark decode to the values it put in', () => {
  const i = (pathOrInlineDv: string, sizeInBytes: number, cardinality: number): DeletionVectorDescriptor => ({
    storageType: 'i',
    pathOrInlineDv,
    sizeInBytes,
    cardinality,
  });
  // Portable format; 73 bytes, so the Z85 text carries 3 bytes of padding.
  // Containers: a run (3..10) and an array in bucket 0, two arrays in bucket 1 (row indexes >= 2^32).
  assert.deepEqual(
    rows(parseInlineDv(i('^Bg9^0SSi20000000000j1{Wn0rr990096100ic500-Hm0001r5DI>i06h!l00ic20000000ri302LXo02+?q0096800000', 73, 12))),
    [3, 4, 5, 6, 7, 8, 9, 10, 100, 70000, 4294967297, 4295163911],
  );
  assert.deepEqual(rows(parseInlineDv(i('^Bg9^0rr910000000000iXQKl0rr91000625c8Xg0rri41POJ5', 38, 3))), [1, 3, 5]);
  // Delta's older "native" layout (magic 1681511376), which Spark still reads.
  assert.deepEqual(
    rows(parseInlineDv(i('^9>0=0SSi282%Tpj1{Wn0rr990096100ic500-Hm0001r5Ft6z06h!l009610000001Ybg00961', 59, 11))),
    [3, 4, 5, 6, 7, 8, 9, 10, 100, 70000, 4294967297],
  );
  assert.throws(
    () => parseInlineDv(i('^Bg9^0rr910000000000iXQKl0rr91000625c8Xg0rri41POJ5', 38, 4)),
    (e: unknown) => e instanceof CorruptLogError && /holds 3 rows, descriptor cardinality is 4/.test(e.message),
  );
});

test("PROTOCOL.md's inline example is refused, as delta-spark 3.3.2 refuses it", () => {
  // Its bytes are the native layout written big-endian (64 39 d3 d0 ...); Spark's little-endian reader throws
  // "Unexpected RoaringBitmapArray magic number -791463580" (checked with the oracle), so no writer emits this.
  assert.throws(
    () => parseInlineDv({ storageType: 'i', pathOrInlineDv: 'wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L', sizeInBytes: 40, cardinality: 6 }),
    (e: unknown) => e instanceof CorruptLogError && /magic number 3503503716/.test(e.message) && /inline/.test(e.message),
  );
});

// ----------------------------------------------------------------------------------------------------------------
// 'p' (absolute path) DVs, pointed at a real DV file

test("'p' DVs: a file: URI inside the root is read; anything else is refused by name", async () => {
  const tableDir = path.join(conformance, 'delta-rs/table-with-dv-small');
  const storage = new LocalStorage(tableDir);
  const file = path.join(tableDir, 'deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin');
  const p = (s: string): DeletionVectorDescriptor => ({ storageType: 'p', pathOrInlineDv: s, offset: 1, sizeInBytes: 36, cardinality: 2 });
  assert.deepEqual(rows(await loadDeletedRows(storage, p(pathToFileURL(file).href))), [0, 9]);
  assert.deepEqual(rows(await loadDeletedRows(storage, p(`file:${file}`))), [0, 9]);
  for (const outside of ['s3://bucket/t/deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin', pathToFileURL(path.join(os.tmpdir(), 'x.bin')).href]) {
    await assert.rejects(
      loadDeletedRows(storage, p(outside)),
      (e: unknown) => e instanceof UnsupportedFeatureError && e.feature === 'deletionVectors' && e.message.includes(outside),
    );
  }
});

// ----------------------------------------------------------------------------------------------------------------
// Corruption: a copy of a real DV file in a temp dir, damaged

async function withDamagedCopy(damage: (b: Uint8Array) => Uint8Array, run: (s: LocalStorage) => Promise<void>): Promise<void> {
  const name = 'deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin';
  const original = new Uint8Array(await fs.readFile(path.join(conformance, 'delta-rs/table-with-dv-small', name)));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sensorlake-dv-'));
  try {
    await fs.writeFile(path.join(dir, name), damage(original.slice()));
    await run(new LocalStorage(dir));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

test('a flipped bit in a DV file fails the CRC, naming file and offset', async () => {
  const dv = u('vBn[lx{q8@P<9BNH/isA', 1, 36, 2);
  // File byte 39 is the low byte of row 9 in the array container: 9 -> 11 is a valid bitmap only the CRC catches.
  await withDamagedCopy(
    (b) => ((b[39] ^= 0x02), b),
    async (s) => {
      await assert.rejects(
        loadDeletedRows(s, dv),
        (e: unknown) =>
          e instanceof CorruptLogError &&
          /checksum mismatch/.test(e.message) &&
          e.message.includes('deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin at offset 1'),
      );
    },
  );
});

test('truncated files, wrong sizes, unknown versions and missing files are errors, never rows', async () => {
  const dv = u('vBn[lx{q8@P<9BNH/isA', 1, 36, 2);
  await withDamagedCopy(
    (b) => b.subarray(0, b.length - 3),
    async (s) => await assert.rejects(loadDeletedRows(s, dv), (e: unknown) => e instanceof CorruptLogError && /truncated/.test(e.message)),
  );
  await withDamagedCopy(
    (b) => b,
    async (s) => {
      await assert.rejects(loadDeletedRows(s, { ...dv, sizeInBytes: 34 }), (e: unknown) => e instanceof CorruptLogError && /size field says 36/.test(e.message));
      await assert.rejects(loadDeletedRows(s, { ...dv, cardinality: 3 }), (e: unknown) => e instanceof CorruptLogError && /cardinality is 3/.test(e.message));
      await assert.rejects(loadDeletedRows(s, { ...dv, offset: 2 }), CorruptLogError);
    },
  );
  await withDamagedCopy(
    (b) => ((b[0] = 2), b),
    async (s) => await assert.rejects(loadDeletedRows(s, dv), (e: unknown) => e instanceof UnsupportedFeatureError && /version 2/.test(e.message)),
  );
  await withDamagedCopy(
    (b) => b,
    async (s) => await assert.rejects(loadDeletedRows(s, u('0X9F0q2<2yJ-f)Gm2!e0', 1, 34, 1)), NotFoundError),
  );
});

// ----------------------------------------------------------------------------------------------------------------
// The bitmap decoder on hand-built bytes: container kinds the conformance data lacks, and malformed input

/** Little-endian byte builder for hand-made RoaringBitmapArray bytes. */
function le(...parts: Array<[bits: 16 | 32, value: number] | Uint8Array>): Uint8Array {
  const chunks = parts.map((p) => {
    if (p instanceof Uint8Array) return p;
    const b = new Uint8Array(p[0] / 8);
    if (p[0] === 16) new DataView(b.buffer).setUint16(0, p[1], true);
    else new DataView(b.buffer).setUint32(0, p[1], true);
    return b;
  });
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
const PORTABLE: [32, number] = [32, 1681511377];
const oneBucket = (...rest: Array<[16 | 32, number] | Uint8Array>): Uint8Array => le(PORTABLE, [32, 1], [32, 0], [32, 0], ...rest);

test('a bitmap container (over 4096 values) decodes bit for bit', () => {
  // Every third value of container key 2: 21846 values, so the 8 KiB bitset form. delta-spark writes the same
  // layout for scattered deletes (checked on a 300k-row table: 50000 and 110000 deleted rows matched Spark).
  const bits = new Uint8Array(8192);
  const want: number[] = [];
  for (let v = 0; v < 65536; v += 3) {
    bits[v >> 3] |= 1 << (v & 7);
    want.push(2 * 65536 + v);
  }
  const bytes = oneBucket([32, 12346], [32, 1], [16, 2], [16, want.length - 1], [32, 16], bits);
  assert.deepEqual(rows(parseRoaringBitmapArray(bytes, 'test')), want);
});

test('an empty bitmap array decodes to no rows', () => {
  assert.deepEqual(rows(parseRoaringBitmapArray(le(PORTABLE, [32, 0], [32, 0]), 'test')), []);
});

test('malformed bitmaps throw CorruptLogError naming where and the byte', () => {
  const good = oneBucket([32, 12346], [32, 1], [16, 0], [16, 1], [32, 16], [16, 3], [16, 7]);
  assert.deepEqual(rows(parseRoaringBitmapArray(good, 'x')), [3, 7]);
  const bad: Array<[string, Uint8Array, RegExp]> = [
    ['bad magic', le([32, 1234], [32, 0], [32, 0]), /magic number 1234/],
    ['trailing bytes', le(good, [16, 0]), /2 unexpected trailing bytes/],
    ['truncated', good.subarray(0, good.length - 1), /truncated array container/],
    ['descending values', oneBucket([32, 12346], [32, 1], [16, 0], [16, 1], [32, 16], [16, 7], [16, 3]), /not above/],
    ['bad cookie', oneBucket([32, 99], [32, 1]), /unknown Roaring cookie/],
    ['wrong offset', oneBucket([32, 12346], [32, 1], [16, 0], [16, 1], [32, 17], [16, 3], [16, 7]), /offset says 17/],
    ['cardinality vs runs', oneBucket([32, 12347], new Uint8Array([1]), [16, 0], [16, 9], [16, 1], [16, 0], [16, 4]), /declares 10 values but holds 5/],
    ['keys out of order', le(PORTABLE, [32, 2], [32, 0], [32, 1], [32, 12346], [32, 0], [32, 0], [32, 12346], [32, 0]), /bucket keys not ascending/],
    ['key beyond 2^53', le(PORTABLE, [32, 1], [32, 0], [32, 2 ** 21], [32, 12346], [32, 0]), /beyond 2\^53/],
  ];
  for (const [label, bytes, pattern] of bad) {
    assert.throws(
      () => parseRoaringBitmapArray(bytes, 'dv.bin'),
      (e: unknown) => e instanceof CorruptLogError && pattern.test(e.message) && e.message.startsWith('dv.bin: ') && /at byte \d+/.test(e.message),
      label,
    );
  }
});

test('CRC-32: the fallback agrees with zlib and the standard check value', () => {
  const check = new TextEncoder().encode('123456789');
  assert.equal(crc32Fallback(check), 0xcbf43926);
  assert.equal(crc32(check), 0xcbf43926);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => crc32Fallback(b) === crc32(b)));
});
