// The Delta schema (Spark's JSON struct form), its mapping to Arrow types, and the schema rules of
// writes: enforcement (types must match) and opt-in evolution (new nullable columns). Pure.

import * as arrow from 'apache-arrow';
import { SchemaMismatchError, UnsupportedFeatureError, CorruptLogError } from '../../errors.js';

export type PrimitiveType =
  | 'string'
  | 'long'
  | 'integer'
  | 'short'
  | 'byte'
  | 'float'
  | 'double'
  | 'boolean'
  | 'binary'
  | 'date'
  | 'timestamp'
  | 'timestamp_ntz'
  | `decimal(${number},${number})`;

export interface StructType {
  type: 'struct';
  fields: StructField[];
}
export interface ArrayType {
  type: 'array';
  elementType: DataType;
  containsNull: boolean;
}
export interface MapType {
  type: 'map';
  keyType: DataType;
  valueType: DataType;
  valueContainsNull: boolean;
}
export type DataType = PrimitiveType | StructType | ArrayType | MapType;

export interface StructField {
  name: string;
  type: DataType;
  nullable: boolean;
  metadata: Record<string, unknown>;
}

export function parseSchema(schemaString: string, where = 'metaData.schemaString'): StructType {
  if (typeof schemaString !== 'string') throw new CorruptLogError(`${where}: missing; the metaData action has no schema`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(schemaString);
  } catch (e) {
    throw new CorruptLogError(`${where}: not valid JSON: ${(e as Error).message}`);
  }
  const s = parsed as StructType;
  if (!s || s.type !== 'struct' || !Array.isArray(s.fields)) {
    throw new CorruptLogError(`${where}: not a struct type`);
  }
  return s;
}

export function field(name: string, type: DataType, nullable = true, metadata: Record<string, unknown> = {}): StructField {
  return { name, type, nullable, metadata };
}

export function struct(fields: StructField[]): StructType {
  return { type: 'struct', fields };
}

export function typeName(t: DataType): string {
  if (typeof t === 'string') return t;
  if (t.type === 'struct') return `struct<${t.fields.map((f) => `${f.name}:${typeName(f.type)}`).join(',')}>`;
  if (t.type === 'array') return `array<${typeName(t.elementType)}>`;
  return `map<${typeName(t.keyType)},${typeName(t.valueType)}>`;
}

const DECIMAL = /^decimal\((\d+),\s*(\d+)\)$/;

/** The Arrow type our files and scans use for a Delta type. Strings come out dictionary-encoded only on write. */
export function toArrowType(t: DataType): arrow.DataType {
  if (typeof t === 'string') {
    switch (t) {
      case 'string':
        return new arrow.Utf8();
      case 'long':
        return new arrow.Int64();
      case 'integer':
        return new arrow.Int32();
      case 'short':
        return new arrow.Int16();
      case 'byte':
        return new arrow.Int8();
      case 'float':
        return new arrow.Float32();
      case 'double':
        return new arrow.Float64();
      case 'boolean':
        return new arrow.Bool();
      case 'binary':
        return new arrow.Binary();
      case 'date':
        return new arrow.DateDay();
      case 'timestamp':
        return new arrow.TimestampMicrosecond('UTC');
      case 'timestamp_ntz':
        return new arrow.TimestampMicrosecond();
    }
    const m = DECIMAL.exec(t);
    if (m) return new arrow.Decimal(Number(m[2]), Number(m[1]), 128);
    throw new UnsupportedFeatureError(`type:${t}`, `data type '${t}' is not supported`);
  }
  if (t.type === 'struct') return new arrow.Struct(t.fields.map(toArrowField));
  if (t.type === 'array') return new arrow.List(new arrow.Field('element', toArrowType(t.elementType), t.containsNull));
  return new arrow.Map_(
    new arrow.Field(
      'key_value',
      new arrow.Struct<{ key: arrow.DataType; value: arrow.DataType }>([
        new arrow.Field('key', toArrowType(t.keyType), false),
        new arrow.Field('value', toArrowType(t.valueType), t.valueContainsNull),
      ]),
      false,
    ),
  );
}

export function toArrowField(f: StructField): arrow.Field {
  return new arrow.Field(f.name, toArrowType(f.type), f.nullable);
}

export function toArrowSchema(s: StructType): arrow.Schema {
  return new arrow.Schema(s.fields.map(toArrowField));
}

