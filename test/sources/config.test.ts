// Mapping config files: valid JSON and YAML load as written; every class of mistake fails naming file and key path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, NotFoundError } from '../../src/errors.js';
import { loadMappingConfig, validateMappingConfig } from '../../src/sources/config.js';
import { tempDir } from '../helpers.js';

const YAML_TEXT = `
format: csv
time:
  zone: Europe/Berlin
  ambiguous: later
  nonexistent: reject
  epochUnit: ms
quality:
  map: { OK: good, SUSPECT: uncertain, "192": good }
csv:
  delimiter: ";"
  decimal: ","
  fields: { ts: Zeit, sensor_id: 1, value: Wert }
batchRows: 10000
sensors: lists/sensors.csv
partition: month
window: 7d
mode: replace
onConflict: keep-incoming
from: 2024-01-01
to: 2024-02-01T00:00:00Z
jobId: historian-2024
`;

test('a YAML mapping loads with every section, and a relative sensor list resolves next to the file', async () => {
  const t = tempDir('sources-config-');
  try {
    const file = path.join(t.dir, 'mapping.yaml');
    writeFileSync(file, YAML_TEXT);
    const c = await loadMappingConfig(file);
    assert.equal(c.format, 'csv');
    assert.deepEqual(c.time, { zone: 'Europe/Berlin', ambiguous: 'later', nonexistent: 'reject', epochUnit: 'ms' });
    assert.deepEqual(c.quality, { map: { OK: 'good', SUSPECT: 'uncertain', '192': 'good' } });
    assert.deepEqual(c.csv, { delimiter: ';', decimal: ',', fields: { ts: 'Zeit', sensor_id: 1, value: 'Wert' } });
    assert.equal(c.batchRows, 10000);
    assert.equal(c.sensors, path.join(t.dir, 'lists', 'sensors.csv'));
    assert.deepEqual([c.partition, c.window, c.mode, c.onConflict, c.from, c.to, c.jobId], ['month', '7d', 'replace', 'keep-incoming', '2024-01-01', '2024-02-01T00:00:00Z', 'historian-2024']);
  } finally {
    t.cleanup();
  }
});

test('a JSON mapping loads; an empty YAML file is an empty mapping', async () => {
  const t = tempDir('sources-config-');
  try {
    const json = path.join(t.dir, 'm.json');
    writeFileSync(json, JSON.stringify({ format: 'parquet', parquet: { fields: { ts: 'time', value: 'v' } }, avro: { fields: { sensor_id: 'tag' } }, influx: { sensorId: '{tag:site}/{measurement}.{field}' } }));
    assert.deepEqual(await loadMappingConfig(json), { format: 'parquet', parquet: { fields: { ts: 'time', value: 'v' } }, avro: { fields: { sensor_id: 'tag' } }, influx: { sensorId: '{tag:site}/{measurement}.{field}' } });
    const empty = path.join(t.dir, 'empty.yml');
    writeFileSync(empty, '# nothing yet\n');
    assert.deepEqual(await loadMappingConfig(empty), {});
  } finally {
    t.cleanup();
  }
});

