// `sensorlake ingest mqtt --url URL --topic FILTER --lake DIR`: opens the durable ingest core on the lake, runs the MQTT
// front end on it until SIGINT/SIGTERM, then commits what is buffered and prints a summary. Exit codes: 0 ok, 3 stopped
// after records were quarantined, 1 failed (broker refused us, the core failed), 2 bad usage.

import { Command, Option } from 'commander';
import { pino, type DestinationStream, type Logger } from 'pino';
import { openIngestor } from '../ingest/ingestor.js';
import { startInlineAnomalies, type InlineAnomalies } from '../ingest/inline-anomalies.js';
import { startMqttIngest, subscriptionTopics, type MqttIngest } from '../ingest/mqtt/client.js';
import { PAYLOAD_FORMATS, type PayloadFormat } from '../ingest/mqtt/decode.js';
import type { JsonPayloadOptions } from '../ingest/mqtt/json-payload.js';
import { defaultClientId, defaultStateDir, DEFAULT_SESSION_EXPIRY_SECONDS } from '../ingest/mqtt/options.js';
import { loadMappingConfig } from '../sources/config.js';
import type { FieldMap } from '../sources/options.js';
import { InvalidArgumentError } from '../errors.js';
import { finishWith } from './exit.js';
import { out } from './output.js';
import { collect, wholeNumber } from './flags.js';

interface MqttFlags {
  url: string;
  lake: string;
  topic?: string[];
  topicMap?: string[];
  format: PayloadFormat;
  clientId?: string;
  username?: string;
  password?: string;
  config?: string;
  field?: string[];
  commitRows?: string;
  commitMs?: string;
  bufferRows?: string;
  serverId?: string;
  sessionExpiry?: string;
  mqttVersion: '5' | '3.1.1';
  rebirth: boolean;
  inlineAnomalies: boolean;
  statsInterval: string;
  json?: boolean;
}

const FIELD_NAMES = ['ts', 'sensor_id', 'value', 'value_text', 'quality'] as const;

function fieldFlags(specs: string[] = []): FieldMap {
  const fields: FieldMap = {};
  for (const s of specs) {
    const eq = s.indexOf('=');
    const name = s.slice(0, eq) as (typeof FIELD_NAMES)[number];
    if (eq <= 0 || eq === s.length - 1 || !FIELD_NAMES.includes(name)) {
      throw new InvalidArgumentError(`--field '${s}': expected NAME=PATH with NAME one of ${FIELD_NAMES.join(', ')}, e.g. --field value=reading.v`);
    }
    fields[name] = s.slice(eq + 1);
  }
  return fields;
}

const HELP = `
Payloads (--format json, or auto on topics outside spBv1.0/):
  A JSON object, an array of objects, or NDJSON (one object per line), read like the JSON Lines source: fields
  ts, sensor_id, value, value_text, quality (paths: --field NAME=PATH or --config FILE with jsonl.fields, time,
  quality). A bare JSON value (21.5, "OPEN", true) is a reading of the topic's sensor.
  No sensor_id: the --topic-map rules name it, else the topic is the sensor_id.
  No ts: the time the message arrived (UTC, ms). Only messages that carry ts are exactly once across a crash: a
  redelivered ts-less message gets a new arrival time.
  A payload that is not JSON at all is acknowledged and quarantined whole (reason malformed_record).

Topic map (--topic-map 'PATTERN=>TEMPLATE', repeatable, first match wins):
  PATTERN is a topic filter whose levels may be {name} (one level, captured), + (one level) or a final #.
  TEMPLATE uses {name} and {topic}. Without --topic, the patterns are subscribed.
    --topic-map 'plant/{site}/{line}/{sensor}=>{site}.{line}.{sensor}'
    payload {"ts":"2024-05-01T12:00:00Z","value":71.3} on plant/north/l1/temp -> sensor_id north.l1.temp

Sparkplug B (--format sparkplug, or auto on spBv1.0/...; default topic spBv1.0/#):
  sensor_id is <group>/<edge>[/<device>]/<metric name>; aliases in NDATA/DDATA resolve through the last NBIRTH/DBIRTH
  (kept in <lake>/_sensorlake/mqtt/<client id>/ across restarts). ts: metric timestamp, else payload timestamp.
  Numbers -> value; Boolean -> value 1/0 and value_text true/false; String/Text/UUID -> value_text; DateTime -> ISO
  value_text; Template instances -> one sensor per member (<metric>/<member>); is_null -> a row with no value and
  quality bad; is_historical metrics are stored like any other (counted as historical); is_transient are not stored;
  bdSeq and Node Control/* are not readings. An alias no BIRTH defined is quarantined (missing_sensor_id) and the
  edge node is asked to rebirth (NCMD Node Control/Rebirth; --no-rebirth to never publish).

Delivery: QoS 1 subscriptions in a persistent session (clean start off, session expiry --session-expiry) under a
stable client id; the PUBACK is sent only once the message's records are fsync'd in the ingest WAL, so a crash
loses nothing the broker still holds. When the core's buffer is full the PUBACK is held back and the submit retried.
Credentials: --username/--password, or SENSORLAKE_MQTT_USERNAME / SENSORLAKE_MQTT_PASSWORD (kept out of ps).

Stops on SIGINT or SIGTERM: commits what is buffered, prints a summary (--json: one JSON object).
Exit codes: 0 ok, 3 stopped after some records were quarantined, 1 failed (broker refused, ingest core failed),
2 bad usage.`;