/** The Delta type of an Arrow type, for creating tables from data and for checking writes. */
export function fromArrowType(t: arrow.DataType, where: string): DataType {
  if (arrow.DataType.isDictionary(t)) return fromArrowType(t.dictionary, where);
  if (arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t)) return 'string';
  if (arrow.DataType.isBool(t)) return 'boolean';
  if (arrow.DataType.isBinary(t) || arrow.DataType.isLargeBinary(t)) return 'binary';
  if (arrow.DataType.isInt(t)) {
    if (!t.isSigned) throw new SchemaMismatchError(`${where}: unsigned integers have no Delta type`);
    return ({ 8: 'byte', 16: 'short', 32: 'integer', 64: 'long' } as const)[t.bitWidth];
  }
  if (arrow.DataType.isFloat(t)) {
    if (t.precision === arrow.Precision.SINGLE) return 'float';
    if (t.precision === arrow.Precision.DOUBLE) return 'double';
    throw new SchemaMismatchError(`${where}: half floats have no Delta type`);
  }
  if (arrow.DataType.isDate(t)) return 'date';
  if (arrow.DataType.isTimestamp(t)) return t.timezone ? 'timestamp' : 'timestamp_ntz';
  if (arrow.DataType.isDecimal(t)) return `decimal(${t.precision},${t.scale})`;
  if (arrow.DataType.isStruct(t)) {
    return struct(t.children.map((c) => field(c.name, fromArrowType(c.type, `${where}.${c.name}`), c.nullable)));
  }
  if (arrow.DataType.isList(t)) {
    const c = t.children[0];
    return { type: 'array', elementType: fromArrowType(c.type, `${where}[]`), containsNull: c.nullable };
  }
  if (arrow.DataType.isMap(t)) {
    const [k, v] = t.children[0].type.children;
    return {
      type: 'map',
      keyType: fromArrowType(k.type, `${where}.key`),
      valueType: fromArrowType(v.type, `${where}.value`),
      valueContainsNull: v.nullable,
    };
  }
  throw new SchemaMismatchError(`${where}: Arrow type ${String(t)} has no Delta type`);
}

export function fromArrowSchema(s: arrow.Schema): StructType {
  return struct(s.fields.map((f) => field(f.name, fromArrowType(f.type, f.name), f.nullable)));
}

function sameType(a: DataType, b: DataType): boolean {
  if (typeof a === 'string' || typeof b === 'string') {
    return typeof a === 'string' && typeof b === 'string' && a.replace(/\s/g, '') === b.replace(/\s/g, '');
  }
  if (a.type !== b.type) return false;
  if (a.type === 'struct' && b.type === 'struct') {
    return a.fields.length === b.fields.length && a.fields.every((f, i) => f.name === b.fields[i].name && sameType(f.type, b.fields[i].type));
  }
  if (a.type === 'array' && b.type === 'array') return sameType(a.elementType, b.elementType);
  if (a.type === 'map' && b.type === 'map') return sameType(a.keyType, b.keyType) && sameType(a.valueType, b.valueType);
  return false;
}

export interface SchemaCheck {
  /** The table schema after the write: the same object when nothing changed. */
  schema: StructType;
  /** Columns added by mergeSchema. */
  added: string[];
}

/**
 * Checks data about to be written against the table schema. Every data column must exist in the table with the same
 * type (or, with mergeSchema, be new and then nullable); table columns missing from the data must be nullable and are
 * written as nulls. Throws before anything is written.
 */
export function checkWriteSchema(table: StructType, data: StructType, opts: { mergeSchema: boolean; table: string }): SchemaCheck {
  const byName = new Map(table.fields.map((f) => [f.name.toLowerCase(), f]));
  const added: StructField[] = [];
  for (const d of data.fields) {
    const t = byName.get(d.name.toLowerCase());
    if (!t) {
      if (!opts.mergeSchema) {
        throw new SchemaMismatchError(
          `${opts.table}: column '${d.name}' (${typeName(d.type)}) is not in the table schema; pass mergeSchema to add it`,
        );
      }
      added.push({ ...d, nullable: true });
      continue;
    }
    if (t.name !== d.name) {
      throw new SchemaMismatchError(`${opts.table}: column '${d.name}' differs in case from the table's '${t.name}'`);
    }
    if (!sameType(t.type, d.type)) {
      throw new SchemaMismatchError(
        `${opts.table}: column '${d.name}' expects type ${typeName(t.type)} but the data has ${typeName(d.type)}`,
      );
    }
  }
  const dataNames = new Set(data.fields.map((f) => f.name.toLowerCase()));
  for (const t of table.fields) {
    if (!dataNames.has(t.name.toLowerCase()) && !t.nullable) {
      throw new SchemaMismatchError(`${opts.table}: non-nullable column '${t.name}' (${typeName(t.type)}) is missing from the data`);
    }
  }
  if (added.length === 0) return { schema: table, added: [] };
  return { schema: struct([...table.fields, ...added]), added: added.map((f) => f.name) };
}
