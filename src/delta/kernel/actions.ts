// Delta log actions as the protocol defines them, and their NDJSON form in commit files.
// Pure: parsing and serialising only. Unknown action kinds and fields are kept aside, never an error.

import { CorruptLogError } from '../../errors.js';

export interface Protocol {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface Format {
  provider: string;
  options: Record<string, string>;
}

export interface Metadata {
  id: string;
  name?: string | null;
  description?: string | null;
  format: Format;
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime?: number | null;
}

export interface DeletionVectorDescriptor {
  storageType: 'u' | 'i' | 'p';
  pathOrInlineDv: string;
  offset?: number | null;
  sizeInBytes: number;
  cardinality: number;
}

export interface Add {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: DeletionVectorDescriptor | null;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
  clusteringProvider?: string | null;
}

export interface Remove {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean | null;
  partitionValues?: Record<string, string | null> | null;
  size?: number | null;
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: DeletionVectorDescriptor | null;
  baseRowId?: number | null;
  defaultRowCommitVersion?: number | null;
}

export interface Txn {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}

export interface CommitInfo {
  timestamp?: number;
  operation?: string;
  operationParameters?: Record<string, unknown>;
  operationMetrics?: Record<string, unknown>;
  isBlindAppend?: boolean;
  engineInfo?: string;
  readVersion?: number;
  [key: string]: unknown;
}

export interface DomainMetadata {
  domain: string;
  configuration: string;
  removed: boolean;
}

export type Action =
  | { protocol: Protocol }
  | { metaData: Metadata }
  | { add: Add }
  | { remove: Remove }
  | { txn: Txn }
  | { commitInfo: CommitInfo }
  | { domainMetadata: DomainMetadata }
  | { cdc: Record<string, unknown> }
  | { checkpointMetadata: Record<string, unknown> }
  | { sidecar: Record<string, unknown> };

/** A file's identity in the table state: its path plus its deletion vector, if any. */
export function fileKey(path: string, dv?: DeletionVectorDescriptor | null): string {
  if (!dv) return path;
  return `${path}#${dv.storageType}${dv.pathOrInlineDv}@${dv.offset ?? ''}`;
}

const KNOWN = new Set([
  'protocol',
  'metaData',
  'add',
  'remove',
  'txn',
  'commitInfo',
  'domainMetadata',
  'cdc',
  'checkpointMetadata',
  'sidecar',
]);

/** Parses one commit file (NDJSON). `where` names the file in errors. */
export function parseCommit(text: string, where: string): Action[] {
  const actions: Action[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new CorruptLogError(`${where}: line ${i + 1} is not valid JSON: ${(e as Error).message}`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new CorruptLogError(`${where}: line ${i + 1} is not a JSON object`);
    }
    const keys = Object.keys(obj);
    const kind = keys.find((k) => KNOWN.has(k));
    if (kind === undefined) continue; // unknown action kinds are ignored, as the protocol asks
    actions.push(obj as Action);
  }
  return actions;
}

/** Serialises actions as a commit file body: one JSON object per line. */
export function serializeCommit(actions: Action[]): string {
  return actions.map((a) => JSON.stringify(a)).join('\n') + '\n';
}

export function commitFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.json`;
}

export function checkpointFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.checkpoint.parquet`;
}
