// Which protocol features we can read and write. An allowlist: anything a table lists that is not here is
// refused with an error naming it, because returning rows from a table we do not fully understand is wrong.

import type { Metadata, Protocol } from './actions.js';
import type { StructField, StructType, DataType } from './schema.js';
import { parseSchema } from './schema.js';
import { UnsupportedFeatureError } from '../../errors.js';

/** Reader features whose rules our scan applies. */
const READABLE = new Set(['columnMapping', 'deletionVectors', 'timestampNtz', 'vacuumProtocolCheck', 'v2Checkpoint']);

/** Writer features our writer honours (their rules hold for every commit we make). */
const WRITABLE = new Set([
  'appendOnly',
  'invariants',
  'checkConstraints',
  'changeDataFeed',
  'generatedColumns',
  'identityColumns',
  'timestampNtz',
  'domainMetadata',
  'vacuumProtocolCheck',
]);

export function columnMappingMode(metadata: Metadata): 'none' | 'name' | 'id' {
  const mode = metadata.configuration['delta.columnMapping.mode'] ?? 'none';
  if (mode === 'none' || mode === 'name' || mode === 'id') return mode;
  throw new UnsupportedFeatureError('columnMapping', `column mapping mode '${mode}' is not known`);
}

/** Throws unless we can return correct rows for this table. */
export function checkReadable(protocol: Protocol, where: string): void {
  if (protocol.minReaderVersion > 3) {
    throw new UnsupportedFeatureError(
      `readerVersion${protocol.minReaderVersion}`,
      `${where}: minReaderVersion ${protocol.minReaderVersion} is newer than the protocol versions we read (up to 3)`,
    );
  }
  if (protocol.minReaderVersion === 3) {
    for (const f of protocol.readerFeatures ?? []) {
      if (!READABLE.has(f)) throw new UnsupportedFeatureError(f, `${where}: reader feature '${f}' is not supported`);
    }
  }
}

function walkFields(fields: StructField[], visit: (f: StructField) => void): void {
  const walkType = (t: DataType): void => {
    if (typeof t === 'string') return;
    if (t.type === 'struct') walkFields(t.fields, visit);
    else if (t.type === 'array') walkType(t.elementType);
    else walkType(t.valueType);
  };
  for (const f of fields) {
    visit(f);
    walkType(f.type);
  }
}

function schemaUses(schema: StructType, metadataKeyPrefix: string): string | null {
  let found: string | null = null;
  walkFields(schema.fields, (f) => {
    if (found === null && Object.keys(f.metadata ?? {}).some((k) => k.startsWith(metadataKeyPrefix))) found = f.name;
  });
  return found;
}

function writerFeaturesInUse(protocol: Protocol): string[] {
  if (protocol.minWriterVersion >= 7) return protocol.writerFeatures ?? [];
  // Legacy versions imply a fixed feature set; only the ones a table actually uses constrain a writer.
  const implied: string[] = [];
  const v = protocol.minWriterVersion;
  if (v >= 2) implied.push('appendOnly', 'invariants');
  if (v >= 3) implied.push('checkConstraints');
  if (v >= 4) implied.push('changeDataFeed', 'generatedColumns');
  if (v >= 5) implied.push('columnMapping');
  if (v >= 6) implied.push('identityColumns');
  return implied;
}

export type WriteKind = 'append' | 'overwrite' | 'replaceWhere' | 'compact' | 'metadata';

/** Throws unless our writer keeps every rule of every writer feature this table has and uses. */
export function checkWritable(protocol: Protocol, metadata: Metadata, kind: WriteKind, where: string): void {
  checkReadable(protocol, where);
  const schema = parseSchema(metadata.schemaString);
  const config = metadata.configuration;
  if (config['delta.enableDeletionVectors'] === 'true' || (protocol.writerFeatures ?? []).includes('deletionVectors')) {
    throw new UnsupportedFeatureError(
      'deletionVectors',
      `${where}: deletion vectors are enabled on this table; we read them but do not yet write to such tables`,
    );
  }
  for (const f of writerFeaturesInUse(protocol)) {
    if (protocol.minWriterVersion >= 7 && !WRITABLE.has(f)) {
      throw new UnsupportedFeatureError(f, `${where}: writer feature '${f}' is not supported for writing; this table can be read but not written`);
    }
    switch (f) {
      case 'appendOnly':
        if (config['delta.appendOnly'] === 'true' && (kind === 'overwrite' || kind === 'replaceWhere')) {
          throw new UnsupportedFeatureError(f, `${where}: table is append-only (delta.appendOnly=true); ${kind} would remove data`);
        }
        break;
      case 'invariants': {
        const col = schemaUses(schema, 'delta.invariants');
        if (col) throw new UnsupportedFeatureError(f, `${where}: column '${col}' has a delta.invariants rule, which we do not enforce`);
        break;
      }
      case 'checkConstraints': {
        const c = Object.keys(config).find((k) => k.startsWith('delta.constraints.'));
        if (c) throw new UnsupportedFeatureError(f, `${where}: CHECK constraint '${c}' is set, which we do not enforce`);
        break;
      }
      case 'changeDataFeed':
        if (config['delta.enableChangeDataFeed'] === 'true' && kind !== 'append' && kind !== 'compact') {
          throw new UnsupportedFeatureError(f, `${where}: change data feed is enabled; ${kind} would need change files, which we do not write`);
        }
        break;
      case 'generatedColumns': {
        const col = schemaUses(schema, 'delta.generationExpression');
        if (col) throw new UnsupportedFeatureError(f, `${where}: column '${col}' is a generated column, which we do not compute`);
        break;
      }
      case 'identityColumns': {
        const col = schemaUses(schema, 'delta.identity.');
        if (col) throw new UnsupportedFeatureError(f, `${where}: column '${col}' is an identity column, which we do not generate`);
        break;
      }
      case 'columnMapping':
        if (columnMappingMode(metadata) !== 'none') {
          throw new UnsupportedFeatureError(f, `${where}: column mapping is enabled; we read such tables but do not write them`);
        }
        break;
    }
  }
}
