// `sensorlake serve --lake DIR`: opens the durable ingest core, serves the HTTP front end on it, prints the URL, and on
// SIGTERM/SIGINT stops accepting, finishes in-flight requests, commits what is buffered and exits 0.
// Without --tokens it serves unauthenticated, and only on a loopback host (with a warning); see --help.

import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { openIngestor, type Ingestor } from '../ingest/ingestor.js';
import { startInlineAnomalies, type InlineAnomalies } from '../ingest/inline-anomalies.js';
import { buildServer, DEFAULT_BODY_LIMIT } from '../ingest/http/server.js';
import { TokenStore } from '../ingest/http/tokens.js';
import { startCompactor, type Compactor } from '../ingest/compaction.js';
import { registerCompactionMetrics } from '../ingest/compaction-metrics.js';
import { InvalidArgumentError } from '../errors.js';
import { out } from './output.js';
import { wholeNumber } from './flags.js';

interface Flags {
  lake: string;
  port: string;
  host: string;
  tokens?: string;
  tlsCert?: string;
  tlsKey?: string;
  commitRows?: string;
  commitMs?: string;
  bufferRows?: string;
  bodyLimit?: string;
  serverId?: string;
  decodeWorkers?: string;
  fsync: boolean;
  compaction: boolean;
  inlineAnomalies: boolean;
  compactGrace?: string;
  compactClosedFiles?: string;
  compactOpenFiles?: string;
  json?: boolean;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1 << 20, gib: 1 << 30 };