// Each mistake with the exact message it must give (file name as passed).
const BAD: [string, unknown, string][] = [
  ['field ref of the wrong type', { csv: { fields: { ts: true } } }, 'mapping.yaml: csv.fields.ts: expected a string or a column index, got true'],
  ['negative column index', { csv: { fields: { value: -1 } } }, 'mapping.yaml: csv.fields.value: expected a string or a column index, got -1'],
  ['unknown top-level key, with a suggestion', { fromat: 'csv' }, "mapping.yaml: fromat: unknown key, did you mean 'format'?"],
  ['unknown nested key', { csv: { delimeter: ';' } }, "mapping.yaml: csv.delimeter: unknown key, did you mean 'delimiter'?"],
  ['unknown field name', { jsonl: { fields: { timestamp: 'a' } } }, 'mapping.yaml: jsonl.fields.timestamp: unknown key'],
  ['bad enum', { format: 'xlsx' }, "mapping.yaml: format: expected one of 'csv', 'wide-csv', 'jsonl', 'parquet', 'avro', 'influx', 'pi-json', got \"xlsx\""],
  ['bad nested enum', { time: { ambiguous: 'first' } }, "mapping.yaml: time.ambiguous: expected one of 'earlier', 'later', 'reject', got \"first\""],
  ['bad backfill enum', { onConflict: 'overwrite' }, "mapping.yaml: onConflict: expected one of 'keep-existing', 'keep-incoming', got \"overwrite\""],
  ['bad zone', { time: { zone: 'Europe/Atlantis' } }, 'mapping.yaml: time.zone: expected an IANA time zone such as Europe/Berlin, got "Europe/Atlantis"'],
  ['delimiter of two characters', { csv: { delimiter: ';;' } }, 'mapping.yaml: csv.delimiter: expected a single character, got ";;"'],
  ['empty delimiter', { wideCsv: { delimiter: '' } }, 'mapping.yaml: wideCsv.delimiter: expected a single character, got ""'],
  ['decimal comma with the default delimiter', { csv: { decimal: ',' } }, "mapping.yaml: csv.decimal: decimal separator ',' is also the delimiter (the default ','); set another delimiter such as ';'"],
  ['decimal comma with a comma delimiter', { wideCsv: { delimiter: ',', decimal: ',' } }, "mapping.yaml: wideCsv.decimal: decimal separator ',' is also the delimiter; set another delimiter such as ';'"],
  ['quote equal to delimiter', { csv: { delimiter: "'", quote: "'" } }, "mapping.yaml: csv.quote: quote and delimiter are both '''"],
  ['headerless CSV with a column name', { csv: { header: false, fields: { ts: 0, sensor_id: 'tag', value: 2 } } }, 'mapping.yaml: csv.fields.sensor_id: expected a column index because header is false, got "tag"'],
  ['headerless CSV without a value column', { csv: { header: false, fields: { ts: 0, sensor_id: 1 } } }, 'mapping.yaml: csv.fields.value: required when header is false (a 0-based column index)'],
  ['a section that is not a mapping', { time: 'UTC' }, 'mapping.yaml: time: expected a mapping, got "UTC"'],
  ['a list item of the wrong type', { wideCsv: { exclude: ['unit', 3] } }, 'mapping.yaml: wideCsv.exclude[1]: expected a non-empty string, got 3'],
  ['a quality word outside good/uncertain/bad', { quality: { map: { OK: 'fine' } } }, "mapping.yaml: quality.map.OK: expected one of 'good', 'uncertain', 'bad', got \"fine\""],
  ['batchRows zero', { batchRows: 0 }, 'mapping.yaml: batchRows: expected a positive integer, got 0'],
  ['batchRows as text', { batchRows: '100' }, 'mapping.yaml: batchRows: expected a positive integer, got "100"'],
  ['a null value', { window: null }, 'mapping.yaml: window: expected a non-empty string, got null'],
  ['a date that is not ISO', { from: '01/02/2024' }, 'mapping.yaml: from: expected an ISO 8601 date or date-time, got "01/02/2024"'],
  ['from after to', { from: '2024-02-01', to: '2024-01-01' }, 'mapping.yaml: to: must be after from (2024-02-01), got "2024-01-01"'],
  ['an unknown influx placeholder', { influx: { sensorId: '{host}/{field}' } }, 'mapping.yaml: influx.sensorId: unknown placeholder {host} (expected {measurement}, {field} or {tag:NAME})'],
  ['a top level that is a list', [1, 2], 'mapping.yaml: expected a mapping, got an array'],
  ['parquet field given as an index', { parquet: { fields: { ts: 0 } } }, 'mapping.yaml: parquet.fields.ts: expected a non-empty string, got 0'],
];

for (const [what, obj, message] of BAD) {
  test(`invalid mapping: ${what}`, () => {
    assert.throws(
      () => validateMappingConfig(obj, 'mapping.yaml'),
      (e: Error) => {
        assert.ok(e instanceof InvalidArgumentError, `${e.name}: ${e.message}`);
        assert.equal(e.message.split(' (expected one of ')[0], message.split(' (expected one of ')[0]);
        return true;
      },
    );
  });
}

test('the unknown-key message lists the keys that are allowed', () => {
  assert.throws(() => validateMappingConfig({ piWeb: { tag: 'x' } }, 'm.yaml'), { message: 'm.yaml: piWeb.tag: unknown key (expected one of sensorId)' });
});

test('files: broken YAML and JSON name the file, a missing file is NotFoundError, other extensions are refused', async () => {
  const t = tempDir('sources-config-');
  try {
    const yaml = path.join(t.dir, 'bad.yaml');
    writeFileSync(yaml, 'csv:\n  delimiter: ";"\n  delimiter: ","\n'); // duplicate key
    await assert.rejects(loadMappingConfig(yaml), (e: Error) => e instanceof InvalidArgumentError && e.message.startsWith(`${yaml}: not valid YAML`));
    const json = path.join(t.dir, 'bad.json');
    writeFileSync(json, '{"format": "csv",}');
    await assert.rejects(loadMappingConfig(json), (e: Error) => e instanceof InvalidArgumentError && e.message.startsWith(`${json}: not valid JSON`));
    const typo = path.join(t.dir, 'typo.yml');
    writeFileSync(typo, 'csv:\n  fields:\n    ts: true\n');
    await assert.rejects(loadMappingConfig(typo), { message: `${typo}: csv.fields.ts: expected a string or a column index, got true` });
    await assert.rejects(loadMappingConfig(path.join(t.dir, 'none.yaml')), NotFoundError);
    writeFileSync(path.join(t.dir, 'm.toml'), '');
    await assert.rejects(loadMappingConfig(path.join(t.dir, 'm.toml')), InvalidArgumentError);
  } finally {
    t.cleanup();
  }
});
