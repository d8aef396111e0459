// Fetches a deletion vector's bytes through Storage and hands them to the kernel's decoder: the one place DVs
// touch I/O. Scans call loadDeletedRows per data file that carries a DV and drop the returned row indexes.

import type { DeletionVectorDescriptor } from '../kernel/actions.js';
import {
  checkDvFileVersion,
  dvBlockLength,
  dvRelativePath,
  parseDvBlock,
  parseInlineDv,
} from '../kernel/deletion-vector.js';
import type { Storage } from './storage.js';
import { CorruptLogError, UnsupportedFeatureError } from '../../errors.js';

/** The row indexes (0-based positions in the data file) that `dv` deletes, strictly ascending. */
export async function loadDeletedRows(storage: Storage, dv: DeletionVectorDescriptor): Promise<Float64Array> {
  if (dv.storageType === 'i') return parseInlineDv(dv);

  const rel = dvRelativePath(dv, storage.root);
  if (rel === null) {
    // Only 'p' gets here: a DV outside the table (another bucket, another host) would need a second Storage.
    throw new UnsupportedFeatureError(
      'deletionVectors',
      `${storage.root}: deletion vector at absolute path ${dv.pathOrInlineDv} lies outside the table; only DV files inside the table root are readable`,
    );
  }
  const offset = dv.offset ?? 0; // the protocol reads an absent offset as 0
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(dv.sizeInBytes) || dv.sizeInBytes < 0) {
    throw new CorruptLogError(`${storage.root}/${rel}: bad DV offset ${offset} or size ${dv.sizeInBytes}`);
  }
  const where = `${storage.root}/${rel} at offset ${offset}`;
  // Two small reads rather than one from byte 0: a DV file can hold many DVs and ours may sit far in.
  const [head, block] = await Promise.all([
    storage.readRange(rel, 0, 1),
    storage.readRange(rel, offset, dvBlockLength(dv)),
  ]);
  checkDvFileVersion(head, `${storage.root}/${rel}`);
  return parseDvBlock(block, dv, where);
}