/** "16MiB", "512KiB", "1MB", "1048576". */
export function parseBytes(v: string, name: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? BYTE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) * unit < 1) throw new InvalidArgumentError(`${name} '${v}': expected a size such as 16MiB, 512KiB or 1048576`);
  return Math.floor(Number(m[1]) * unit);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve live ingest over HTTP: POST readings, exactly once into the lake; read back, metrics, OpenAPI')
    .requiredOption('--lake <dir>', 'lake directory (tables readings, sensors, quarantine)')
    .option('--port <n>', 'TCP port; 0 picks a free one (printed)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--tokens <file>', 'bearer token file (sensorlake token create); required unless the host is loopback')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key')
    .option('--commit-rows <n>', 'commit a micro-batch at this many buffered rows (default 500000)')
    .option('--commit-ms <ms>', 'or when the oldest buffered row is this old (default 1000)')
    .option('--buffer-rows <n>', 'acknowledged-but-uncommitted rows above which writes get 429 (default 2000000)')
    .option('--body-limit <size>', `largest request body, e.g. 16MiB (default ${DEFAULT_BODY_LIMIT} bytes); larger gets 413`)
    .option('--decode-workers <n>', 'worker threads decoding request bodies (default 0: on the main thread, the faster choice on 2 cores)')
    .option('--server-id <id>', 'names this server in Delta txn ids and its WAL directory (default derived from the lake)')
    .option('--no-compaction', 'do not compact readings in the background (run sensorlake table optimize yourself)')
    .option('--no-inline-anomalies', 'do not judge committed readings for anomalies as they arrive (into the anomalies table)')
    .option('--compact-grace <minutes>', 'a day partition counts as closed this long after midnight UTC (default 60)')
    .option('--compact-closed-files <n>', 'compact a closed partition once it holds this many small files (default 16)')
    .option('--compact-open-files <n>', 'compact the open partition once it holds this many small files (default 300)')
    .addOption(new Option('--no-fsync', 'skip fsync of the WAL (benchmarks only: acknowledged data can be lost)').hideHelp())
    .option('--json', 'print { url } as one JSON line once listening')
    .addHelpText(
      'after',
      '\nAuthentication: every route but /healthz needs "Authorization: Bearer <secret>" with the route\'s scope (ingest,\n' +
        'read or admin). Without --tokens the server is open to anyone who can reach it, so it refuses to start on a\n' +
        'non-loopback --host and warns on loopback.\n' +
        'Signals: SIGTERM or SIGINT stop accepting, finish requests in flight, commit buffered rows, exit 0.\n' +
        'Exit codes: 0 stopped cleanly, 1 failed (e.g. WAL recovery), 2 bad usage.',
    )
    .action(async (o: Flags) => {
      const port = wholeNumber(o.port, '--port', 0)!;
      if (port > 65535) throw new InvalidArgumentError(`--port ${port}: at most 65535`);
      if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new InvalidArgumentError('--tls-cert and --tls-key go together');
      let tokens: TokenStore | null = null;
      if (o.tokens !== undefined) {
        tokens = new TokenStore(o.tokens);
        if (tokens.size === 0) process.stderr.write(`sensorlake serve: warning: ${o.tokens} holds no tokens yet; every request but /healthz gets 401 until one is created\n`);
      } else if (!isLoopback(o.host)) {
        throw new InvalidArgumentError(`--host ${o.host} is reachable from other machines: give --tokens FILE (create one with sensorlake token create)`);
      } else {
        process.stderr.write('sensorlake serve: warning: no --tokens, so authentication is off; anyone on this machine can write and read\n');
      }
      const grace = wholeNumber(o.compactGrace, '--compact-grace', 0);
      const policy = {
        graceMs: grace === undefined ? undefined : grace * 60_000,
        minSmallFiles: wholeNumber(o.compactClosedFiles, '--compact-closed-files', 2),
        openMaxSmallFiles: wholeNumber(o.compactOpenFiles, '--compact-open-files', 2),
      };
      const https = o.tlsCert ? { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey!) } : undefined;

      const opening = openIngestor({
        lake: o.lake,
        serverId: o.serverId,
        commitRows: wholeNumber(o.commitRows, '--commit-rows'),
        commitMs: wholeNumber(o.commitMs, '--commit-ms'),
        bufferRows: wholeNumber(o.bufferRows, '--buffer-rows'),
        fsync: o.fsync,
      });
      opening.catch(() => undefined); // awaited below; the server reports it on /readyz meanwhile
      const { app, metrics } = await buildServer({
        lake: o.lake,
        ingest: opening,
        tokens,
        bodyLimit: o.bodyLimit === undefined ? undefined : parseBytes(o.bodyLimit, '--body-limit'),
        https,
        decodeWorkers: wholeNumber(o.decodeWorkers, '--decode-workers', 0),
      });
      const stopped = waitForSignal();
      let ingest: Ingestor;
      let compactor: Compactor | null = null;
      let inline: InlineAnomalies | null = null;
      try {
        await app.listen({ port, host: o.host });
        const url = listeningUrl(app.server.address() as AddressInfo, !!https);
        out(o.json ? JSON.stringify({ url }) : `sensorlake serve: listening on ${url}`);
        ingest = await opening;
        if (o.compaction) {
          compactor = startCompactor(o.lake, policy, { ingest });
          registerCompactionMetrics(metrics.registry, compactor.stats);
        }
        if (o.inlineAnomalies) inline = await startInlineAnomalies({ lake: o.lake, ingest, registry: metrics.registry });
      } catch (e) {
        await app.close();
        await compactor?.stop();
        await opening.then((i) => i.close()).catch(() => undefined);
        throw e;
      }
      const signal = await stopped;
      process.stderr.write(`sensorlake serve: ${signal}: finishing requests in flight and committing buffered rows\n`);
      await app.close(); // stops accepting, waits for requests in flight
      await compactor?.stop(); // lets an optimize in progress commit
      await inline?.stop(); // writes what it flagged; commits after this are judged at the next start
      await ingest.close(); // commits what is buffered, closes the WAL
      const s = ingest.stats;
      process.stderr.write(`sensorlake serve: stopped; ${s.rowsIngested} readings and ${s.rowsQuarantined} quarantined records acknowledged since start, committed to position ${s.committedPosition}\n`);
      // Everything is committed: should some library keep a handle open, do not hang on it.
      setTimeout(() => process.exit(process.exitCode ?? 0), 5000).unref();
    });
}

/** Resolves with the first SIGTERM or SIGINT; a second one exits at once (the WAL keeps what was acknowledged). */
function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const on = (sig: NodeJS.Signals): void => {
      if (seen) {
        process.stderr.write(`sensorlake serve: second ${sig}: exiting now; acknowledged rows are replayed from the WAL on the next start\n`);
        process.exit(1);
      }
      seen = true;
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

function listeningUrl(addr: AddressInfo, tls: boolean): string {
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `${tls ? 'https' : 'http'}://${host}:${addr.port}`;
}