export function ingestCommand(): Command {
  return new Command('ingest').description('stream live readings into the lake, exactly once through a write-ahead log').addCommand(mqttCommand());
}

function mqttCommand(): Command {
  return new Command('mqtt')
    .description('subscribe to an MQTT broker (JSON or Sparkplug B payloads) and ingest into the lake')
    .requiredOption('--url <url>', 'broker URL, e.g. mqtt://127.0.0.1:1883 (mqtts://, ws://, wss:// too)')
    .requiredOption('--lake <dir>', 'lake directory (tables readings, sensors, quarantine)')
    .option('--topic <filter>', 'topic filter to subscribe to at QoS 1 (repeat for more)', collect)
    .option('--topic-map <rule>', "PATTERN=>TEMPLATE naming the sensor of payloads without sensor_id (repeat; see below)", collect)
    .addOption(new Option('--format <format>', 'payload format').choices(PAYLOAD_FORMATS).default('auto'))
    .option('--client-id <id>', 'MQTT client id; keep it stable, the broker keeps the session under it (default: from host and lake)')
    .option('--username <name>', 'broker user (or SENSORLAKE_MQTT_USERNAME)')
    .option('--password <password>', 'broker password (or SENSORLAKE_MQTT_PASSWORD)')
    .option('--config <file>', 'mapping config (.json/.yaml): jsonl.fields, time, quality, as for backfill')
    .option('--field <name=path>', 'JSON path of a field, e.g. value=reading.v (repeat; wins over --config)', collect)
    .option('--commit-rows <n>', 'commit a micro-batch at this many rows (default 500000)')
    .option('--commit-ms <ms>', 'or when the oldest buffered row is this old (default 1000)')
    .option('--buffer-rows <n>', 'acknowledged but uncommitted rows above which PUBACKs wait (default 2000000)')
    .option('--server-id <id>', 'names the WAL and the txn appId (default: from the lake path)')
    .option('--session-expiry <seconds>', `how long the broker keeps our session while we are away (default ${DEFAULT_SESSION_EXPIRY_SECONDS}, 7 days)`)
    .addOption(new Option('--mqtt-version <version>', 'protocol version').choices(['5', '3.1.1']).default('5'))
    .option('--no-rebirth', 'never publish Sparkplug rebirth requests')
    .option('--no-inline-anomalies', 'do not judge committed readings for anomalies as they arrive (into the anomalies table)')
    .option('--stats-interval <seconds>', 'log counters this often (0: never)', '10')
    .option('--json', 'logs on stderr and the summary on stdout as JSON')
    .addHelpText('after', HELP)
    .action(async (o: MqttFlags) => {
      const log = makeLogger(o.json === true);
      // Every flag is checked before the lake is opened.
      subscriptionTopics({ topics: o.topic, topicMap: o.topicMap, format: o.format });
      const tuning = { commitRows: wholeNumber(o.commitRows, '--commit-rows'), commitMs: wholeNumber(o.commitMs, '--commit-ms'), bufferRows: wholeNumber(o.bufferRows, '--buffer-rows') };
      const sessionExpirySeconds = wholeNumber(o.sessionExpiry, '--session-expiry', 0);
      const config = o.config ? await loadMappingConfig(o.config) : {};
      const json: JsonPayloadOptions = { fields: { ...config.jsonl?.fields, ...fieldFlags(o.field) }, time: config.time, quality: config.quality };
      const clientId = o.clientId ?? defaultClientId(o.lake);
      const statsSeconds = Number(o.statsInterval);
      if (o.statsInterval.trim() === '' || !Number.isFinite(statsSeconds) || statsSeconds < 0) throw new InvalidArgumentError(`--stats-interval '${o.statsInterval}': expected seconds >= 0`);
      const ingest = await openIngestor({ lake: o.lake, serverId: o.serverId, ...tuning });
      ingest.onCommit((c) => log.info({ version: c.version, rows: c.rows, dates: c.dates }, 'committed'));
      let mqtt: MqttIngest;
      let inline: InlineAnomalies | null = null;
      try {
        if (o.inlineAnomalies) inline = await startInlineAnomalies({ lake: o.lake, ingest, logger: log });
        mqtt = await startMqttIngest(ingest, {
          url: o.url,
          topics: o.topic,
          clientId,
          username: o.username ?? process.env.SENSORLAKE_MQTT_USERNAME,
          password: o.password ?? process.env.SENSORLAKE_MQTT_PASSWORD,
          format: o.format,
          topicMap: o.topicMap,
          json,
          stateDir: defaultStateDir(o.lake, clientId),
          sessionExpirySeconds,
          protocolVersion: o.mqttVersion === '5' ? 5 : 4,
          rebirth: o.rebirth,
          statsIntervalMs: Math.round(statsSeconds * 1000),
          logger: log,
        });
      } catch (e) {
        await inline?.stop();
        await ingest.close();
        throw e;
      }
      let failure: unknown = null;
      const signal = await new Promise<string | null>((resolve) => {
        const on = (s: string) => () => resolve(s);
        process.once('SIGINT', on('SIGINT'));
        process.once('SIGTERM', on('SIGTERM'));
        mqtt.finished.then(
          () => resolve(null),
          (e: unknown) => {
            failure = e;
            resolve(null);
          },
        );
      });
      if (signal) log.info({ signal }, 'stopping: committing what is buffered');
      await mqtt.close();
      await inline?.stop();
      await ingest.close();
      const summary = { clientId, topics: mqtt.topics, ...mqtt.stats, commits: ingest.stats.commits, rowsCommitted: ingest.stats.rowsCommitted, duplicates: ingest.stats.duplicates };
      if (o.json) out(JSON.stringify(summary));
      else {
        out(`mqtt ingest ${clientId}: ${summary.messages} messages, ${summary.acked} acknowledged, ${summary.readings} readings, ${summary.quarantined} quarantined`);
        if (summary.historical || summary.transient) out(`sparkplug: ${summary.historical} historical readings, ${summary.transient} transient metrics not stored`);
      }
      if (failure) throw failure;
      finishWith(summary.quarantined > 0 ? 3 : 0);
    });
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** pino on stderr: JSON lines with --json, else one readable line per event (`time LEVEL message key=value ...`). */
function makeLogger(json: boolean): Logger {
  const level = process.env.SENSORLAKE_LOG_LEVEL ?? 'info';
  if (json) return pino({ name: 'sensorlake', level }, pino.destination(2));
  const text: DestinationStream = {
    write(line: string) {
      const { level: l, time, msg, pid: _p, hostname: _h, name: _n, ...rest } = JSON.parse(line) as Record<string, unknown>;
      const fields = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      process.stderr.write(`${new Date(time as number).toISOString()} ${LEVELS[l as number] ?? l} ${String(msg)}${fields ? ` ${fields}` : ''}\n`);
    },
  };
  return pino({ name: 'sensorlake', level }, text);
}
