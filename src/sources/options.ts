// Options of each source format, as a mapping config file (config.ts) or the API gives them. Defaults match what
// `sensorlake simulate` writes, so a simulated plant backfills with no options at all.

import type { TimeOptions } from './batch.js';

export const FORMATS = ['csv', 'wide-csv', 'jsonl', 'parquet', 'avro', 'influx', 'pi-json'] as const;
export type SourceFormat = (typeof FORMATS)[number];

/** Where each canonical field is found: a column name (or a 0-based index for headerless CSV). */
export interface FieldMap {
  ts?: string | number;
  sensor_id?: string | number;
  value?: string | number;
  quality?: string | number;
  value_text?: string | number;
}
/** quality and value_text are optional by default: used when the input has them. */
export const DEFAULT_FIELDS: Required<Pick<FieldMap, 'ts' | 'sensor_id' | 'value'>> & Pick<FieldMap, 'quality' | 'value_text'> = {
  ts: 'ts',
  sensor_id: 'sensor_id',
  value: 'value',
  quality: 'quality',
  value_text: 'value_text',
};

export interface CsvOptions {
  delimiter?: string; // default ','
  /** Decimal separator of values: '.' (default) or ',' (then the delimiter must not be ','). */
  decimal?: '.' | ',';
  header?: boolean; // default true; without a header, `fields` must give column indexes
  quote?: string; // default '"'
  fields?: FieldMap;
}

export interface WideCsvOptions {
  delimiter?: string;
  decimal?: '.' | ',';
  quote?: string;
  /** The timestamp column (default 'ts', else the first column). Every other column is a tag. */
  tsColumn?: string;
  /** Columns that are neither the timestamp nor tags. */
  exclude?: string[];
}

export interface JsonlOptions {
  /** Dotted paths into each JSON object, e.g. { value: 'reading.v' }. */
  fields?: FieldMap;
}

export interface InfluxOptions {
  /** How a sensor id is formed; placeholders {measurement}, {field} and {tag:NAME}. Default '{measurement}/{field}'. */
  sensorId?: string;
}

export interface PiWebOptions {
  /**
   * The sensor id when the file does not name one (a recorded-values response carries no tag name):
   * default is the file name without extensions. A top-level "Name", "Path" or "WebId" wins when present.
   */
  sensorId?: string;
}

export interface ColumnarOptions {
  /** Column names in Parquet or Avro records. */
  fields?: FieldMap;
}

/** Maps quality words or numbers a historian writes onto good / uncertain / bad (extends the built-in names). */
export interface QualityOptions {
  map?: Record<string, 'good' | 'uncertain' | 'bad'>;
}

export interface SourceConfig {
  format?: SourceFormat;
  time?: TimeOptions;
  quality?: QualityOptions;
  csv?: CsvOptions;
  wideCsv?: WideCsvOptions;
  jsonl?: JsonlOptions;
  influx?: InfluxOptions;
  piWeb?: PiWebOptions;
  parquet?: ColumnarOptions;
  avro?: ColumnarOptions;
  batchRows?: number;
}
