// Log replay: folds actions, oldest first, into the table state of one version. Pure: the caller reads the
// checkpoint and commit files and feeds their actions in order.

import type { Action, Add, DomainMetadata, Metadata, Protocol, Remove, Txn } from './actions.js';
import { fileKey } from './actions.js';
import { decodeAddPath } from './partition-values.js';
import { CorruptLogError } from '../../errors.js';

/** What replay writes into: plain Maps for a full load, change sets for an advance (advance.ts). */
export interface ReplayTarget {
  version: number;
  protocol: Protocol | null;
  metadata: Metadata | null;
  files: MapWriter<Add>;
  tombstones: MapWriter<Remove>;
  txns: MapWriter<Txn>;
  domains: MapWriter<DomainMetadata>;
}

export interface MapWriter<V> {
  set(key: string, value: V): unknown;
  delete(key: string): unknown;
}

/** The state a full load builds in place. */
export interface TableState extends ReplayTarget {
  version: number;
  protocol: Protocol | null;
  metadata: Metadata | null;
  /** Live files by canonical key (decoded path + deletion vector). */
  files: Map<string, Add>;
  tombstones: Map<string, Remove>;
  txns: Map<string, Txn>;
  domains: Map<string, DomainMetadata>;
}

export function emptyState(): TableState {
  return {
    version: -1,
    protocol: null,
    metadata: null,
    files: new Map(),
    tombstones: new Map(),
    txns: new Map(),
    domains: new Map(),
  };
}

/** The key replay uses for a file: the path decoded once, so `a%20b`, `a b` and absolute forms meet. */
export function canonicalFileKey(path: string, dv: Add['deletionVector']): string {
  const decoded = decodeAddPath(path);
  const p = 'relative' in decoded ? decoded.relative : decoded.absolute;
  return fileKey(p, dv);
}

/** Applies one version's actions (a commit, or a whole checkpoint) to the state, in place. */
export function applyActions(state: ReplayTarget, actions: Action[], version: number): void {
  for (const a of actions) {
    if ('add' in a) {
      const key = canonicalFileKey(a.add.path, a.add.deletionVector);
      state.files.set(key, a.add);
      state.tombstones.delete(key);
    } else if ('remove' in a) {
      const key = canonicalFileKey(a.remove.path, a.remove.deletionVector);
      state.files.delete(key);
      state.tombstones.set(key, a.remove);
    } else if ('metaData' in a) {
      state.metadata = a.metaData;
    } else if ('protocol' in a) {
      state.protocol = a.protocol;
    } else if ('txn' in a) {
      state.txns.set(a.txn.appId, a.txn);
    } else if ('domainMetadata' in a) {
      if (a.domainMetadata.removed) state.domains.delete(a.domainMetadata.domain);
      else state.domains.set(a.domainMetadata.domain, a.domainMetadata);
    }
  }
  state.version = version;
}

/** A replayed state must have a protocol and metadata; anything else is a broken log. */
export function requireComplete(state: ReplayTarget, where: string): { protocol: Protocol; metadata: Metadata } {
  if (!state.protocol) throw new CorruptLogError(`${where}: no protocol action found up to version ${state.version}`);
  if (!state.metadata) throw new CorruptLogError(`${where}: no metaData action found up to version ${state.version}`);
  return { protocol: state.protocol, metadata: state.metadata };
}
