// The ingest WAL on real files: frames round-trip, a torn or garbled tail is cut back to the last whole entry,
// positions keep rising across reopen, group commit shares fsyncs, and segments go only once committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { allocFrame, readSegment, SEGMENT_HEADER_BYTES, Wal } from '../../src/ingest/wal.js';
import { CorruptLogError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

/** A payload of `size` bytes derived from `seed`, so a reader can check every byte. */
function payload(seed: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    p[i] = x >>> 24;
  }
  return p;
}

async function appendAll(wal: Wal, seeds: number[], size = (s: number) => 10 + (s % 50) * 7): Promise<number[]> {
  const acks = seeds.map((s) => {
    const { frame, payload: room } = allocFrame(size(s));
    room.set(payload(s, size(s)));
    return wal.append(frame);
  });
  await Promise.all(acks.map((a) => a.durable));
  return acks.map((a) => a.position);
}

/** One append at a time, each durable before the next: one entry per round, so segments roll where expected. */
async function appendEach(wal: Wal, seeds: number[], size: number): Promise<number[]> {
  const out: number[] = [];
  for (const s of seeds) out.push(...(await appendAll(wal, [s], () => size)));
  return out;
}

async function readAll(wal: Wal): Promise<{ position: number; payload: Uint8Array }[]> {
  const out = [];
  for await (const e of wal.entries()) out.push(e);
  return out;
}

test('frames round-trip through close and reopen, in position order', async () => {
  const { dir, cleanup } = tempDir('wal-');
  try {
    const seeds = Array.from({ length: 40 }, (_, i) => i + 1);
    const wal = await Wal.open({ dir });
    const positions = await appendAll(wal, seeds);
    assert.deepEqual(positions, positions.slice().sort((a, b) => a - b));
    assert.equal(new Set(positions).size, positions.length);
    await wal.close();
    const again = await Wal.open({ dir });
    const got = await readAll(again);
    assert.deepEqual(got.map((e) => e.position), positions);
    got.forEach((e, k) => assert.deepEqual(e.payload, payload(seeds[k], 10 + (seeds[k] % 50) * 7), `entry ${k}`));
    assert.equal(again.recovery.truncatedBytes, 0);
    await again.close();
  } finally {
    cleanup();
  }
});

test('concurrent appends share write + fsync rounds (group commit)', async () => {
  const { dir, cleanup } = tempDir('wal-');
  try {
    const wal = await Wal.open({ dir });
    await appendAll(wal, Array.from({ length: 200 }, (_, i) => i));
    // The first append starts a round at once; the other 199 queue behind its fsync and go together.
    assert.ok(wal.groups <= 3, `200 concurrent appends took ${wal.groups} fsync rounds`);
    await wal.close();
  } finally {
    cleanup();
  }
});

for (const damage of ['truncate', 'garble', 'zeros'] as const) {
  test(`a ${damage}d tail is cut back to the last whole entry, and positions keep rising`, async () => {
    const { dir, cleanup } = tempDir('wal-');
    try {
      const wal = await Wal.open({ dir });
      const positions = await appendEach(wal, [1, 2, 3, 4, 5], 1000);
      await wal.close();
      const file = wal.segmentFiles().at(-1)!;
      const size = (await fs.stat(file)).size;
      if (damage === 'truncate') await fs.truncate(file, size - 300);
      else if (damage === 'garble') {
        const fh = await fs.open(file, 'r+');
        await fh.write(Buffer.from([0xde, 0xad, 0xbe, 0xef]), 0, 4, size - 500);
        await fh.close();
      } else await fs.appendFile(file, Buffer.alloc(4096));
      const again = await Wal.open({ dir });
      const got = await readAll(again);
      const kept = damage === 'zeros' ? 5 : 4;
      assert.deepEqual(got.map((e) => e.position), positions.slice(0, kept));
      got.forEach((e, k) => assert.deepEqual(e.payload, payload(k + 1, 1000)));
      assert.ok(again.recovery.truncatedBytes > 0);
      // The damaged segment was cut at the last whole entry: reading it again finds no tail.
      const r = await readSegment(file);
      assert.equal(r.tornBytes, 0);
      assert.equal(r.entries.length, kept);
      const next = await appendAll(again, [9]);
      assert.ok(next[0] > positions[kept - 1], `new position ${next[0]} after ${positions[kept - 1]}`);
      await again.close();
      const third = await Wal.open({ dir });
      assert.deepEqual((await readAll(third)).map((e) => e.position), [...positions.slice(0, kept), next[0]]);
      await third.close();
    } finally {
      cleanup();
    }
  });
}

test('a segment whose header never became durable is dropped; damage in a closed segment is an error', async () => {
  const { dir, cleanup } = tempDir('wal-');
  try {
    const wal = await Wal.open({ dir, segmentBytes: 4096 });
    const positions = await appendEach(wal, Array.from({ length: 30 }, (_, i) => i), 500);
    await wal.close();
    const files = wal.segmentFiles();
    assert.ok(files.length >= 3, `${files.length} segments`);
    // A half-written header after the last segment, as a crash during a segment roll leaves it.
    const torn = path.join(dir, '9999999999999999.wal');
    await fs.writeFile(torn, Buffer.from('SLWAL'));
    const again = await Wal.open({ dir, segmentBytes: 4096 });
    assert.deepEqual((await readAll(again)).map((e) => e.position), positions);
    await again.close();
    await assert.rejects(fs.stat(torn), /ENOENT/);
    // Damage inside a closed (not last) segment: acknowledged entries would be lost, so opening fails.
    const fh = await fs.open(files[0], 'r+');
    await fh.write(Buffer.from([1, 2, 3, 4]), 0, 4, SEGMENT_HEADER_BYTES + 40);
    await fh.close();
    await assert.rejects(Wal.open({ dir, segmentBytes: 4096 }), CorruptLogError);
  } finally {
    cleanup();
  }
});

test('segments are deleted only once every entry in them is committed; the active one stays', async () => {
  const { dir, cleanup } = tempDir('wal-');
  try {
    const wal = await Wal.open({ dir, segmentBytes: 4096 });
    const positions = await appendEach(wal, Array.from({ length: 40 }, (_, i) => i), 500);
    const segments = await Promise.all(wal.segmentFiles().map(readSegment));
    assert.ok(segments.length >= 4);
    const lastOf = segments.map((s) => s.entries.at(-1)?.position ?? -1);
    // Committed up to the middle of the second segment: only the first may go.
    const committed = segments[1].entries[1].position;
    assert.equal(wal.releasable(committed), 1);
    const gone = await wal.release(committed);
    assert.equal(gone.length, 1);
    assert.ok(lastOf[0] <= committed);
    assert.deepEqual((await readAll(wal)).map((e) => e.position), positions.filter((p) => p > lastOf[0]));
    // Everything committed: all but the active segment go.
    await wal.release(positions.at(-1)!);
    assert.equal(wal.segmentFiles().length, 1);
    await wal.close();
    const again = await Wal.open({ dir, segmentBytes: 4096 });
    const next = await appendAll(again, [1]);
    assert.ok(next[0] > positions.at(-1)!, 'positions are not reused after the segments holding them are gone');
    await again.close();
  } finally {
    cleanup();
  }
});
