// One writer per source format, chosen by name.

import type { SourceFormat } from '../../sources/options.js';
import { AvroWriter } from './avro.js';
import { CsvWriter } from './csv.js';
import { InfluxWriter } from './influx.js';
import { JsonlWriter } from './jsonl.js';
import { ParquetWriter } from './parquet.js';
import { PiJsonWriter } from './pi-json.js';
import type { SimWriter, WriterContext } from './types.js';
import { WideCsvWriter } from './wide-csv.js';

export function createWriter(format: SourceFormat, ctx: WriterContext): SimWriter {
  switch (format) {
    case 'csv':
      return new CsvWriter(ctx);
    case 'wide-csv':
      return new WideCsvWriter(ctx);
    case 'jsonl':
      return new JsonlWriter(ctx);
    case 'parquet':
      return new ParquetWriter(ctx);
    case 'avro':
      return new AvroWriter(ctx);
    case 'influx':
      return new InfluxWriter(ctx);
    case 'pi-json':
      return new PiJsonWriter(ctx);
  }
}
